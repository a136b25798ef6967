/** A document under review, for the Word tests; the package helpers are in test/support/docxFiles.ts. */
import { next as A } from "@automerge/automerge";
import { pmDocFromSpans, pmNodeToSpans } from "@automerge/prosemirror";
import type { Mark, Node as PMNode } from "prosemirror-model";
import { addComment, replyToComment, resolveComment } from "../../../src/shared/comments";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../../src/shared/document";
import { horizontalRule, schema, schemaAdapter } from "../../../src/shared/editor/schema";
import { updateSpansExactly } from "../../../src/shared/spans";
export * from "../../support/docxFiles";

// ---------------------------------------------------------------------------------
// A document under review: every block and mark, comments with replies (one thread
// resolved), and open suggestions by two writers.


export const ADA = { name: "Ada Lovelace", writer: "writer-ada" };
export const BOB = { name: "Bob Editor", writer: "writer-bob" };
/** Whole seconds: Word keeps no milliseconds. */
export const T0 = Date.UTC(2026, 10, 3, 9, 30, 0);

export function reviewedPM(): PMNode {
  const n = schema.nodes;
  const m = schema.marks;
  const t = (value: string, ...marks: Mark[]) => schema.text(value, marks);
  const p = (...c: PMNode[]) => n.paragraph!.create(null, c);
  const ins = (id: string, who: typeof ADA, at: number) => m.insertion!.create({ id, author: who.name, writer: who.writer, at });
  const del = (id: string, who: typeof ADA, at: number) => m.deletion!.create({ id, author: who.name, writer: who.writer, at });
  const fmt = (id: string, who: typeof ADA, at: number, added: string[], removed: string[]) => m.format_change!.create({ id, author: who.name, writer: who.writer, at, added, removed });
  return n.doc!.create(null, [
    n.heading!.create({ level: 1 }, t("Chapter one")),
    p(t("The storm came "), t("suddenly ", ins("s1", BOB, T0 + 60_000)), t("over the "), t("grey ", del("s2", ADA, T0 + 120_000)), t("hills.")),
    p(t("Plain, "), t("bold", m.strong!.create()), t(", "), t("italic", m.em!.create()), t(", "), t("underlined", m.underline!.create(), fmt("s3", BOB, T0 + 180_000, ["underline"], ["em"])), t(", "), t("struck", m.strike!.create()), t(", "), t("code()", m.code!.create()), t(" and "), t("a link", m.link!.create({ href: "https://example.com/a?b=c", title: null })), t(".")),
    n.heading!.create({ level: 2 }, t("Notes")),
    p(t("A line"), n.hard_break!.create(), t("and the next.")),
    n.blockquote!.create(null, [p(t("Quoted "), t("words", m.em!.create()), t("."))]),
    n.code_block!.create(null, t("const a = 1;\nreturn a;")),
    horizontalRule(),
    n.bullet_list!.create(null, [n.list_item!.create(null, p(t("first"))), n.list_item!.create(null, [p(t("second")), n.bullet_list!.create(null, n.list_item!.create(null, p(t("nested"))))])]),
    n.ordered_list!.create(null, [n.list_item!.create(null, p(t("one"))), n.list_item!.create(null, p(t("two")))]),
    n.task_list!.create(null, [n.task_item!.create({ checked: false }, p(t("to do"))), n.task_item!.create({ checked: true }, p(t("done")))]),
    n.heading!.create({ level: 3 }, t("End")),
    p(t("The end.")),
  ]);
}

/** Automerge indexes of `words` (the first time they occur). */
export function rangeOf(doc: WriterDocument, words: string): { start: number; end: number } {
  const start = doc.text.indexOf(words);
  if (start < 0) throw new Error(`"${words}" is not in the text`);
  return { start, end: start + words.length };
}

export function reviewedDocument(): A.Doc<WriterDocument> {
  return A.change(A.init<WriterDocument>({ actor: "aa".repeat(16) }), (d) => {
    initDocument(d, "The Storm", T0);
    updateSpansExactly(d, TEXT_PATH, pmNodeToSpans(schemaAdapter, reviewedPM()));
    const storm = addComment(d, rangeOf(d, "storm came"), "Is it a storm or a squall?", ADA, T0 + 1000, "c-storm");
    replyToComment(d, storm, "A storm: the boats stay in.", BOB, T0 + 2000);
    replyToComment(d, storm, "Fine by me.", ADA, T0 + 3000);
    const bold = addComment(d, rangeOf(d, "bold, italic"), "Too much formatting\nin one line.", BOB, T0 + 4000, "c-bold");
    resolveComment(d, bold, ADA, T0 + 5000);
    addComment(d, rangeOf(d, "nested"), "Keep this list?", BOB, T0 + 6000, "c-list");
    // Across two paragraphs: from the end of one into the next.
    addComment(d, { start: rangeOf(d, "hills.").start, end: rangeOf(d, "Plain,").end }, "Join these?", ADA, T0 + 7000, "c-across");
  });
}

export function pmOf(doc: WriterDocument): PMNode {
  return pmDocFromSpans(schemaAdapter, A.spans(doc, TEXT_PATH));
}
