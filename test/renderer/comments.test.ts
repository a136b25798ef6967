import { next as A } from "@automerge/automerge";
import { pmDocFromSpans } from "@automerge/prosemirror";
import { describe, expect, it } from "vitest";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import {
  addComment,
  anchoredThreads,
  deleteCommentMessage,
  editCommentMessage,
  replyToComment,
  reopenComment,
  resolveComment,
  threadPlace,
  type CommentThread,
} from "../../src/shared/comments";
import { restoreVersion } from "../../src/shared/history";
import { schemaAdapter } from "../../src/shared/editor/schema";
import { toMarkdown } from "../../src/shared/convert/markdown";
import { toPlainText } from "../../src/shared/convert/text";
import { countDocument } from "../../src/renderer/src/editor/counts";

const ADA = { name: "Ada", writer: "writer-ada" };
const BOB = { name: "Bob", writer: "writer-bob" };
const ADA_ACTOR = "aa".repeat(16);
const BOB_ACTOR = "bb".repeat(16);

/** One paragraph holding `text` (index 0 is the paragraph's block marker). */
function docWith(text: string, actor = ADA_ACTOR): A.Doc<WriterDocument> {
  return A.change(A.init<WriterDocument>({ actor }), (d) => {
    initDocument(d, "T", 1);
    A.splice(d, TEXT_PATH, 1, 0, text);
  });
}

/** Automerge indexes of `words` in the document's text. */
function rangeOf(doc: WriterDocument, words: string): { start: number; end: number } {
  const start = doc.text.indexOf(words);
  if (start < 0) throw new Error(`"${words}" is not in the text`);
  return { start, end: start + words.length };
}

/** The text each thread is on now, or null on deleted text. */
function onText(doc: WriterDocument): (string | null)[] {
  return anchoredThreads(doc).map((t) => (t.range ? doc.text.slice(t.range.start, t.range.end) : null));
}

function splice(doc: A.Doc<WriterDocument>, at: number, del: number, ins = ""): A.Doc<WriterDocument> {
  return A.change(doc, (d) => A.splice(d, TEXT_PATH, at, del, ins));
}

function commented(text: string, words: string, by = ADA, actor = ADA_ACTOR): { doc: A.Doc<WriterDocument>; id: string } {
  let id = "";
  const doc = A.change(docWith(text, actor), (d) => {
    id = addComment(d, rangeOf(d, words), "Say more?", by, 1000);
  });
  return { doc, id };
}

describe("comment anchors", () => {
  it("follow their words through concurrent edits on two replicas, merged both ways", () => {
    const { doc } = commented("The old lighthouse keeper slept.", "lighthouse keeper");
    let ada = doc;
    let bob = A.clone(doc, { actor: BOB_ACTOR });
    // Ada writes before the commented words; Bob inside them and after them.
    ada = splice(ada, rangeOf(ada, "old").start, 3, "ancient");
    bob = splice(bob, rangeOf(bob, "keeper").start, 0, "night ");
    bob = splice(bob, rangeOf(bob, "slept").start, 5, "snored");
    const one = A.merge(A.clone(ada), bob);
    const two = A.merge(A.clone(bob, { actor: "cc".repeat(16) }), ada);
    expect(one.text).toBe(two.text);
    expect(one.text).toContain("The ancient lighthouse night keeper snored.");
    expect(onText(one)).toEqual(["lighthouse night keeper"]);
    expect(onText(two)).toEqual(["lighthouse night keeper"]);
  });

  it("follow their words through a long offline session merged afterwards", () => {
    const { doc } = commented("First line. The middle words stay. Last line.", "middle words");
    let ada = doc;
    let bob = A.clone(doc, { actor: BOB_ACTOR });
    // Bob, offline, rewrites everything around the comment, many times.
    for (let i = 0; i < 50; i++) bob = splice(bob, 1, 0, `${i} `);
    bob = splice(bob, rangeOf(bob, "Last line.").start, "Last line.".length, "An ending.");
    // Ada comments elsewhere and deletes the first line meanwhile.
    ada = A.change(ada, (d) => {
      addComment(d, rangeOf(d, "Last"), "Too abrupt", ADA, 2000);
    });
    ada = splice(ada, rangeOf(ada, "First line. ").start, "First line. ".length);
    const merged = A.merge(A.clone(ada), bob);
    expect(A.merge(A.clone(bob), ada).text).toBe(merged.text);
    expect(merged.text).not.toContain("First line");
    // Ada's second comment was on "Last", which Bob deleted while offline.
    expect(onText(merged)).toEqual(["middle words", null]);
  });

  it("lists a thread whose words were all deleted as on deleted text, with its quote and place, and it can still be resolved", () => {
    const { doc: start, id } = commented("Keep this. Drop these words. Keep that.", "these words");
    let doc = splice(start, rangeOf(start, "Drop these words. ").start, "Drop these words. ".length);
    expect(doc.text).toBe("\uFFFCKeep this. Keep that.");
    const [only] = anchoredThreads(doc);
    expect(only!.range).toBeNull();
    expect(only!.thread.quote).toBe("these words");
    expect(threadPlace(doc, only!.thread)).toBe(rangeOf(doc, "Keep that.").start);
    doc = A.change(doc, (d) => resolveComment(d, id, BOB, 3000));
    expect(anchoredThreads(doc)[0]!.thread.resolved).toEqual({ by: "Bob", at: 3000 });
  });

  it("come back on their words when an older version is restored", () => {
    const { doc: start } = commented("A sentence with a commented phrase in it.", "commented phrase");
    const before = A.getHeads(start);
    // Replaced in one go, then typed over again: the new words are not what was commented.
    let doc = splice(start, 1, start.text.length - 1, "Something else entirely.");
    doc = splice(doc, 1, 0, "More. ");
    expect(onText(doc)).toEqual([null]);
    doc = A.change(doc, (d) => restoreVersion(d, A.view(doc, before)));
    expect(doc.text).toBe(start.text);
    expect(onText(doc)).toEqual(["commented phrase"]);
  });

  it("leave out what is typed just before or after them, and take in what is typed inside", () => {
    const { doc: start } = commented("one two three", "two");
    let doc = splice(start, rangeOf(start, "two").start, 0, "[");
    doc = splice(doc, rangeOf(doc, "two").end, 0, "]");
    doc = splice(doc, rangeOf(doc, "two").start + 1, 0, "-");
    expect(doc.text).toBe("\uFFFCone [t-wo] three");
    expect(onText(doc)).toEqual(["t-wo"]);
  });

  it("survive the deletion of the characters around them", () => {
    const { doc: start } = commented("ab[middle]cd", "middle");
    const doc = splice(splice(start, rangeOf(start, "]").start, 1), rangeOf(start, "[").start, 1);
    expect(onText(doc)).toEqual(["middle"]);
  });
});

describe("comment threads", () => {
  it("keeps replies in order and lets only their authors edit or delete messages", () => {
    const { doc: start, id } = commented("Some text here.", "text");
    let reply = "";
    let doc = A.change(start, (d) => {
      reply = replyToComment(d, id, "  I agree.\r\n", BOB, 2000);
    });
    expect(anchoredThreads(doc)[0]!.thread.messages.map((m) => [m.author, m.text])).toEqual([
      ["Ada", "Say more?"],
      ["Bob", "I agree."],
    ]);
    const first = `${id}-0`;
    expect(() => A.change(doc, (d) => editCommentMessage(d, id, first, "Hijacked", BOB, 3000))).toThrow(/Only its author/);
    expect(() => A.change(doc, (d) => deleteCommentMessage(d, id, first, BOB))).toThrow(/Only its author/);
    expect(() => A.change(doc, (d) => editCommentMessage(d, id, reply, "  ", BOB, 3000))).toThrow(/some words/);
    doc = A.change(doc, (d) => editCommentMessage(d, id, reply, "I agree, mostly.", BOB, 3000));
    expect(anchoredThreads(doc)[0]!.thread.messages[1]).toMatchObject({ text: "I agree, mostly.", editedAt: 3000 });
    doc = A.change(doc, (d) => deleteCommentMessage(d, id, reply, BOB));
    expect(anchoredThreads(doc)[0]!.thread.messages[1]).toMatchObject({ deleted: true, text: "" });
    doc = A.change(doc, (d) => resolveComment(d, id, BOB, 4000));
    doc = A.change(doc, (d) => reopenComment(d, id));
    expect(anchoredThreads(doc)[0]!.thread.resolved).toBeNull();
    // Deleting the first message deletes the thread.
    doc = A.change(doc, (d) => deleteCommentMessage(d, id, first, ADA));
    expect(anchoredThreads(doc)).toEqual([]);
  });

  it("refuses empty comments and comments on no text, and cuts very long ones", () => {
    const doc = docWith("Words.");
    expect(() => A.change(doc, (d) => addComment(d, { start: 2, end: 2 }, "Hi", ADA, 1))).toThrow(/some text/);
    expect(() => A.change(doc, (d) => addComment(d, { start: 1, end: 3 }, " \n ", ADA, 1))).toThrow(/some words/);
    const long = A.change(doc, (d) => void addComment(d, { start: 1, end: 3 }, "x".repeat(20_000), ADA, 1));
    expect(anchoredThreads(long)[0]!.thread.messages[0]!.text).toHaveLength(10_000);
  });

  it("ignores malformed threads from a damaged or hostile document, and never throws on them", () => {
    const other = commented("Another document entirely.", "document", ADA, "dd".repeat(16));
    const { doc: start } = commented("Real text with a real comment.", "real comment");
    const good = JSON.parse(JSON.stringify(anchoredThreads(start)[0]!.thread)) as CommentThread;
    const bad: unknown[] = [
      null,
      "a string",
      42,
      [],
      { id: "x" },
      { ...good, id: "no-messages", messages: [] },
      { ...good, id: "bad-message", messages: [{ text: 5 }] },
      { ...good, id: "quote-object", quote: { html: "<b>" } },
      { ...good, id: "resolved-string", resolved: "yes" },
      { ...good, id: "anchor-string", anchor: "x" },
      { ...good, id: "message-without-writer", messages: [{ id: "m", author: "Eve", at: 1, text: "hi" }] },
    ];
    const doc = A.change(start, (d) => {
      bad.forEach((value, i) => ((d.comments as Record<string, unknown>)[`bad${i}`] = value));
      // A cursor from a document this one never shared history with.
      (d.comments as Record<string, unknown>).foreign = { ...JSON.parse(JSON.stringify(anchoredThreads(other.doc)[0]!.thread)), id: "foreign" };
    });
    const listed = anchoredThreads(doc);
    expect(listed.map((t) => t.thread.id).sort()).toEqual(["foreign", good.id].sort());
    expect(listed.find((t) => t.thread.id === "foreign")!.range).toBeNull();
    expect(() => A.change(doc, (d) => replyToComment(d, "bad5", "hi", ADA, 1))).toThrow(/not in this document/);
    // A document whose comments are not a record at all.
    const odd = A.change(docWith("x"), (d) => ((d as unknown as Record<string, unknown>).comments = "nonsense"));
    expect(anchoredThreads(odd)).toEqual([]);
  });
});

describe("comments stay out of the text", () => {
  it("never reach the editor's text, the word count, or a plain or Markdown export", () => {
    const { doc } = commented("Four words in here.", "words");
    const withReply = A.change(doc, (d) => void replyToComment(d, anchoredThreads(d)[0]!.thread.id, "A reply with sixteen distinctive wordsmithing", BOB, 5));
    const pm = pmDocFromSpans(schemaAdapter, A.spans(withReply, TEXT_PATH));
    expect(pm.textContent).toBe("Four words in here.");
    expect(countDocument(pm)).toEqual({ words: 4, characters: "Four words in here.".length });
    for (const out of [toPlainText(pm), toMarkdown(pm)]) {
      expect(out).not.toMatch(/Say more|wordsmithing|Bob|Ada/);
      expect(out).toContain("Four words in here.");
    }
  });
});
