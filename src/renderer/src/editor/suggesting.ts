/**
 * Suggesting mode (track changes), per window: while it is on, the writer's edits are
 * rewritten, before they reach the editor's state, into suggestions others can accept
 * or reject.
 *
 * - Typed and pasted text is inserted with an `insertion` mark (ID, author, time);
 *   typing just after or before one's own insertion continues it.
 * - Deleted text stays, with a `deletion` mark, and the caret moves past it the way the
 *   key says (Backspace to its left, Delete to its right). Text inside one's own
 *   insertion is really deleted: it was never anyone else's.
 * - Typing over a selection strikes the selection and inserts after it, both marks
 *   sharing one ID (a replacement, decided as one).
 * - Toggling bold, italic, underline, strikethrough or code applies the format and
 *   records it in a `format_change` mark (added / removed), so rejecting puts it back.
 *
 * Structure is not suggested. The Automerge binding keeps a block's kind and its
 * boundaries as block markers, which carry no marks, so a suggested paragraph break or
 * heading could not be stored, synced or decided. Structural edits (Enter, joining
 * blocks, lists, headings, quotes, line breaks, links) are therefore applied as ordinary
 * edits, as in Editing mode; text they bring in (a pasted paragraph) is marked as
 * inserted. A deletion that crosses blocks strikes the text in each block and keeps
 * the blocks apart: it never removes anyone's text without a suggestion.
 *
 * Why a rewrite of the transaction (a dispatch wrapper, suggestTransaction) and not a
 * plugin that appends a correction: the sync plugin writes every transaction it sees to
 * Automerge, so text deleted and put back by an appended transaction would be new
 * characters there, and a concurrent edit inside it would be lost. Only the writer's
 * own edits are rewritten: the binding's remote patches (addToHistory false), the
 * integrity repairs (REPAIR_META), undo and redo, and accept and reject
 * (DECISION_META) pass unchanged.
 *
 * IDs are 128 random bits: two writers offline never pick the same one.
 *
 * Accepting and rejecting (acceptSuggestions, rejectSuggestions) are ordinary
 * transactions: accepting an insertion or a format change drops its mark, accepting a
 * deletion deletes the text; rejecting does the opposite, and puts back the formats a
 * format change recorded. A paragraph whose whole text goes with a decision goes too,
 * so that rejecting a suggested paragraph leaves no empty line. They sync like any edit
 * and are undone by whoever made them.
 */
import { Plugin, PluginKey, TextSelection, type Selection, type Command, type EditorState, type Transaction } from "prosemirror-state";
import { AddMarkStep, Mapping, RemoveMarkStep, ReplaceStep, type Step } from "prosemirror-transform";
import { Fragment, Slice, type Mark, type MarkType, type Node as PMNode } from "prosemirror-model";
import { isHistoryTransaction } from "prosemirror-history";
import { keydownHandler } from "prosemirror-keymap";
import { schema } from "../../../shared/editor/schema";
import { formatList, isSuggestionMark, suggestionAttrs, suggestionKey } from "../../../shared/suggestions";
import { REPAIR_META } from "./integrity";

/** Who is suggesting: the name shown to others, and the writer ID that says "mine". */
export interface Suggester {
  name: string;
  writer: string | null;
}

interface SuggestingState {
  on: boolean;
  who: Suggester | null;
  /** Whether this window shows the list of suggestions. */
  panel: boolean;
}

/** Meta on accept and reject transactions: ordinary edits, never rewritten. */
const DECISION_META = "writer:suggestion-decision";
const SET_META = "writer:suggesting";

const suggestingKey = new PluginKey<SuggestingState>("writer-suggesting");

/** The shortcut that switches between Editing and Suggesting. */
const SUGGESTING_SHORTCUT = "Mod-Alt-Shift-s";

const FORMAT_MARKS = new Set(["strong", "em", "underline", "strike", "code"]);
const m = schema.marks;

/** The mode's state, and Mod-Alt-Shift-S to switch it. */
export function suggestingPlugin(): Plugin<SuggestingState> {
  const keys = keydownHandler({ [SUGGESTING_SHORTCUT]: (state, dispatch) => toggleSuggesting(state, dispatch) });
  return new Plugin<SuggestingState>({
    key: suggestingKey,
    state: {
      init: () => ({ on: false, who: null, panel: false }),
      apply(tr, value) {
        const set = tr.getMeta(SET_META) as Partial<SuggestingState> | undefined;
        return set ? { ...value, ...set } : value;
      },
    },
    props: {
      handleKeyDown: keys,
      attributes: (state): Record<string, string> => (isSuggesting(state) ? { "data-suggesting": "true" } : {}),
    },
  });
}

export function isSuggesting(state: EditorState): boolean {
  return suggestingKey.getState(state)?.on === true;
}

/** Switches Suggesting on or off (`on` omitted: the other way). */
export function toggleSuggesting(state: EditorState, dispatch?: (tr: Transaction) => void, on?: boolean): boolean {
  if (!suggestingKey.getState(state)) return false;
  if (dispatch) dispatch(state.tr.setMeta(SET_META, { on: on ?? !isSuggesting(state) }).setMeta("addToHistory", false));
  return true;
}

/** Shows or hides this window's list of suggestions. */
export function showSuggestionsPanel(state: EditorState, dispatch: (tr: Transaction) => void, panel: boolean): void {
  dispatch(state.tr.setMeta(SET_META, { panel }).setMeta("addToHistory", false));
}

export function suggestionsPanelOpen(state: EditorState): boolean {
  return suggestingKey.getState(state)?.panel === true;
}

/** Tells the mode who is suggesting (the writer's name can change while the window is open). */
export function setSuggester(state: EditorState, dispatch: (tr: Transaction) => void, who: Suggester): void {
  const current = suggestingKey.getState(state)?.who;
  if (current && current.name === who.name && current.writer === who.writer) return;
  dispatch(state.tr.setMeta(SET_META, { who }).setMeta("addToHistory", false));
}

/** What creates IDs and reads the clock; tests pass their own. */
export interface SuggestOptions {
  now?: () => number;
  newId?: () => string;
  /** Told when an edit could not be made a suggestion (and so was not made). */
  onRefused?: (error: unknown) => void;
}

/** 128 random bits. getRandomValues, unlike randomUUID, also works in a page that is not a secure context. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The transaction to apply for `tr` (made on `state`): rewritten into suggestions when
 * the window is in Suggesting mode and `tr` is the writer's own edit, else `tr` itself.
 */
export function suggestTransaction(state: EditorState, tr: Transaction, options: SuggestOptions = {}): Transaction {
  const mode = suggestingKey.getState(state);
  if (!mode?.on || !tr.docChanged || tr.before !== state.doc) return tr;
  if (tr.getMeta("addToHistory") === false || tr.getMeta(REPAIR_META) || tr.getMeta(DECISION_META) || isHistoryTransaction(tr)) return tr;
  const who = mode.who ?? { name: "", writer: null };
  try {
    return new Rewrite(state, tr, who, options.now?.() ?? Date.now(), options.newId ?? randomId).run();
  } catch (error) {
    // An edit that cannot be expressed as a suggestion is not applied at all rather
    // than applied unrecorded: the document stays as it was, and the writer is told.
    options.onRefused?.(error);
    return state.tr;
  }
}

class Rewrite {
  readonly out: Transaction;
  /** The ID of the suggestion this transaction makes, once it has one (a replacement shares it). */
  id: string | null = null;
  /** Where the insertion of the last replace step ended, in `out`'s document. */
  insertEnd: number | null = null;
  /** Where the caret goes after a pure deletion, in `out`'s document. */
  deleteCaret: number | null = null;

  constructor(
    readonly state: EditorState,
    readonly tr: Transaction,
    readonly who: Suggester,
    readonly now: number,
    readonly newId: () => string,
  ) {
    this.out = state.tr;
  }

  run(): Transaction {
    const { tr, out } = this;
    /** Positions in the original transaction's current document → positions in `out`'s. */
    let map = new Mapping();
    for (let i = 0; i < tr.steps.length; i++) {
      const step = tr.steps[i]!;
      const start = out.steps.length;
      const mapped = i === 0 ? step : step.map(map);
      if (mapped) this.step(mapped, tr.steps.length === 1);
      const next = new Mapping();
      next.appendMap(step.getMap().invert());
      next.appendMapping(map);
      next.appendMapping(out.mapping.slice(start));
      map = next;
    }
    // Where the caret goes: past what was inserted, or past the struck text the way
    // the key went; otherwise where the writer's own edit put it.
    const single = tr.steps.length === 1 && tr.steps[0] instanceof ReplaceStep;
    let selection: Selection | null = null;
    try {
      if (single && this.insertEnd !== null) selection = TextSelection.create(out.doc, this.insertEnd);
      else if (single && this.deleteCaret !== null) selection = TextSelection.create(out.doc, this.deleteCaret);
      else selection = tr.selection.map(out.doc, map);
    } catch {
      selection = null;
    }
    if (selection) out.setSelection(selection);
    if (tr.storedMarksSet) out.setStoredMarks(tr.storedMarks);
    if (tr.scrolledIntoView) out.scrollIntoView();
    for (const key of ["paste", "uiEvent", "composition", "pointer"]) {
      const value: unknown = tr.getMeta(key);
      if (value !== undefined) out.setMeta(key, value);
    }
    return out;
  }

  step(step: Step, single: boolean): void {
    if (step instanceof ReplaceStep && !(step as unknown as { structure: boolean }).structure) {
      const { from, to, slice } = step as ReplaceStep & { from: number; to: number };
      this.replace(from, to, slice, single);
    } else if ((step instanceof AddMarkStep || step instanceof RemoveMarkStep) && FORMAT_MARKS.has(step.mark.type.name)) {
      const { from, to, mark } = step as (AddMarkStep | RemoveMarkStep) & { from: number; to: number };
      this.format(from, to, mark, step instanceof AddMarkStep);
    } else {
      // Structure (lists, headings, quotes, a task ticked) and other marks (links): as in Editing mode.
      this.out.maybeStep(step);
    }
  }

  /** The writer's own insertion mark on `node`, if it has one. */
  ownInsertion(node: PMNode | null | undefined): Mark | null {
    const mark = node ? m.insertion!.isInSet(node.marks) : undefined;
    return mark && this.isMine(mark) ? mark : null;
  }

  ownDeletion(node: PMNode | null | undefined): Mark | null {
    const mark = node ? m.deletion!.isInSet(node.marks) : undefined;
    return mark && this.isMine(mark) ? mark : null;
  }

  isMine(mark: Mark): boolean {
    // Before the window knows who is writing, nothing is theirs: an anonymous mark from
    // elsewhere is struck, never removed.
    if (this.who.writer === null && this.who.name === "") return false;
    const a = suggestionAttrs(mark);
    return this.who.writer !== null ? a.writer === this.who.writer : a.writer === null && a.author === this.who.name;
  }

  suggestionMark(type: MarkType, id: string, extra: Record<string, unknown> = {}): Mark {
    return type.create({ id, author: this.who.name, writer: this.who.writer, at: this.now, ...extra });
  }

  theId(): string {
    this.id ??= this.newId();
    return this.id;
  }

  replace(from: number, to: number, slice: Slice, single: boolean): void {
    const { out } = this;
    // Each replacement of a transaction is its own suggestion (replace all: one per match).
    this.id = null;
    const doc = out.doc;
    const $from = doc.resolve(from);
    const $to = doc.resolve(to);
    const stepsAtStart = out.steps.length;
    const inline = $from.sameParent($to) && $from.parent.isTextblock && slice.openStart === 0 && slice.openEnd === 0 && isInlineOnly(slice.content);
    // What of the deleted range is others' (or nobody's) text: it is struck, not removed.
    const strike: { from: number; to: number }[] = [];
    const own: { from: number; to: number }[] = [];
    /** Text already struck: it stays, so the edit cannot be applied as it is. */
    let struck = false;
    doc.nodesBetween(from, to, (node, pos, parent) => {
      if (!node.isInline) return true;
      const s = Math.max(from, pos);
      const e = Math.min(to, pos + node.nodeSize);
      if (this.ownInsertion(node)) push(own, s, e);
      else if (node.isText && m.deletion!.isInSet(node.marks)) struck = true;
      else if (node.isText && parent?.type.allowsMarkType(m.deletion!)) push(strike, s, e);
      return false;
    });

    if (strike.length === 0 && !struck) {
      // Nothing of anyone else's goes: the edit is applied as it is, and what it brings in is an insertion.
      const marked = inline ? this.markInserted(slice.content, doc.resolve(from), doc.resolve(to)) : slice.content;
      out.replace(from, to, new Slice(marked, slice.openStart, slice.openEnd));
      const end = out.mapping.slice(stepsAtStart).map(to, 1);
      if (!inline && slice.size > 0) this.markRange(from, end);
      if (slice.size > 0) this.insertEnd = end;
      else this.deleteCaret = this.caretAfterDeletion(from, to, single, from, from);
      return;
    }

    // Strike the others' text (continuing the writer's own deletion next to it), remove
    // the writer's own insertions, and insert what is typed after the struck text.
    const before = doc.resolve(from).nodeBefore;
    const after = doc.resolve(to).nodeAfter;
    const adjacent = slice.size === 0 ? (this.ownDeletion(after) ?? this.ownDeletion(before)) : null;
    const deletion = adjacent ?? this.suggestionMark(m.deletion!, this.theId());
    if (adjacent) this.id = suggestionAttrs(adjacent).id;
    for (const r of strike) out.addMark(r.from, r.to, deletion);
    for (let i = own.length - 1; i >= 0; i--) out.delete(own[i]!.from, own[i]!.to);
    const mapDown = out.mapping.slice(stepsAtStart);
    const start = mapDown.map(from, -1);
    const end = mapDown.map(to, 1);
    if (slice.size > 0) {
      const at = end;
      const $at = out.doc.resolve(at);
      const content = inline ? this.markInserted(slice.content, $at, $at, this.theId()) : slice.content;
      const stepsBefore = out.steps.length;
      out.replace(at, at, new Slice(content, slice.openStart, slice.openEnd));
      const insertEnd = out.mapping.slice(stepsBefore).map(at, 1);
      if (!inline) this.markRange(at, insertEnd, this.theId());
      this.insertEnd = insertEnd;
    } else {
      this.deleteCaret = this.caretAfterDeletion(from, to, single, start, end);
      // Backspace or Delete on text already struck only moves the caret: past the whole
      // struck stretch, so that the next press strikes the letter beyond it.
      if (strike.length === 0 && own.length === 0 && this.deleteCaret !== null) this.deleteCaret = skipStruck(out.doc, this.deleteCaret, this.deleteCaret === start ? -1 : 1);
    }
  }

  /** After a deletion, Backspace leaves the caret before the struck text, Delete after it. */
  caretAfterDeletion(from: number, to: number, single: boolean, start: number, end: number): number | null {
    if (!single) return null;
    const sel = this.state.selection;
    if (sel.empty && sel.head === from && to > from) return end;
    return start;
  }

  /**
   * The slice's text, marked as the writer's insertion: continuing the writer's own
   * insertion next to it, and without any other suggestion's marks it took from where
   * it was typed (text typed inside struck text is not struck).
   */
  markInserted(content: Fragment, $before: ReturnType<PMNode["resolve"]>, $after: ReturnType<PMNode["resolve"]>, id?: string): Fragment {
    const continued = id === undefined ? (this.ownInsertion($before.nodeBefore) ?? this.ownInsertion($after.nodeAfter)) : null;
    const mark = continued ?? this.suggestionMark(m.insertion!, id ?? this.theId());
    const parent = $before.parent;
    const nodes: PMNode[] = [];
    content.forEach((node) => {
      let marks: readonly Mark[] = node.marks.filter((x) => !isSuggestionMark(x));
      if (parent.type.allowsMarkType(m.insertion!)) marks = mark.addToSet(marks);
      nodes.push(node.mark(marks));
    });
    return Fragment.from(nodes);
  }

  /** Marks the text brought in by a structural edit (a pasted paragraph) as the writer's insertion. */
  markRange(from: number, to: number, id?: string): void {
    if (to <= from) return;
    const mark = this.suggestionMark(m.insertion!, id ?? this.theId());
    const { out } = this;
    for (const t of [m.deletion!, m.format_change!]) out.removeMark(from, to, t);
    out.addMark(from, to, mark);
  }

  /** A format toggled: applied, and recorded as a format change on text that is not the writer's own insertion. */
  format(from: number, to: number, mark: Mark, add: boolean): void {
    const { out } = this;
    const doc = out.doc;
    const name = mark.type.name;
    const changes: { from: number; to: number; added: string[]; removed: string[]; existing: Mark | undefined }[] = [];
    doc.nodesBetween(from, to, (node, pos, parent) => {
      if (!node.isText) return true;
      if (this.ownInsertion(node) || !parent?.type.allowsMarkType(m.format_change!)) return false;
      const has = mark.type.isInSet(node.marks) !== undefined;
      if (has === add) return false;
      const existing = m.format_change!.isInSet(node.marks);
      const prev = existing ? { added: formatList(existing.attrs.added), removed: formatList(existing.attrs.removed) } : { added: [], removed: [] };
      const added = prev.added.filter((f) => f !== name);
      const removed = prev.removed.filter((f) => f !== name);
      // Toggling back what this same suggestion changed cancels it.
      if (add && !prev.removed.includes(name)) added.push(name);
      if (!add && !prev.added.includes(name)) removed.push(name);
      changes.push({ from: Math.max(from, pos), to: Math.min(to, pos + node.nodeSize), added, removed, existing });
      return false;
    });
    out.step(add ? new AddMarkStep(from, to, mark) : new RemoveMarkStep(from, to, mark));
    for (const c of changes) {
      if (c.added.length === 0 && c.removed.length === 0) out.removeMark(c.from, c.to, m.format_change!);
      else {
        const id = c.existing && this.isMine(c.existing) ? suggestionAttrs(c.existing).id : this.theId();
        out.addMark(c.from, c.to, this.suggestionMark(m.format_change!, id, { added: c.added, removed: c.removed }));
      }
    }
  }
}

/** From `pos`, the position past the struck text next to it in direction `dir`, within its text block. */
function skipStruck(doc: PMNode, pos: number, dir: -1 | 1): number {
  let $pos = doc.resolve(pos);
  for (;;) {
    const node = dir < 0 ? $pos.nodeBefore : $pos.nodeAfter;
    if (!node || !node.isText || !m.deletion!.isInSet(node.marks)) return $pos.pos;
    $pos = doc.resolve($pos.pos + dir * node.nodeSize);
  }
}

function push(ranges: { from: number; to: number }[], from: number, to: number): void {
  const last = ranges[ranges.length - 1];
  if (last && last.to === from) last.to = to;
  else ranges.push({ from, to });
}

function isInlineOnly(content: Fragment): boolean {
  let inline = true;
  content.forEach((n) => (inline &&= n.isInline));
  return inline;
}

// --- accepting and rejecting ---

/** Which suggestions a decision is about. */
export type SuggestionFilter = { id: string } | { writer: string | null; author: string } | "all";

function matches(mark: Mark, filter: SuggestionFilter): boolean {
  if (filter === "all") return true;
  if ("id" in filter) return suggestionKey(mark) === filter.id;
  const a = suggestionAttrs(mark);
  return filter.writer !== null ? a.writer === filter.writer : a.writer === null && a.author === filter.author;
}

/** Accepts the suggestions the filter names: an ordinary, undoable change. */
export function acceptSuggestions(filter: SuggestionFilter): Command {
  return decide(filter, true);
}

/** Rejects the suggestions the filter names: an ordinary, undoable change. */
export function rejectSuggestions(filter: SuggestionFilter): Command {
  return decide(filter, false);
}

function decide(filter: SuggestionFilter, accept: boolean): Command {
  return (state, dispatch) => {
    const tr = decisionTransaction(state.tr, filter, accept);
    if (!tr) return false;
    if (dispatch) dispatch(tr.setMeta(DECISION_META, true).scrollIntoView());
    return true;
  };
}

/** Adds to `tr` the steps that accept or reject the matching suggestions; null when there are none. */
function decisionTransaction(tr: Transaction, filter: SuggestionFilter, accept: boolean): Transaction | null {
  const doc = tr.doc;
  const remove: { from: number; to: number }[] = [];
  const unmark: { from: number; to: number; mark: Mark }[] = [];
  const reformat: { from: number; to: number; added: string[]; removed: string[] }[] = [];
  let found = false;
  doc.descendants((node, pos) => {
    if (!node.isInline) return true;
    const end = pos + node.nodeSize;
    for (const mark of node.marks) {
      if (!isSuggestionMark(mark) || !matches(mark, filter)) continue;
      found = true;
      const name = mark.type.name;
      if ((name === "insertion" && !accept) || (name === "deletion" && accept)) push(remove, pos, end);
      else unmark.push({ from: pos, to: end, mark });
      if (name === "format_change" && !accept) reformat.push({ from: pos, to: end, added: formatList(mark.attrs.added), removed: formatList(mark.attrs.removed) });
    }
    return false;
  });
  if (!found) return null;
  for (const r of reformat) {
    for (const f of r.added) tr.removeMark(r.from, r.to, schema.marks[f]!);
    for (const f of r.removed) tr.addMark(r.from, r.to, schema.marks[f]!.create());
  }
  for (const u of unmark) tr.removeMark(u.from, u.to, u.mark);
  // A paragraph whose whole text goes (a deleted paragraph accepted, a suggested one
  // rejected) goes with it, where its neighbours let it: no empty line is left behind.
  const emptied = emptiedBlocks(doc, remove);
  const steps = tr.steps.length;
  for (let i = remove.length - 1; i >= 0; i--) tr.delete(remove[i]!.from, remove[i]!.to);
  const map = tr.mapping.slice(steps);
  for (let i = emptied.length - 1; i >= 0; i--) {
    const from = map.map(emptied[i]!.from, 1);
    const to = map.map(emptied[i]!.to, -1);
    const $from = tr.doc.resolve(from);
    const node = tr.doc.nodeAt(from);
    if (!node || !node.isTextblock || node.content.size > 0 || from + node.nodeSize !== to || $from.parent.childCount < 2) continue;
    if (!$from.parent.canReplace($from.index(), $from.index() + 1)) continue;
    tr.delete(from, to);
  }
  return tr;
}

/** The text blocks all of whose content is in `ranges` (sorted, apart): their ranges as nodes. */
function emptiedBlocks(doc: PMNode, ranges: { from: number; to: number }[]): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  if (ranges.length === 0) return out;
  doc.descendants((node, pos) => {
    if (!node.isTextblock) return true;
    const start = pos + 1;
    const end = pos + 1 + node.content.size;
    if (end > start && ranges.some((r) => r.from <= start && r.to >= end)) out.push({ from: pos, to: pos + node.nodeSize });
    return false;
  });
  return out;
}
