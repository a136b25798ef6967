import { next as A } from "@automerge/automerge";
import { pmDocFromSpans, pmNodeToSpans } from "@automerge/prosemirror";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { schemaAdapter } from "../../src/shared/editor/schema";
import { changedText, groupSessions, SessionGrouper, hasHeads, namedVersions, nameVersion, restoreVersion, SESSION_GAP_S, versionKey, type TextChanges } from "../../src/shared/history";
import { everything, p } from "./convert/sample";
import { changeDecorations } from "../../src/renderer/src/history/highlights";

const ADA = "aa".repeat(16);
const ADA_2 = "ab".repeat(16);
const BOB = "bb".repeat(16);
const HOST = "cc".repeat(16);
const authors = { [ADA]: { name: "Ada", color: "#c2410c" }, [ADA_2]: { name: "Ada", color: "#c2410c" }, [BOB]: { name: "Bob", color: "#0f766e" } };

let n = 0;
/** Change metadata as getChangesMetaSince gives it; each change depends on the one before. */
function meta(actor: string, time: number, deps: string[], message: string | null = null): A.ChangeMetadata {
  const hash = (++n).toString(16).padStart(64, "0");
  return { actor, author: null, seq: 1, startOp: 1, maxOp: 1, time, message, deps, hash, extraBytes: null };
}

function chain(...specs: [string, number][]): A.ChangeMetadata[] {
  const out: A.ChangeMetadata[] = [];
  for (const [actor, time] of specs) out.push(meta(actor, time, out.length ? [out[out.length - 1]!.hash] : []));
  return out;
}

describe("groupSessions", () => {
  it("groups each author's changes into sessions split by pauses longer than the gap, newest first", () => {
    const t = 1_800_000_000;
    const changes = chain([HOST, t], [ADA, t + 10], [ADA, t + 20], [BOB, t + 30], [ADA, t + 40], [BOB, t + 50], [ADA, t + 40 + SESSION_GAP_S + 1], [ADA, t + 40 + SESSION_GAP_S + 60]);
    const sessions = groupSessions(changes, authors);
    expect(sessions.map((s) => [s.author?.name ?? null, s.changes, s.start - t, s.end - t])).toEqual([
      ["Ada", 2, 40 + SESSION_GAP_S + 1, 40 + SESSION_GAP_S + 60],
      ["Bob", 2, 30, 50],
      ["Ada", 3, 10, 40],
      [null, 1, 0, 0],
    ]);
    expect(sessions[3]!.created).toBe(true);
    expect(sessions.slice(0, 3).every((s) => !s.created)).toBe(true);
    // A session's version is its last change (the others are in its past).
    expect(sessions[0]!.heads).toEqual([changes[7]!.hash]);
    expect(sessions[2]!.heads).toEqual([changes[4]!.hash]);
    expect(sessions[0]!.id).toBe(changes[7]!.hash);
  });

  it("merges one writer's two windows (two actors, one name) and keeps unnamed actors apart", () => {
    const t = 1_800_000_000;
    const a = meta(ADA, t, []);
    const b = meta(ADA_2, t + 5, []);
    const c = meta("dd".repeat(16), t + 6, []);
    const d = meta("ee".repeat(16), t + 7, [a.hash, b.hash, c.hash]);
    const sessions = groupSessions([a, b, c, d], authors);
    expect(sessions).toHaveLength(3);
    const ada = sessions.find((s) => s.author?.name === "Ada")!;
    expect(ada.actors.sort()).toEqual([ADA, ADA_2].sort());
    // Two concurrent changes: the version is both.
    expect(ada.heads).toEqual([a.hash, b.hash].sort());
  });

  it("names a writer's every session by their newest name: a rename reaches the early sessions (issue 17)", () => {
    const t = 1_800_000_000;
    const bob = "0123456789abcdef";
    const renamed = {
      [ADA]: { name: "Ada", color: "#c2410c" },
      // Bob's first window, as "root"; his window after the rename, as "Bob Marlowe".
      [BOB]: { name: "root", color: "#0f766e", writer: bob, at: 1000 },
      [ADA_2]: { name: "Bob Marlowe", color: "#0f766e", writer: bob, at: 2000 },
      // A peer claiming the same writer with an older record changes nothing.
      [HOST]: { name: "Impostor", color: "#000000", writer: bob, at: 500 },
    };
    const changes = chain([BOB, t], [ADA, t + SESSION_GAP_S * 2], [ADA_2, t + SESSION_GAP_S * 4]);
    expect(groupSessions(changes, renamed).map((s) => s.author?.name)).toEqual(["Bob Marlowe", "Ada", "Bob Marlowe"]);
  });

  it("orders by causal order, not by clocks, and survives clocks that are unknown or jump", () => {
    const t = 1_800_000_000;
    // Bob's clock is a day behind; Ada's second change has no time; her third jumped back an hour.
    const changes = chain([ADA, t], [ADA, 0], [BOB, t - 86_400], [ADA, t - 3600]);
    const sessions = groupSessions(changes, authors);
    expect(sessions.map((s) => [s.author?.name, s.changes])).toEqual([
      ["Ada", 1],
      ["Bob", 1],
      ["Ada", 2],
    ]);
    expect(sessions[2]!.start).toBe(t);
  });

  it("ignores malformed author records (peers write them) and keeps change messages", () => {
    const changes = [meta(ADA, 1, [], "Restored the version of 3 May"), meta(BOB, 2, [])];
    const sessions = groupSessions(changes, { [ADA]: { name: 42, color: "red" }, [BOB]: { name: "  Bob  ", color: "javascript:" } });
    expect(sessions.find((s) => s.actors.includes(ADA))!.author).toBeNull();
    expect(sessions.find((s) => s.actors.includes(ADA))!.messages).toEqual(["Restored the version of 3 May"]);
    expect(sessions.find((s) => s.actors.includes(BOB))!.author).toEqual({ name: "Bob", color: "#6b7280" });
  });

  it("gives the same sessions fed a little at a time as all at once", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(ADA, ADA_2, BOB, HOST), fc.nat(SESSION_GAP_S * 2)), { maxLength: 60 }), fc.array(fc.nat(10), { maxLength: 10 }), (steps, cuts) => {
        let t = 1_800_000_000;
        const changes = chain(...steps.map(([actor, gap]): [string, number] => [actor, (t += gap)]));
        const grouper = new SessionGrouper(authors);
        let at = 0;
        for (const cut of cuts) {
          grouper.add(changes.slice(at, at + cut));
          at += cut;
        }
        grouper.add(changes.slice(at));
        expect(grouper.sessions()).toEqual(groupSessions(changes, authors));
      }),
      { numRuns: 200 },
    );
  });

  it("groups a real document's history, whose session heads open the text as it was", () => {
    const t = 1_800_000_000;
    let doc = A.init<WriterDocument>({ actor: HOST });
    doc = A.change(doc, { time: t }, (d) => initDocument(d, "", t));
    doc = A.clone(doc, { actor: ADA });
    for (const [i, word] of ["Once ", "upon ", "a time"].entries()) doc = A.change(doc, { time: t + i }, (d) => A.splice(d, TEXT_PATH, d.text.length, 0, word));
    doc = A.change(doc, { time: t + 3 }, (d) => Object.assign(d, { authors: authors }));
    doc = A.clone(doc, { actor: BOB });
    doc = A.change(doc, { time: t + SESSION_GAP_S * 3 }, (d) => A.splice(d, TEXT_PATH, d.text.length, 0, ", there was"));
    const sessions = groupSessions(A.getChangesMetaSince(doc, []), doc.authors);
    expect(sessions.map((s) => s.author?.name ?? "?")).toEqual(["Bob", "Ada", "?"]);
    expect(A.view(doc, sessions[1]!.heads).text).toBe("\uFFFCOnce upon a time");
    expect(A.view(doc, sessions[0]!.heads).text).toBe("\uFFFCOnce upon a time, there was");
    expect(hasHeads(doc, sessions[1]!.heads)).toBe(true);
    expect(hasHeads(doc, ["0".repeat(64)])).toBe(false);
  });
});

/** `from`'s text rebuilt from `to`'s and the changes: the invariant changedText must keep. */
function undoChanges(to: string, changes: TextChanges): string {
  const removedAt = new Map(changes.removed.map((r) => [r.at, r.text]));
  const isInserted = (i: number) => changes.inserted.some(([s, e]) => i >= s && i < e);
  let out = "";
  for (let i = 0; i <= to.length; i++) {
    out += removedAt.get(i) ?? "";
    if (i < to.length && !isInserted(i)) out += to[i];
  }
  return out;
}

function docWith(text: string): A.Doc<WriterDocument> {
  return A.change(A.init<WriterDocument>({ actor: ADA }), (d) => {
    initDocument(d, "T", 1);
    A.splice(d, TEXT_PATH, 1, 0, text);
  });
}

describe("changedText", () => {
  it("locates insertions, deletions and replacements in the newer text, with the removed words", () => {
    let doc = docWith("The quick brown fox jumps.");
    const before = A.getHeads(doc);
    doc = A.change(doc, (d) => {
      A.splice(d, TEXT_PATH, 5, 6, ""); // "quick "
      A.splice(d, TEXT_PATH, 15, 5, "leaps"); // "jumps" → "leaps"
      A.splice(d, TEXT_PATH, d.text.length, 0, " Then it slept.");
    });
    const after = A.getHeads(doc);
    const c = changedText(doc, before, after);
    const to = doc.text;
    expect(to).toBe("\uFFFCThe brown fox leaps. Then it slept.");
    expect(c.inserted.map(([s, e]) => to.slice(s, e))).toEqual(["leaps", " Then it slept."]);
    expect(c.removed).toEqual([
      { at: 5, text: "quick " },
      { at: 15, text: "jumps" },
    ]);
    // And the other way round: what the old version has that the new one lacks.
    const back = changedText(doc, after, before);
    const from = A.view(doc, before).text;
    expect(back.inserted.map(([s, e]) => from.slice(s, e))).toEqual(["quick ", "jumps"]);
    expect(back.removed.map((r) => r.text)).toEqual(["leaps", " Then it slept."]);
  });

  it("reports formatting and block changes", () => {
    let doc = docWith("Title and body");
    const before = A.getHeads(doc);
    doc = A.change(doc, (d) => {
      A.mark(d, TEXT_PATH, { start: 7, end: 10, expand: "none" }, "strong", true);
      A.updateBlock(d, TEXT_PATH, 0, { type: new A.ImmutableString("heading"), parents: [], attrs: { level: 1 } });
    });
    const c = changedText(doc, before, A.getHeads(doc));
    expect(c.inserted).toEqual([]);
    expect(c.removed).toEqual([]);
    expect(c.restyled).toEqual([[7, 10]]);
    expect(c.reblocked).toEqual([0]);
  });

  it("keeps its invariant for random concurrent edits (text and blocks) by two writers", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 40 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat(8), fc.string({ maxLength: 6 }), fc.nat(4)), { maxLength: 12 }),
        (start, edits) => {
          const base = docWith(start);
          const from = A.getHeads(base);
          let ada = A.clone(base, { actor: ADA_2 });
          let bob = A.clone(base, { actor: BOB });
          for (const [byAda, at, del, ins, kind] of edits) {
            const edit = (d: WriterDocument) => {
              const len = d.text.length;
              const pos = Math.min(1 + (at % len), len);
              // Now and then a new block or a block that changes kind, as the editor makes them.
              if (kind === 0) A.splitBlock(d, TEXT_PATH, pos, { type: new A.ImmutableString("paragraph"), parents: [], attrs: {} });
              else if (kind === 1) A.updateBlock(d, TEXT_PATH, 0, { type: new A.ImmutableString("heading"), parents: [], attrs: { level: 1 + (at % 3) } });
              else A.splice(d, TEXT_PATH, pos, Math.min(del, len - pos), ins);
            };
            if (byAda) ada = A.change(ada, edit);
            else bob = A.change(bob, edit);
          }
          const merged = A.merge(ada, bob);
          const to = A.getHeads(merged);
          expect(undoChanges(merged.text, changedText(merged, from, to))).toBe(base.text);
          expect(undoChanges(base.text, changedText(merged, to, from))).toBe(merged.text);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("restoreVersion", () => {
  it("brings back a rich version's text and title as a new change, and keeps the history", () => {
    const spans = pmNodeToSpans(schemaAdapter, everything());
    let doc = A.change(A.init<WriterDocument>({ actor: ADA }), (d) => {
      initDocument(d, "First title", 1);
      A.updateSpans(d, TEXT_PATH, spans);
    });
    const version = A.getHeads(doc);
    doc = A.change(doc, (d) => {
      A.updateSpans(d, TEXT_PATH, pmNodeToSpans(schemaAdapter, schemaAdapter.schema.node("doc", null, [p("Everything was rewritten.")])));
      A.updateText(d, ["title"], "Second title");
    });
    const rewritten = A.getHeads(doc);
    doc = A.change(doc, { message: "Restored" }, (d) => restoreVersion(d, A.view(doc, version)));
    expect(doc.title).toBe("First title");
    expect(pmDocFromSpans(schemaAdapter, A.spans(doc, TEXT_PATH)).eq(pmDocFromSpans(schemaAdapter, A.spans(A.view(doc, version), TEXT_PATH)))).toBe(true);
    expect(pmDocFromSpans(schemaAdapter, A.spans(doc, TEXT_PATH)).textContent).toBe(everything().textContent);
    // Nothing was rewritten: both earlier versions are still there, and the restore is a change on top.
    expect(A.view(doc, rewritten).title).toBe("Second title");
    expect(A.getChangesMetaSince(doc, rewritten).map((c) => c.message)).toEqual(["Restored"]);
  });
});

describe("named versions", () => {
  it("names, renames and unnames a version; malformed names from peers are left out", () => {
    let doc = docWith("x");
    const heads = A.getHeads(doc);
    doc = A.change(doc, (d) => nameVersion(d, heads, "  First draft  ", 5));
    expect(namedVersions(doc)).toEqual([{ name: "First draft", heads, at: 5 }]);
    doc = A.change(doc, (d) => nameVersion(d, heads, "Draft one", 6));
    expect(namedVersions(doc)).toEqual([{ name: "Draft one", heads, at: 5 }]);
    doc = A.change(doc, (d) => {
      d.versions!["bad1"] = { name: "no heads", heads: [], at: 1 };
      d.versions!["bad2"] = { name: "bad heads", heads: ["../../etc"], at: 1 };
      (d.versions as Record<string, unknown>)["bad3"] = { name: 7, heads, at: 1 };
      d.versions!["long"] = { name: "y".repeat(500), heads, at: 9 };
    });
    expect(namedVersions(doc).map((v) => v.name.length)).toEqual([100, 9]);
    doc = A.change(doc, (d) => nameVersion(d, heads, "", 7));
    expect(doc.versions![versionKey(heads)]).toBeUndefined();
  });
});

describe("changeDecorations", () => {
  it("puts the highlights on the changed words in every kind of block", () => {
    let doc = A.change(A.init<WriterDocument>({ actor: ADA }), (d) => {
      initDocument(d, "T", 1);
      A.updateSpans(d, TEXT_PATH, pmNodeToSpans(schemaAdapter, everything()));
    });
    const before = A.getHeads(doc);
    const insertAfter = (d: WriterDocument, word: string, text: string) => A.splice(d, TEXT_PATH, d.text.indexOf(word) + word.length, 0, text);
    doc = A.change(doc, (d) => {
      insertAfter(d, "The storm", " again"); // a heading
      insertAfter(d, "nested", " deeper"); // a nested list item
      insertAfter(d, "Quoted ", "softly "); // a quote
      insertAfter(d, "to do", " soon"); // a task
      A.splice(d, TEXT_PATH, d.text.indexOf("The end"), 4, ""); // "The " removed
    });
    const spans = A.spans(doc, TEXT_PATH);
    const pmDoc = pmDocFromSpans(schemaAdapter, spans);
    const decos = changeDecorations(pmDoc, spans, changedText(doc, before, A.getHeads(doc))).find();
    const inline = decos.filter((d) => d.from !== d.to).map((d) => pmDoc.textBetween(d.from, d.to));
    expect(inline.sort()).toEqual([" again", " deeper", " soon", "softly "].sort());
    const widgets = decos.filter((d) => d.from === d.to);
    expect(widgets).toHaveLength(1);
    // The removed words' widget sits where they were: right before "end.".
    expect(pmDoc.textBetween(widgets[0]!.from, widgets[0]!.from + 4)).toBe("end.");
  });
});
