/**
 * Export a document (Markdown, HTML, plain text, a backup with its history, print) and
 * import files as new documents. The converters are in src/shared/convert (Markdown,
 * text) and ./convert (HTML, which needs the DOM); a backup is imported by the host,
 * which checks it.
 */
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle, Repo, AutomergeUrl } from "@automerge/automerge-repo/slim";
import { pmNodeToSpans } from "@automerge/prosemirror";
import type { Node as PMNode } from "prosemirror-model";
import { BACKUP_MAX_BYTES, type ImportExisting } from "../../shared/api";
import { fromMarkdown, toMarkdown } from "../../shared/convert/markdown";
import { fromPlainText, toPlainText } from "../../shared/convert/text";
import { decodeTextFile } from "../../shared/convert/textFile";
import { TEXT_PATH, type WriterDocument } from "../../shared/document";
import { updateSpansExactly } from "../../shared/spans";
import { schemaAdapter } from "../../shared/editor/schema";
import { fromHTML, toHTMLPage } from "./convert/html";
import { toHTMLPageWithComments } from "./comments/htmlExport";
import { exportDocx, importDocx, DOCX_ACCEPT } from "./convert/docx";
import { describeLeftOut, type LeftOut } from "./convert/leftOut";
import { fileNameFor } from "../../shared/fileName";
import { acceptedView } from "../../shared/suggestions";
import { isElectron } from "./platform";
import type { HostClient } from "./hostClient";

export type ExportKind = "markdown" | "html" | "html-comments" | "text" | "docx" | "backup";

/** What the file chooser offers on import. */
export const IMPORT_ACCEPT = `.md,.markdown,.html,.htm,.txt,.automerge,text/markdown,text/html,text/plain,${DOCX_ACCEPT}`;

/** Imported text files larger than this are refused (a novel is about 1 MB of text). */
const MAX_TEXT_IMPORT_BYTES = 8 * 1024 * 1024;

function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Saves the document as a file (the browser's download; in Electron, its save dialog).
 * Plain exports show the text as if every open suggestion were accepted.
 */
export function exportDocument(kind: ExportKind, handle: DocHandle<WriterDocument>, pmDoc: PMNode, title: string): void {
  switch (kind) {
    case "markdown":
      return download(fileNameFor(title, "md"), (title ? `# ${title.replace(/\n/g, " ")}\n\n` : "") + toMarkdown(acceptedView(pmDoc)), "text/markdown;charset=utf-8");
    case "html":
      return download(fileNameFor(title, "html"), toHTMLPage(title, acceptedView(pmDoc), document), "text/html;charset=utf-8");
    case "html-comments":
      return download(fileNameFor(title, "html"), toHTMLPageWithComments(title, pmDoc, handle.doc(), document), "text/html;charset=utf-8");
    case "text":
      return download(fileNameFor(title, "txt"), (title ? `${title}\n\n` : "") + toPlainText(acceptedView(pmDoc)), "text/plain;charset=utf-8");
    case "docx":
      return void exportDocx(handle.doc(), pmDoc, title).then((bytes) => download(fileNameFor(title, "docx"), bytes.slice().buffer as ArrayBuffer, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"));
    case "backup": {
      const bytes = A.save(handle.doc());
      return download(fileNameFor(title, "automerge"), bytes.slice().buffer as ArrayBuffer, "application/octet-stream");
    }
  }
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A Markdown file's title: its first line when that is a level-1 heading (which it then is not any more). */
function markdownTitle(doc: PMNode): { title: string | null; doc: PMNode } {
  const first = doc.firstChild;
  if (first?.type.name === "heading" && first.attrs.level === 1 && doc.childCount > 1) {
    return { title: first.textContent.trim() || null, doc: doc.copy(doc.content.cut(first.nodeSize)) };
  }
  return { title: null, doc };
}

/**
 * Imports a file as a new document and returns its URL. Markdown, HTML and text become
 * a new document with that content (the title from the file: its first heading, its
 * page title, or its name); a backup comes back with its whole history.
 */
export async function importFile(
  file: File,
  host: HostClient,
  repo: Repo,
  /** For a backup of a document the library has: merge, keep both, or null to import nothing. */
  chooseForKnown: (known: { title: string; updatedAt: number; trashed: boolean }) => Promise<Exclude<ImportExisting, "ask"> | null> = async () => "keep-both",
): Promise<{ url: string; title: string; note?: string; merged?: boolean } | null> {
  const ext = extensionOf(file.name);
  const stem = file.name.replace(/\.[^.]*$/, "") || "Imported";
  if (ext === "automerge") {
    if (file.size > BACKUP_MAX_BYTES) throw new Error(`“${file.name}” is larger than Writer imports (24 MB).`);
    const data = base64(new Uint8Array(await file.arrayBuffer()));
    let answer = await host.call("importBackup", { data, existing: "ask" });
    if ("known" in answer) {
      const choice = await chooseForKnown(answer.known);
      if (choice === null) return null;
      answer = await host.call("importBackup", { data, existing: choice });
      if ("known" in answer) throw new Error("The host asked again what to do with this backup.");
    }
    return { url: answer.url, title: answer.title, merged: answer.outcome === "merged" };
  }
  if (ext === "docx") return importDocx(file, stem, host, repo);
  if (!["md", "markdown", "html", "htm", "txt"].includes(ext)) {
    throw new Error(`Writer imports Word (.docx), Markdown (.md), HTML (.html), plain text (.txt) and Writer backups (.automerge), not “${file.name}”.`);
  }
  if (file.size > MAX_TEXT_IMPORT_BYTES) throw new Error(`“${file.name}” is larger than Writer imports (8 MB of text).`);
  // Binary files and broken encodings are refused before anything is created.
  const text = decodeTextFile(new Uint8Array(await file.arrayBuffer()), file.name);
  let parsed: { title: string | null; doc: PMNode; left?: LeftOut };
  if (ext === "html" || ext === "htm") parsed = fromHTML(text, document);
  else if (ext === "txt") parsed = { title: null, doc: fromPlainText(text) };
  else parsed = markdownTitle(fromMarkdown(text));
  const title = (parsed.title ?? stem).slice(0, 500);
  const { url } = await host.call("createDocument", { title });
  const handle = await repo.find<WriterDocument>(url as AutomergeUrl);
  const spans = pmNodeToSpans(schemaAdapter, parsed.doc);
  handle.change((d) => updateSpansExactly(d, TEXT_PATH, spans));
  const note = parsed.left ? describeLeftOut(parsed.left, "Imported") : null;
  return note ? { url, title, note } : { url, title };
}

/**
 * PDF: in Electron, the main process prints the page to a PDF file the writer picks
 * (webContents.printToPDF, with the print stylesheet); in the browser shell, the
 * browser's print dialog, where "Save as PDF" lives. Resolves with the saved file's
 * name, or null when there is nothing to report (cancelled, or the browser's dialog).
 */
export async function exportPdf(title: string): Promise<string | null> {
  if (!isElectron || !window.writerHost?.printToPDF) {
    window.print();
    return null;
  }
  const result = await window.writerHost.printToPDF(title);
  if (!result.ok) throw new Error(result.message);
  return result.saved;
}
