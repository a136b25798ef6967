/**
 * A document under review (every block and mark, comments with replies and one
 * resolved, open suggestions by two writers) exported to Word and imported again into
 * a new Automerge document, as the app does: the same text, structure, comments and
 * suggestions come back.
 */
import { next as A } from "@automerge/automerge";
import type { Node as PMNode } from "prosemirror-model";
import { describe, expect, it } from "vitest";
import { anchoredThreads } from "../../../src/shared/comments";
import { initDocument, type WriterDocument } from "../../../src/shared/document";
import { applyDocxImport, commentsForDocx } from "../../../src/shared/convert/docx/document";
import { toDocx } from "../../../src/shared/convert/docx/export";
import { fromDocx } from "../../../src/shared/convert/docx/import";
import { ADA, BOB, T0, pmOf, reviewedDocument } from "./support";

/** The document's JSON without what a trip through Word cannot keep: suggestion IDs and writer IDs. */
function shape(doc: PMNode): unknown {
  return JSON.parse(JSON.stringify(doc.toJSON(), (key, value: unknown) => (key === "id" || key === "writer" ? undefined : value)));
}

function suggestions(doc: PMNode): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  doc.descendants((node) => {
    for (const m of node.marks) {
      if (m.type.name === "insertion" || m.type.name === "deletion") out.push({ kind: m.type.name, author: String(m.attrs.author), at: Number(m.attrs.at), text: node.text ?? "" });
      if (m.type.name === "format_change") out.push({ kind: m.type.name, author: String(m.attrs.author), at: Number(m.attrs.at), text: node.text ?? "", added: m.attrs.added, removed: m.attrs.removed });
    }
  });
  return out;
}

function threads(doc: WriterDocument) {
  return anchoredThreads(doc).map(({ thread, range }) => ({
    on: range ? doc.text.slice(range.start, range.end) : null,
    resolved: !!thread.resolved,
    messages: thread.messages.map((m) => ({ author: m.author, at: m.at, text: m.text })),
  }));
}

async function roundTrip(): Promise<{ before: A.Doc<WriterDocument>; after: A.Doc<WriterDocument>; title: string | null; added: number }> {
  const before = reviewedDocument();
  const pm = pmOf(before);
  const bytes = await toDocx({ doc: pm, title: before.title, comments: commentsForDocx(before, pm), locale: "en-GB" });
  const parsed = fromDocx(bytes);
  let added = 0;
  const after = A.change(A.init<WriterDocument>({ actor: "cc".repeat(16) }), (d) => {
    initDocument(d, parsed.title ?? "", T0);
    added = applyDocxImport(d, parsed, "Word: storm.docx");
  });
  return { before, after, title: parsed.title, added };
}

describe("Word round trip", () => {
  it("keeps the title, the text and its structure", async () => {
    const { before, after, title } = await roundTrip();
    expect(title).toBe("The Storm");
    expect(after.text).toBe(before.text);
    expect(shape(pmOf(after))).toEqual(shape(pmOf(before)));
  });

  it("keeps the suggestions: kind, author, time and words, and what a formatting change added and removed", async () => {
    const { before, after } = await roundTrip();
    const kept = suggestions(pmOf(after));
    expect(kept).toEqual(suggestions(pmOf(before)));
    expect(kept).toEqual([
      { kind: "insertion", author: BOB.name, at: T0 + 60_000, text: "suddenly " },
      { kind: "deletion", author: ADA.name, at: T0 + 120_000, text: "grey " },
      { kind: "format_change", author: BOB.name, at: T0 + 180_000, text: "underlined", added: ["underline"], removed: ["em"] },
    ]);
  });

  it("keeps the comments on the same words, with their replies, authors, times and resolved state", async () => {
    const { before, after, added } = await roundTrip();
    expect(added).toBe(4);
    expect(threads(after)).toEqual(threads(before));
    expect(threads(after).map((t) => [t.on, t.resolved, t.messages.length])).toEqual([
      ["storm came", false, 3],
      ["hills.\uFFFCPlain,", false, 1],
      ["bold, italic", true, 1],
      ["nested", false, 1],
    ]);
    // Imported threads say where they came from, and belong to no writer here.
    for (const { thread } of anchoredThreads(after)) {
      expect(thread.imported).toBe("Word: storm.docx");
      expect(thread.messages.every((m) => m.writer === "")).toBe(true);
    }
  });
});
