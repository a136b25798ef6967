/**
 * Word files in the app: export with the document's comments and the writer's page
 * size, and import as a new document with its comments, in one change. The
 * converters themselves are in src/shared/convert/docx.
 */
import type { AutomergeUrl, Repo } from "@automerge/automerge-repo/slim";
import type { Node as PMNode } from "prosemirror-model";
import type { WriterDocument } from "../../../shared/document";
import { applyDocxImport, commentsForDocx } from "../../../shared/convert/docx/document";
import { toDocx } from "../../../shared/convert/docx/export";
import { DOCX_LIMITS, DocxRefused, describeDocxLeftOut, fromDocx } from "../../../shared/convert/docx/import";
import type { HostClient } from "../hostClient";

export const DOCX_ACCEPT = ".docx,application/vnd.openxmlformats-officedocument.wordprocessingml.document";

export function exportDocx(doc: WriterDocument, pmDoc: PMNode, title: string): Promise<Uint8Array> {
  return toDocx({ doc: pmDoc, title, comments: commentsForDocx(doc, pmDoc), locale: navigator.language });
}

function suggestionCount(doc: PMNode): number {
  const ids = new Set<string>();
  doc.descendants((node) => {
    for (const m of node.marks) if (m.type.name === "insertion" || m.type.name === "deletion" || m.type.name === "format_change") ids.add(`${m.type.name}:${String(m.attrs.id)}`);
  });
  return ids.size;
}

/** Reads the file first: a refused one creates nothing. */
export async function importDocx(file: File, stem: string, host: HostClient, repo: Repo): Promise<{ url: string; title: string; note?: string }> {
  const refuse = (why: string) => new Error(`Writer did not import “${file.name}”. ${why}`);
  if (file.size > DOCX_LIMITS.fileBytes) throw refuse(`It is larger than Writer imports (${DOCX_LIMITS.fileBytes / (1024 * 1024)} MB).`);
  let parsed: ReturnType<typeof fromDocx>;
  try {
    parsed = fromDocx(new Uint8Array(await file.arrayBuffer()));
  } catch (e) {
    throw refuse(e instanceof DocxRefused ? e.message : "It could not be read as a Word document.");
  }
  const title = (parsed.title ?? stem).slice(0, 500);
  const { url } = await host.call("createDocument", { title });
  const handle = await repo.find<WriterDocument>(url as AutomergeUrl);
  let comments = 0;
  handle.change((d) => {
    comments = applyDocxImport(d, parsed, `Word: ${file.name.slice(0, 200)}`);
  });
  const suggestions = suggestionCount(parsed.doc);
  const kept = [comments > 0 ? (comments === 1 ? "a comment" : `${comments} comments`) : "", suggestions > 0 ? (suggestions === 1 ? "a suggested change" : `${suggestions} suggested changes`) : ""].filter(Boolean);
  const notes = [kept.length > 0 ? `With ${kept.join(" and ")}.` : "", describeDocxLeftOut(parsed.leftOut) ?? ""].filter(Boolean);
  return notes.length > 0 ? { url, title, note: notes.join(" ") } : { url, title };
}
