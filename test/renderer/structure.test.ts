import "@automerge/automerge";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { next as A } from "@automerge/automerge";
import { Repo, type DocHandle } from "@automerge/automerge-repo";
import { init } from "@automerge/prosemirror";
import patchesToTr from "@automerge/prosemirror/dist/patchesToTr.js";
import { EditorState, TextSelection, type Command } from "prosemirror-state";
import { pmNodeToSpans } from "@automerge/prosemirror";
import { insertHardBreak, setBlock, toggleBlockquote } from "../../src/renderer/src/editor/commands";
import { nameVersion, namedVersions, restoreVersion } from "../../src/shared/history";
import { updateSpansExactly } from "../../src/shared/spans";
import { schema as s, schemaAdapter } from "../../src/shared/editor/schema";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { writerSyncPlugin } from "../../src/renderer/src/editor/sync";

/**
 * Structure (paragraphs, quotes, lists, line breaks) as the editor and the document
 * must agree on it: changes arriving in a window that has the document open, and the
 * editor's own structural edits. Each case is a way the window once showed something
 * the document did not hold (issue 17; patches/README.md has the binding's side).
 */

const BLOCK = { type: new A.ImmutableString("paragraph"), parents: [], attrs: {} };

/** A document whose paragraphs are `paragraphs`, in a handle of its own. */
function documentWith(paragraphs: string[]): DocHandle<WriterDocument> {
  const repo = new Repo({ network: [] });
  const handle = repo.create<WriterDocument>();
  handle.change((d) => {
    initDocument(d, "T", 1);
    let at = 1;
    paragraphs.forEach((text, i) => {
      if (i > 0) {
        A.splitBlock(d, TEXT_PATH, at, BLOCK);
        at += 1;
      }
      A.splice(d, TEXT_PATH, at, 0, text);
      at += text.length;
    });
  });
  return handle;
}

/** What a window opened now (a reload, another device) shows. */
function rendered(handle: DocHandle<WriterDocument>): string {
  return init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc.toString();
}

/**
 * Applies `change` to the document while a window has it open, the way the window
 * receives it (patches through the binding); `change` is a change or another copy to merge. Returns what the window shows afterwards.
 */
function liveAfter(handle: DocHandle<WriterDocument>, change: ((d: WriterDocument) => void) | DocHandle<WriterDocument>): string {
  const open = EditorState.create({ schema: s, doc: init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc });
  const before = handle.doc();
  if (typeof change === "function") handle.change(change);
  else handle.merge(change);
  const after = handle.doc();
  const patches = A.diff(after, A.getHeads(before), A.getHeads(after));
  return open.apply(patchesToTr({ adapter: schemaAdapter, path: TEXT_PATH, before, after, patches, state: open })).doc.toString();
}

/** An editor bound to `handle` through the sync plugin, as a window has it. */
function window(handle: DocHandle<WriterDocument>) {
  const sync = writerSyncPlugin({ adapter: schemaAdapter, handle: handle as DocHandle<unknown>, path: TEXT_PATH });
  let state = EditorState.create({ schema: s, doc: init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc, plugins: [sync.plugin] });
  return {
    stats: sync.stats,
    get doc() {
      return state.doc.toString();
    },
    select(from: number, to = from) {
      state = state.apply(state.tr.setSelection(TextSelection.create(state.doc, from, to)));
    },
    run(command: Command) {
      expect(command(state, (tr) => (state = state.apply(tr)))).toBe(true);
    },
  };
}

/** Block markers and text, readably: [type, parents] for a marker. */
function markers(handle: DocHandle<WriterDocument>): unknown[] {
  return A.spans(handle.doc(), TEXT_PATH).map((x) => (x.type === "block" ? [String(x.value.type), (x.value.parents as unknown[]).map(String)] : x.value));
}

const quoted = (d: WriterDocument) => A.updateBlock(d, TEXT_PATH, 0, { type: new A.ImmutableString("paragraph"), parents: [new A.ImmutableString("blockquote")], attrs: {} });

describe("a deletion across a paragraph break, arriving in an open window", () => {
  it("leaves no stray letter: the window shows the document", () => {
    // "…every page twice." then the paragraph "She slept": delete from after "twice"
    // through the break and into the next paragraph.
    const handle = documentWith(["every page twice.", "She slept"]);
    const live = liveAfter(handle, (d) => A.splice(d, TEXT_PATH, 17, 5));
    expect(live).toBe(rendered(handle));
    expect(live).toBe('doc(paragraph("every page twice slept"))');
  });

  it("a collaborator selecting across paragraphs and deleting shows the same in the other window", () => {
    const handle = documentWith(["One two three", "four five", "six seven"]);
    const other = new Repo({ network: [] }).clone(handle);
    const { plugin } = writerSyncPlugin({ adapter: schemaAdapter, handle: other as DocHandle<unknown>, path: TEXT_PATH });
    const bobs = EditorState.create({ schema: s, doc: init(other as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc, plugins: [plugin] });
    // From inside "three" to inside "seven": two paragraph breaks.
    const from = 1 + "One two th".length;
    const to = bobs.doc.content.size - 1 - "ven".length;
    const selected = bobs.apply(bobs.tr.setSelection(TextSelection.create(bobs.doc, from, to)));
    selected.apply(selected.tr.deleteSelection());

    const live = liveAfter(handle, other);
    expect(live).toBe(rendered(handle));
    expect(live).toBe('doc(paragraph("One two thven"))');
  });

  it("any deletion of any range shows in the open window as it is in the document (property)", () => {
    const paragraph = fc.string({ unit: fc.constantFrom("a", "b", " ", "é"), minLength: 0, maxLength: 6 });
    fc.assert(
      fc.property(fc.array(paragraph, { minLength: 1, maxLength: 5 }), fc.nat(), fc.nat(), (paragraphs, a, b) => {
        const handle = documentWith(paragraphs);
        // Characters after the first block marker (which a document always keeps).
        const length = paragraphs.join("").length + paragraphs.length - 1;
        if (length === 0) return;
        const start = 1 + (a % length);
        const count = 1 + (b % (length - (start - 1)));
        const live = liveAfter(handle, (d) => A.splice(d, TEXT_PATH, start, count));
        expect(live).toBe(rendered(handle));
      }),
      { numRuns: 300, seed: 17 },
    );
  });
});

describe("a restore while the document is open", () => {
  it("to a version named before a new paragraph was typed: the window shows the restored text, with no stray letter", () => {
    const handle = documentWith(["every page twice."]);
    handle.change((d) => nameVersion(d, A.getHeads(handle.doc()), "Draft", 1));
    // Typing went on: more words, Enter, a new paragraph.
    handle.change((d) => {
      A.splice(d, TEXT_PATH, 18, 0, " Then");
      A.splitBlock(d, TEXT_PATH, 23, BLOCK);
      A.splice(d, TEXT_PATH, 24, 0, "She slept");
    });
    expect(rendered(handle)).toBe('doc(paragraph("every page twice. Then"), paragraph("She slept"))');
    const version = namedVersions(handle.doc())[0]!;
    const live = liveAfter(handle, (d) => restoreVersion(d, A.view(handle.doc(), version.heads) as WriterDocument));
    expect(live).toBe('doc(paragraph("every page twice."))');
    expect(live).toBe(rendered(handle));
  });
});

describe("line breaks, which Automerge keeps as embedded block markers", () => {
  it("a line break typed into bold text: the text after it stays bold in the other window", () => {
    const handle = documentWith(["aa"]);
    handle.change((d) => A.mark(d, TEXT_PATH, { start: 1, end: 3, expand: "after" }, "strong", true));
    const other = new Repo({ network: [] }).clone(handle);
    const bobs = window(other);
    bobs.select(2);
    bobs.run(insertHardBreak);
    const live = liveAfter(handle, other);
    expect(live).toBe('doc(paragraph(strong("a"), hard_break, strong("a")))');
    expect(live).toBe(rendered(handle));
  });

  it("a paragraph holding only a line break becomes a heading, in a window opened on it (the break came from the document)", () => {
    const handle = documentWith([""]);
    window(handle).run(insertHardBreak);
    const reopened = window(handle);
    reopened.run(setBlock("h1"));
    expect(reopened.doc).toBe("doc(heading(hard_break))");
    expect(rendered(handle)).toBe(reopened.doc);
    // The heading has its own marker: a line break does not stand in for its block.
    const doc = s.node("doc", null, [s.node("heading", { level: 1 }, [s.node("hard_break", { isAmgBlock: true })])]);
    expect(pmNodeToSpans(schemaAdapter, doc).filter((x) => x.type === "block").map((x) => String((x as { value: { type: unknown } }).value.type))).toEqual(["heading", "hard-break"]);
  });
});

describe("block markers that change type and parents at once", () => {
  it("a quoted paragraph turned into a heading is a quoted heading in the document (Automerge's updateSpans gave it the parents [paragraph])", () => {
    const handle = documentWith([""]);
    const w = window(handle);
    w.run(insertHardBreak);
    w.run(toggleBlockquote());
    w.run(setBlock("h1"));
    expect(w.doc).toBe("doc(blockquote(heading(hard_break)))");
    expect(rendered(handle)).toBe(w.doc);
  });

  it("updateSpansExactly leaves every marker as asked", () => {
    const handle = documentWith([""]);
    handle.change(quoted);
    const I = (x: string) => new A.ImmutableString(x);
    const wanted: A.Span[] = [
      { type: "block", value: { type: I("blockquote"), parents: [], attrs: {}, isEmbed: false } },
      { type: "block", value: { type: I("heading"), parents: [I("blockquote")], attrs: { level: 1 }, isEmbed: false } },
      { type: "text", value: "x" },
    ];
    handle.change((d) => updateSpansExactly(d, TEXT_PATH, wanted));
    expect(markers(handle)).toEqual([["blockquote", []], ["heading", ["blockquote"]], "x"]);
  });
});

describe("text before the first block marker", () => {
  /** A document whose markers were all removed (a list toggled on and off), and a copy where someone made a list. */
  function bare(): { handle: DocHandle<WriterDocument>; other: DocHandle<WriterDocument> } {
    const handle = documentWith([""]);
    const other = new Repo({ network: [] }).clone(handle);
    handle.change((d) => A.splice(d, TEXT_PATH, 0, 1));
    other.change((d) => A.updateBlock(d, TEXT_PATH, 0, { type: new A.ImmutableString("unordered-list-item"), parents: [], attrs: {} }));
    handle.merge(other);
    return { handle, other };
  }

  it("typed there, arrives in the other window as a paragraph of its own, not inside the list", () => {
    const { handle, other } = bare();
    const live = liveAfter(handle, (d) => A.splice(d, TEXT_PATH, 0, 0, "a"));
    void other;
    expect(live).toBe('doc(paragraph("a"), bullet_list(list_item(paragraph)))');
    expect(live).toBe(rendered(handle));
  });

  it("typed there in bold while the first marker goes, arrives bold", () => {
    // A paragraph holding a line break; the remote change types bold text before the
    // paragraph's marker and removes the marker (P1 found this, in a larger merge).
    const handle = documentWith([""]);
    handle.change((d) => A.splitBlock(d, TEXT_PATH, 1, { type: new A.ImmutableString("hard-break"), parents: [new A.ImmutableString("paragraph")], attrs: {}, isEmbed: true }));
    const live = liveAfter(handle, (d) => {
      A.splice(d, TEXT_PATH, 0, 0, "a");
      A.mark(d, TEXT_PATH, { start: 0, end: 1, expand: "after" }, "strong", true);
      A.splice(d, TEXT_PATH, 1, 1);
    });
    expect(live).toBe('doc(paragraph(strong("a"), hard_break))');
    expect(live).toBe(rendered(handle));
  });

  it("deleted, takes its paragraph with it in the other window", () => {
    const { handle } = bare();
    handle.change((d) => A.splice(d, TEXT_PATH, 0, 0, "a"));
    const live = liveAfter(handle, (d) => A.splice(d, TEXT_PATH, 0, 1));
    expect(live).toBe("doc(bullet_list(list_item(paragraph)))");
    expect(live).toBe(rendered(handle));
  });
});
