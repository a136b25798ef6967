/**
 * Suggestions converge: two or three writers, each with a window on their own copy of a
 * document (the real sync plugin and binding, the integrity check in strict mode),
 * suggest on the same few words, edit in Editing mode, accept and reject each other's
 * suggestions while the others type inside them, and sync in a random order, sometimes
 * after long stretches offline. Once every copy has every change:
 *
 * - every Automerge document holds the same text and marks;
 * - every window shows the same ProseMirror document, and it is the document's rendering;
 * - listing suggestions gives the same list everywhere.
 *
 * Seeded (SUGGEST_SEED), sized (SUGGEST_RUNS, default 60) and bounded in time
 * (SUGGEST_TIME_LIMIT_MS, default 60 s).
 */
import "@automerge/automerge";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { next as A } from "@automerge/automerge";
import { Repo, type DocHandle } from "@automerge/automerge-repo";
import { TextSelection } from "prosemirror-state";
import { undo } from "prosemirror-history";
import { splitBlock } from "prosemirror-commands";
import { replaceAll, SearchQuery, setSearchState } from "prosemirror-search";
import { Fragment, Slice } from "prosemirror-model";
import type { Node as PMNode } from "prosemirror-model";
import { schema } from "../../src/shared/editor/schema";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { renderDocument, sameContent } from "../../src/renderer/src/editor/integrity";
import { acceptSuggestions, isSuggesting, rejectSuggestions, setSuggester, suggestingPlugin, suggestTransaction, toggleSuggesting } from "../../src/renderer/src/editor/suggesting";
import { toggleInlineMark } from "../../src/renderer/src/editor/commands";
import { listSuggestions } from "../../src/shared/suggestions";
import { EditorWindow } from "../faults/support/editorWindow";

const SEED = Number(process.env.SUGGEST_SEED ?? 2412);
const RUNS = Number(process.env.SUGGEST_RUNS ?? 60);
const TIME_LIMIT_MS = Number(process.env.SUGGEST_TIME_LIMIT_MS ?? 60_000);

const NAMES = ["Ada", "Bob", "Cy"];

/** A writer's window, as the app makes it (setup.ts), without a browser: an editor window whose transactions Suggesting mode rewrites. */
class SuggestingWindow extends EditorWindow {
  constructor(
    handle: DocHandle<WriterDocument>,
    readonly index: number,
  ) {
    let ids = 0;
    super(handle, { plugins: [suggestingPlugin()], rewrite: (state, tr) => suggestTransaction(state, tr, { now: () => 1_000 + ids, newId: () => `${NAMES[index]}-${ids++}` }) });
    setSuggester(this.state, this.dispatch, { name: NAMES[index]!, writer: `writer-${index}` });
  }
}

/** Positions where a caret can be (inside text blocks), in document order. */
function caretPositions(doc: PMNode): number[] {
  const out: number[] = [];
  doc.descendants((node, pos) => {
    if (node.isTextblock) {
      for (let i = 0; i <= node.content.size; i++) out.push(pos + 1 + i);
      return false;
    }
    return true;
  });
  return out;
}

type Op =
  | { kind: "mode"; w: number; on: boolean }
  | { kind: "type"; w: number; at: number; text: string }
  | { kind: "delete"; w: number; at: number; len: number; backwards: boolean }
  | { kind: "replace"; w: number; at: number; len: number; text: string }
  | { kind: "format"; w: number; at: number; len: number; mark: "strong" | "em" }
  | { kind: "enter"; w: number; at: number }
  | { kind: "decide"; w: number; pick: number; accept: boolean; scope: "one" | "author" | "all" }
  | { kind: "undo"; w: number }
  | { kind: "replaceAll"; w: number; find: string; replace: string }
  | { kind: "paste"; w: number; at: number; paragraphs: boolean }
  | { kind: "sync"; from: number; to: number };

const writer = fc.nat(2);
const at = fc.nat(1000);
const word = fc.constantFrom("a", "xy", "new ", "é", " ");
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("mode" as const), w: writer, on: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("type" as const), w: writer, at, text: word }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("delete" as const), w: writer, at, len: fc.integer({ min: 1, max: 6 }), backwards: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("replace" as const), w: writer, at, len: fc.integer({ min: 1, max: 6 }), text: word }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("format" as const), w: writer, at, len: fc.integer({ min: 1, max: 8 }), mark: fc.constantFrom("strong" as const, "em" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("enter" as const), w: writer, at }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("decide" as const), w: writer, pick: fc.nat(10), accept: fc.boolean(), scope: fc.constantFrom("one" as const, "one" as const, "author" as const, "all" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("undo" as const), w: writer }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("replaceAll" as const), w: writer, find: fc.constantFrom("o", "e ", "ck"), replace: fc.constantFrom("", "0", "ee") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("paste" as const), w: writer, at, paragraphs: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("sync" as const), from: writer, to: writer }) },
);

function select(win: SuggestingWindow, pick: number, len: number): { from: number; to: number } {
  const positions = caretPositions(win.state.doc);
  const from = positions[pick % positions.length]!;
  let to = from;
  // Within the same block (a deletion across blocks is exercised by `len` reaching the end).
  for (let i = 0; i < len && positions.includes(to + 1); i++) to++;
  return { from, to };
}

/**
 * Runs `o`, and checks what it did where it was done: an edit of text or marks reached
 * Automerge as the editor had it (the editor never had to be set right from the
 * document afterwards: a mark the binding stored under the wrong name did), and a
 * decision left none of the suggestions it decided.
 */
function apply(wins: SuggestingWindow[], o: Op): void {
  const win = o.kind === "sync" ? null : wins[o.w % wins.length]!;
  const reconciled = win?.stats.reconciled ?? 0;
  const suggesting = win !== null && isSuggesting(win.state);
  const before = win ? textBeforeSuggestions(win.state.doc) : "";
  run(wins, o);
  if (win && ["type", "delete", "replace", "format", "decide", "replaceAll"].includes(o.kind)) {
    expect(win.stats.reconciled, `${o.kind} by ${NAMES[win.index]} reached the document as the editor had it`).toBe(reconciled);
  }
  // In Suggesting mode an edit of text removes nothing but the writer's own suggested text.
  if (win && suggesting && ["type", "delete", "replace", "format", "replaceAll"].includes(o.kind)) {
    expect(textBeforeSuggestions(win.state.doc), `${o.kind} by ${NAMES[win.index]} in Suggesting mode kept the text`).toBe(before);
  }
}

/** The text as it was before any suggested insertion (struck text included), blocks run together. */
function textBeforeSuggestions(doc: PMNode): string {
  let text = "";
  doc.descendants((node) => {
    if (node.isText && !node.marks.some((m) => m.type.name === "insertion")) text += node.text;
    return true;
  });
  return text;
}

function run(wins: SuggestingWindow[], o: Op): void {
  if (o.kind === "sync") {
    if (o.from % wins.length !== o.to % wins.length) wins[o.to % wins.length]!.handle.merge(wins[o.from % wins.length]!.handle);
    return;
  }
  const win = wins[o.w % wins.length]!;
  const setCaret = (from: number, to = from) => win.dispatch(win.state.tr.setSelection(TextSelection.create(win.state.doc, from, to)));
  switch (o.kind) {
    case "mode":
      toggleSuggesting(win.state, win.dispatch, o.on);
      return;
    case "type": {
      const { from } = select(win, o.at, 0);
      setCaret(from);
      for (const ch of o.text) win.dispatch(win.state.tr.insertText(ch, win.state.selection.from, win.state.selection.to));
      return;
    }
    case "delete": {
      const { from } = select(win, o.at, 0);
      // The browser's Backspace and Delete, one character at a time from the caret.
      setCaret(from);
      for (let i = 0; i < o.len; i++) {
        const head = win.state.selection.head;
        const $head = win.state.doc.resolve(head);
        const edge = o.backwards ? $head.parentOffset === 0 : $head.parentOffset === $head.parent.content.size;
        if (edge) return;
        win.dispatch(o.backwards ? win.state.tr.delete(head - 1, head) : win.state.tr.delete(head, head + 1));
      }
      return;
    }
    case "replace": {
      const { from, to } = select(win, o.at, o.len);
      setCaret(from, to);
      win.dispatch(win.state.tr.insertText(o.text, from, to));
      return;
    }
    case "format": {
      const { from, to } = select(win, o.at, o.len);
      setCaret(from, to);
      toggleInlineMark(o.mark)(win.state, win.dispatch);
      return;
    }
    case "enter":
      setCaret(select(win, o.at, 0).from);
      splitBlock(win.state, win.dispatch);
      return;
    case "decide": {
      const open = listSuggestions(win.state.doc);
      const s = open[o.pick % Math.max(1, open.length)];
      if (!s) return;
      const filter = o.scope === "all" ? ("all" as const) : o.scope === "author" ? { writer: s.writer, author: s.author } : { id: s.id };
      (o.accept ? acceptSuggestions(filter) : rejectSuggestions(filter))(win.state, win.dispatch);
      const left = listSuggestions(win.state.doc).filter((x) => (filter === "all" ? true : "id" in filter ? x.id === filter.id : x.writer === filter.writer && (filter.writer !== null || x.author === filter.author)));
      expect(left, "what was decided is no longer suggested").toEqual([]);
      return;
    }
    case "undo":
      undo(win.state, win.dispatch);
      return;
    case "replaceAll":
      win.dispatch(setSearchState(win.state.tr, new SearchQuery({ search: o.find, replace: o.replace })));
      replaceAll(win.state, win.dispatch);
      return;
    case "paste": {
      setCaret(select(win, o.at, 0).from);
      const p = (text: string) => schema.nodes.paragraph!.create(null, schema.text(text));
      const slice = o.paragraphs ? new Slice(Fragment.from([p("one"), p("two")]), 1, 1) : new Slice(Fragment.from(schema.text("pasted")), 0, 0);
      win.dispatch(win.state.tr.replaceSelection(slice).setMeta("paste", true));
      return;
    }
  }
}

/** Text and marks as Automerge holds them. */
function automergeContent(handle: DocHandle<WriterDocument>): string {
  return stable(A.spans(handle.doc(), TEXT_PATH));
}

/** JSON with object keys sorted: the order in which a block's attributes were learnt is not content. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v));
}

function runCase(writers: number, ops: Op[], order: number[]): { suggestions: number } {
  const repo = new Repo({ network: [] });
  const first = repo.create<WriterDocument>();
  first.change((d) => initDocument(d, "Suggestions", 0));
  const handles = [first];
  const wins = [new SuggestingWindow(first, 0)];
  wins[0]!.dispatch(wins[0]!.state.tr.insertText("The quick brown fox", 1));
  for (let i = 1; i < writers; i++) {
    const h = repo.clone(first);
    handles.push(h);
    wins.push(new SuggestingWindow(h, i));
  }
  // Everyone starts in Suggesting mode; "mode" steps switch some back.
  for (const w of wins) toggleSuggesting(w.state, w.dispatch, true);
  try {
    for (const o of ops) apply(wins, o);
    // Everything reaches everyone, in a random order, twice round so that all have all.
    for (let round = 0; round < 2; round++) {
      for (const k of order) {
        const from = k % writers;
        for (let to = 0; to < writers; to++) if (to !== from) handles[to]!.merge(handles[from]!);
      }
      for (let from = 0; from < writers; from++) for (let to = 0; to < writers; to++) if (to !== from) handles[to]!.merge(handles[from]!);
    }
    const content = handles.map(automergeContent);
    for (const c of content) expect(c).toBe(content[0]);
    const rendered = renderDocument(first as DocHandle<unknown>);
    for (const w of wins) {
      expect(sameContent(w.state.doc, renderDocument(w.handle as DocHandle<unknown>)), `${NAMES[w.index]}'s window shows the document`).toBe(true);
      expect(sameContent(w.state.doc, rendered), `${NAMES[w.index]}'s window is everyone's`).toBe(true);
    }
    const lists = wins.map((w) => JSON.stringify(listSuggestions(w.state.doc)));
    for (const l of lists) expect(l).toBe(lists[0]);
    // What the integrity check found along the way: the editor never showed what the document did not hold.
    for (const w of wins) expect(w.mismatches).toEqual([]);
    return { suggestions: listSuggestions(rendered).length };
  } finally {
    for (const w of wins) w.close();
  }
}

describe("suggestions converge", () => {
  it("two and three writers suggesting, deciding and editing on the same words converge to one document on every copy", { timeout: TIME_LIMIT_MS + 30_000 }, () => {
    const seen = { cases: 0, writers: {} as Record<number, number>, withSuggestions: 0, decided: 0 };
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3 }), fc.array(op, { minLength: 5, maxLength: 40 }), fc.array(fc.nat(2), { minLength: 1, maxLength: 6 }), (writers, ops, order) => {
        seen.cases++;
        seen.writers[writers] = (seen.writers[writers] ?? 0) + 1;
        seen.decided += ops.filter((o) => o.kind === "decide").length;
        const { suggestions } = runCase(writers, ops, order);
        if (suggestions > 0) seen.withSuggestions++;
      }),
      {
        seed: SEED,
        numRuns: RUNS,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        // Running out of time is a failure, not a pass with fewer cases (60 cases take
        // about 8 s on a quiet 2-core machine: the limit leaves room for a busy one).
        markInterruptAsFailure: true,
        ...(process.env.SUGGEST_PATH ? { path: process.env.SUGGEST_PATH } : {}),
      },
    );
    console.log(`suggestions converge: ${seen.cases} cases ${JSON.stringify(seen.writers)}, ${seen.withSuggestions} ending with open suggestions, ${seen.decided} decisions`);
    expect(seen.withSuggestions).toBeGreaterThan(0);
  });

  it("accepting while the other writer types inside the suggestion converges", () => {
    runCase(
      2,
      [
        { kind: "type", w: 0, at: 5, text: "new " },
        { kind: "sync", from: 0, to: 1 },
        { kind: "type", w: 1, at: 7, text: "xy" },
        { kind: "decide", w: 0, pick: 0, accept: true, scope: "one" },
        { kind: "delete", w: 1, at: 8, len: 3, backwards: true },
      ],
      [0, 1],
    );
  });

  it("two writers deleting and replacing the same words, one of them offline, converge", () => {
    runCase(
      3,
      [
        { kind: "replace", w: 0, at: 5, len: 5, text: "slow" },
        { kind: "delete", w: 1, at: 8, len: 4, backwards: true },
        { kind: "mode", w: 2, on: false },
        { kind: "type", w: 2, at: 6, text: "xy" },
        { kind: "sync", from: 1, to: 2 },
        { kind: "decide", w: 2, pick: 0, accept: false, scope: "all" },
      ],
      [2, 0, 1],
    );
  });
});
