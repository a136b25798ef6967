/**
 * The ProseMirror ↔ Automerge sync plugin: `@automerge/prosemirror`'s, plus a fast path
 * for typing.
 *
 * Why: the binding's appendTransaction converts the whole document to spans three times
 * and walks them twice for every transaction (am.spans before, inside and after the
 * change, pmRangeToAmRange, and a ChangeSet check). That is linear in the document: on
 * a long text such as the automerge paper it takes far longer than a frame per keystroke
 * (bench/typing has the figures).
 * Typing and deleting inside one text block needs none of it: within a text block the
 * Automerge index of a position is the ProseMirror position plus a constant ("delta")
 * that only structural changes can alter. So plain text edits are spliced straight into
 * Automerge with a cached delta, marks fixed up where Automerge's mark expansion
 * disagrees with ProseMirror's, and everything else (structure, formatting, remote
 * patches) goes through the binding unchanged, which also resets the cache.
 *
 * Relies on two internals of @automerge/prosemirror 0.2.0 (pmRangeToAmRange and
 * amMarksFromPmMarks); the version is pinned exactly in package.json for that reason.
 */
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { syncPlugin, type SchemaAdapter } from "@automerge/prosemirror";
import { pmRangeToAmRange } from "@automerge/prosemirror/dist/traversal.js";
import { amMarksFromPmMarks } from "@automerge/prosemirror/dist/schema.js";
import { Plugin, type EditorState, type Transaction } from "prosemirror-state";
import { ReplaceStep } from "prosemirror-transform";
import type { Node as PMNode } from "prosemirror-model";
import { alignWith, REPAIR_META, renderDocument } from "./integrity";

/** How a block marker appears in Automerge's text string. */
const BLOCK_MARKER = "\uFFFC";

/** One text edit inside a text block: positions in the document before it. */
type Edit = { block: number; probe: number; from: number; to: number; nodes: PMNode[] };

type ChangePayload = { doc: unknown; patches: unknown[]; patchInfo: unknown };
type Listener = (payload: ChangePayload) => void;

/** Where the fast path stands; exposed for tests and the benchmark. */
export interface SyncStats {
  fast: number;
  slow: number;
  /** Automerge changes the fast path made (one per keystroke, or one per burst when grouping). */
  commits: number;
  /** Structural changes after which the binding's editor document differed from the document's rendering, and was set right. */
  reconciled: number;
}

/**
 * Grouping typing into one Automerge change per burst: a document's load time
 * grows much faster than its number of changes, and one change per keystroke is what
 * makes a months-old document slow to open. While the writer is alone in the document,
 * keystrokes are held and committed together when typing pauses or the hold gets long;
 * while anyone else is there, each is committed (and broadcast) at once.
 */
export interface Grouping {
  /** Commit after this long without a keystroke. */
  idleMs: number;
  /** Never hold typing longer than this. */
  maxHoldMs: number;
  /** Clock and timers; the benchmark replays a trace on a virtual clock. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

/**
 * 500 ms is prosemirror-history's newGroupDelay: a change is then what one undo step
 * takes back, a burst in the writer's own rhythm. 1000 ms is the bound on held typing
 * (never more than a second of it uncommitted): what a crash of the whole app can
 * cost a writer who is alone in the document. Blur, hiding the window, quitting,
 * structural edits, anything arriving from the host and anyone else joining commit
 * at once.
 */
export const TYPING_GROUP: Grouping = { idleMs: 500, maxHoldMs: 1000 };

/** A held keystroke: a splice at an index of the text as it is after the ones before it. */
type Held = { at: number; del: number; nodes: PMNode[] };

export function writerSyncPlugin(options: {
  adapter: SchemaAdapter;
  handle: DocHandle<unknown>;
  path: A.Prop[];
  /** Grouping bounds; without them every keystroke is committed at once. */
  grouping?: Grouping;
  /** Told when typing starts being held and when it has been committed (the save indicator). */
  onHeld?: (held: boolean) => void;
}): {
  plugin: Plugin;
  stats: SyncStats;
  amIndexOf: (doc: PMNode, pos: number) => number | null;
  /** Commits held typing now. */
  flush: () => void;
  /** Groups typing (alone in the document) or commits each keystroke (others are here). */
  setGrouping: (on: boolean) => void;
  /** Keystrokes typed but not yet committed. */
  held: () => number;
} {
  const { adapter, handle, path } = options;
  const stats: SyncStats = { fast: 0, slow: 0, commits: 0, reconciled: 0 };
  const grouping = options.grouping;
  const now = grouping?.now ?? (() => Date.now());
  const setTimer = grouping?.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = grouping?.clearTimer ?? ((t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>));
  let groupingOn = grouping !== undefined;
  let held: Held[] = [];
  /** Automerge's text with the held keystrokes applied, while there are any. */
  let virtualText: string | null = null;
  let idleTimer: unknown;
  let holdTimer: unknown;
  let heldSince = 0;
  /** Delta (Automerge index − ProseMirror position) per text block, by document order. */
  let deltas = new Map<number, number>();
  let applyingFast = false;
  let dispatchingRemote = false;
  /** The remote change being dispatched touches blocks (not only text and marks). */
  let remoteStructural = false;

  // The binding listens to the handle; our own fast-path changes must not come back to
  // it as remote patches, and we must know when it is dispatching a remote one.
  const wrapped = new Map<Listener, Listener>();
  const bindingHandle = {
    doc: () => handle.doc(),
    change: (fn: (doc: unknown) => void) => handle.change(fn),
    on(event: "change", listener: Listener) {
      const w: Listener = (payload) => {
        if (applyingFast) return;
        // Changes elsewhere in the document (the title, the authors) neither move text
        // nor concern the binding, whose handler converts the whole text to spans.
        if (!payload.patches.some((patch) => (patch as A.Patch).path[0] === path[0])) return;
        deltas = new Map();
        dispatchingRemote = true;
        remoteStructural = payload.patches.some((patch) => isStructural(patch as A.Patch, path));
        try {
          listener(payload);
        } finally {
          dispatchingRemote = false;
          remoteStructural = false;
        }
      };
      wrapped.set(listener, w);
      handle.on(event, w as never);
    },
    off(event: "change", listener: Listener) {
      const w = wrapped.get(listener);
      if (w) handle.off(event, w as never);
      wrapped.delete(listener);
    },
  };
  const inner = syncPlugin({ adapter, handle: bindingHandle as never, path });
  const innerAppend = inner.spec.appendTransaction!;

  const plugin = new Plugin({
    key: inner.spec.key,
    view: inner.spec.view,
    appendTransaction(transactions: readonly Transaction[], oldState: EditorState, newState: EditorState) {
      // The editor re-rendered from the document (integrity.ts): nothing to write back.
      if (transactions.some((tr) => tr.getMeta(REPAIR_META))) {
        deltas = new Map();
        return undefined;
      }
      if (!dispatchingRemote && transactions.some((tr) => tr.docChanged) && applyFast(transactions)) {
        stats.fast++;
        return undefined;
      }
      if (!transactions.some((tr) => tr.docChanged)) return innerAppend.call(inner, transactions, oldState, newState);
      // The binding reads Automerge's document, which must hold everything typed first.
      flush();
      deltas = new Map();
      if (!dispatchingRemote) stats.slow++;
      const appended = innerAppend.call(inner, transactions, oldState, newState) as Transaction | null | undefined;
      // Structure is where the binding's step-by-step mapping has gone wrong (a list
      // made concurrently, a restore over a merge; found by P1): after a structural
      // change, local or remote, the editor is set to the document's rendering in the
      // same transaction, so that it never shows what the document does not hold.
      if (dispatchingRemote ? !remoteStructural : transactions.every(isTextOnly)) return appended;
      const tr = appended ?? newState.tr;
      if (!alignWith(tr, renderDocument(handle))) return appended;
      stats.reconciled++;
      if (dispatchingRemote) tr.setMeta("addToHistory", false);
      return tr;
    },
  });

  /** Applies a transaction to Automerge if it is a single text edit inside one text block. */
  function applyFast(transactions: readonly Transaction[]): boolean {
    // One transaction of one step is what typing and deleting produce; anything else
    // (several steps, a batch of transactions) goes through the binding.
    const tr = transactions.length === 1 ? transactions[0]! : undefined;
    const step = tr?.steps.length === 1 ? tr.steps[0] : undefined;
    if (!tr || !(step instanceof ReplaceStep)) return false;
    const { from, to, slice } = step as ReplaceStep & { from: number; to: number };
    if (slice.openStart !== 0 || slice.openEnd !== 0) return false;
    const nodes: PMNode[] = [];
    let textOnly = true;
    slice.content.forEach((n) => (n.isText ? nodes.push(n) : (textOnly = false)));
    if (!textOnly) return false;
    const before = tr.docs[0]!;
    const $from = before.resolve(from);
    const $to = before.resolve(to);
    if (!$from.parent.isTextblock || $from.parent !== $to.parent) return false;
    // The delta is measured one character into the block: at a block's very start
    // the binding's mapping cannot tell the text from the block markers before it
    // (found by the property test). An empty block takes the binding's path.
    if (!$from.parent.firstChild?.isText) return false;
    const e: Edit = { block: textblockOrdinal(before, from), probe: $from.start() + 1, from, to, nodes };

    // A block not seen since the last structural change: one walk of the document's
    // spans (the cost the slow path pays on every keystroke).
    if (!deltas.has(e.block)) {
      // Measured on Automerge's text, which must hold the held keystrokes first.
      flush();
      const range = pmRangeToAmRange(adapter, A.spans(handle.doc() as A.Doc<unknown>, path), { from: e.probe, to: e.probe });
      if (!range) return false;
      deltas.set(e.block, range.start - e.probe);
    }

    // Check the edit against the text Automerge holds before touching it: the
    // characters around and under the edit must be the ones the editor sees. If a
    // cached delta is wrong (the binding maps some nested structures ambiguously, found
    // by the property test), the binding's path takes over. Reading the materialised
    // string costs nothing like a walk of the spans.
    if (!agrees(e, before)) {
      deltas = new Map();
      return false;
    }

    if (groupingOn) {
      hold(e);
      return true;
    }

    applyingFast = true;
    stats.commits++;
    try {
      const at = e.from + deltas.get(e.block)!;
      const inserted = e.nodes.map((n) => n.text!).join("");
      const headsBefore = A.getHeads(handle.doc() as A.Doc<unknown>);
      handle.change((doc) => A.splice(doc as A.Doc<unknown>, path, at, e.to - e.from, inserted));
      if (inserted === "") return true;
      // Automerge gives inserted text the marks its expansion rules say, which can
      // differ from the editor's (a mark toggled off, anchors on deleted text). The
      // change's own patch says which marks it got, cheaply; asking Automerge for
      // the marks at an index would walk the whole text.
      const after = handle.doc() as A.Doc<unknown>;
      const got = splicedMarks(A.diff(after, headsBefore, A.getHeads(after)), path, at);
      const fixes: { start: number; node: PMNode }[] = [];
      let start = at;
      for (const node of e.nodes) {
        const want = amMarksFromPmMarks(adapter, node.marks) as Record<string, A.MarkValue>;
        if (!sameMarkSet(want, got)) fixes.push({ start, node });
        start += node.text!.length;
      }
      if (fixes.length > 0) {
        handle.change((doc) => {
          for (const f of fixes) fixMarks(doc as A.Doc<unknown>, f.start, f.node.text!.length, f.node, got);
        });
      }
    } finally {
      applyingFast = false;
    }
    return true;
  }

  /** Automerge's text, with the held keystrokes applied; null when the path holds no text. */
  function currentText(): string | null {
    if (virtualText !== null) return virtualText;
    let text: unknown = handle.doc();
    for (const key of path) text = (text as Record<string | number, unknown>)?.[key];
    return typeof text === "string" ? text : null;
  }

  /** Holds a keystroke for the burst's change, and (re)arms the commit timers. */
  function hold(e: Edit): void {
    const text = currentText()!;
    const at = e.from + deltas.get(e.block)!;
    const del = e.to - e.from;
    virtualText = text.slice(0, at) + e.nodes.map((n) => n.text!).join("") + text.slice(at + del);
    held.push({ at, del, nodes: e.nodes });
    if (held.length === 1) {
      heldSince = now();
      holdTimer = setTimer(flush, grouping!.maxHoldMs);
      options.onHeld?.(true);
    }
    if (idleTimer !== undefined) clearTimer(idleTimer);
    idleTimer = setTimer(flush, Math.min(grouping!.idleMs, Math.max(0, heldSince + grouping!.maxHoldMs - now())));
  }

  /**
   * Commits the held keystrokes as one change. Automerge gives inserted text the marks
   * its expansion rules say, which can differ from the editor's (a mark toggled off):
   * the text's marks are read once after the change (A.marks, a few ms on a novel,
   * where asking per index would walk the text each time) and any difference is set
   * right in a second change.
   */
  function flush(): void {
    if (held.length === 0) return;
    const ops = held;
    held = [];
    virtualText = null;
    if (idleTimer !== undefined) clearTimer(idleTimer);
    if (holdTimer !== undefined) clearTimer(holdTimer);
    idleTimer = holdTimer = undefined;
    applyingFast = true;
    try {
      handle.change((doc) => {
        for (const op of ops) A.splice(doc as A.Doc<unknown>, path, op.at, op.del, op.nodes.map((n) => n.text!).join(""));
      });
      stats.commits++;
      const runs = insertedRuns(ops);
      if (runs.length === 0) return;
      const all = A.marks(handle.doc() as A.Doc<unknown>, path);
      const fixes: { run: Run; have: Record<string, A.MarkValue> }[] = [];
      for (const run of runs) {
        const have: Record<string, A.MarkValue> = {};
        const partial = new Set<string>();
        for (const m of all) {
          if (m.end <= run.start || m.start >= run.end) continue;
          if (m.start <= run.start && m.end >= run.end) have[m.name] = m.value as A.MarkValue;
          else partial.add(m.name);
        }
        const want = amMarksFromPmMarks(adapter, run.node.marks) as Record<string, A.MarkValue>;
        if (partial.size > 0 || !sameMarkSet(want, have)) fixes.push({ run, have: { ...have, ...Object.fromEntries([...partial].map((n) => [n, "partial"])) } });
      }
      if (fixes.length > 0) {
        handle.change((doc) => {
          for (const f of fixes) fixMarks(doc as A.Doc<unknown>, f.run.start, f.run.end - f.run.start, f.run.node, f.have);
        });
      }
    } finally {
      applyingFast = false;
      options.onHeld?.(false);
    }
  }

  /** Whether Automerge's text around an edit's position matches the editor's document before it. */
  function agrees(e: Edit, before: PMNode): boolean {
    const text = currentText();
    if (text === null) return false;
    const at = e.from + deltas.get(e.block)!;
    const $from = before.resolve(e.from);
    const removed = before.textBetween(e.from, e.to);
    // The character before the edit: text in the same block, or the block's marker.
    const prev = $from.parentOffset > 0 ? before.textBetween(e.from - 1, e.from) : BLOCK_MARKER;
    // Automerge's text is a JS string of UTF-16 units, as ProseMirror's positions are.
    return text.slice(at, at + removed.length) === removed && text.slice(at - 1, at) === prev;
  }

  /** Makes the marks Automerge gave the inserted text (by expansion) equal ProseMirror's. */
  function fixMarks(doc: A.Doc<unknown>, at: number, length: number, node: PMNode, have: Record<string, A.MarkValue>): void {
    if (length === 0) return;
    const want = amMarksFromPmMarks(adapter, node.marks) as Record<string, A.MarkValue>;
    for (const name of new Set([...Object.keys(want), ...Object.keys(have)])) {
      if (sameMarkValue(want[name], have[name])) continue;
      const mapping = adapter.markMappings.find((m) => m.automergeMarkName === name);
      const expand = mapping ? adapter.expandConfig(mapping.prosemirrorMark.name) : "none";
      const range = { start: at, end: at + length, expand };
      if (want[name] === undefined) A.unmark(doc, path, range, name);
      else A.mark(doc, path, range, name, want[name]!);
    }
  }

  /**
   * The Automerge index of a position inside a text block that starts with text, from the
   * same per-block delta the fast path keeps (one A.spans when the block has none yet);
   * null elsewhere. For presence: a caret's cursor without converting the whole text.
   */
  function amIndexOf(doc: PMNode, pos: number): number | null {
    const $pos = doc.resolve(pos);
    if (!$pos.parent.isTextblock || !$pos.parent.firstChild?.isText) return null;
    const block = textblockOrdinal(doc, pos);
    let delta = deltas.get(block);
    if (delta === undefined) {
      flush();
      const probe = $pos.start() + 1;
      const range = pmRangeToAmRange(adapter, A.spans(handle.doc() as A.Doc<unknown>, path), { from: probe, to: probe });
      if (!range) return null;
      delta = range.start - probe;
      deltas.set(block, delta);
    }
    return pos + delta;
  }

  return {
    plugin,
    stats,
    amIndexOf,
    flush,
    setGrouping(on: boolean) {
      if (!on) flush();
      groupingOn = on && grouping !== undefined;
    },
    held: () => held.length,
  };
}

/** A run of inserted text (one ProseMirror text node's worth) where it ended up in the text. */
type Run = { start: number; end: number; node: PMNode };

/**
 * Where each held keystroke's inserted text is once all of them are applied: each op's
 * runs are moved through the ops after it (a later deletion may shorten or remove them,
 * a later insertion inside one splits it).
 */
function insertedRuns(ops: Held[]): Run[] {
  let runs: Run[] = [];
  for (const op of ops) {
    const len = op.nodes.reduce((n, node) => n + node.text!.length, 0);
    const mapDel = (p: number) => (p <= op.at ? p : p >= op.at + op.del ? p - op.del : op.at);
    const next: Run[] = [];
    for (const r of runs) {
      const start = mapDel(r.start);
      const end = mapDel(r.end);
      if (end <= start) continue;
      if (start < op.at && op.at < end) {
        next.push({ start, end: op.at, node: r.node }, { start: op.at + len, end: end + len, node: r.node });
      } else if (start >= op.at) next.push({ start: start + len, end: end + len, node: r.node });
      else next.push({ start, end, node: r.node });
    }
    let at = op.at;
    for (const node of op.nodes) {
      const n = node.text!.length;
      if (n > 0) next.push({ start: at, end: at + n, node });
      at += n;
    }
    runs = next;
  }
  return runs;
}

/** The marks of the text spliced in at `at`, from the change's patches. */
function splicedMarks(patches: A.Patch[], path: A.Prop[], at: number): Record<string, A.MarkValue> {
  for (const patch of patches) {
    if (patch.action !== "splice" || patch.path.length !== path.length + 1) continue;
    if (patch.path[path.length] !== at || !path.every((p, i) => patch.path[i] === p)) continue;
    return (patch.marks ?? {}) as Record<string, A.MarkValue>;
  }
  return {};
}

function sameMarkSet(a: Record<string, A.MarkValue>, b: Record<string, A.MarkValue>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!sameMarkValue(a[k], b[k])) return false;
  return true;
}

function sameMarkValue(a: A.MarkValue | undefined, b: A.MarkValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return String(a) === String(b) && typeof a === typeof b;
}

/** The index of the text block containing `pos`, counting text blocks in document order. */
function textblockOrdinal(doc: PMNode, pos: number): number {
  let count = -1;
  doc.nodesBetween(0, pos, (node, start) => {
    if (node.isTextblock) {
      if (start < pos) count++;
      return false;
    }
    return true;
  });
  return count;
}

/**
 * Whether a patch changes structure: anything on a block marker (its insertion, its
 * values), and deletions of more than one character (which may cross a block boundary).
 */
function isStructural(patch: A.Patch, path: A.Prop[]): boolean {
  if (patch.path.length !== path.length + 1) return true;
  if (patch.action === "splice" || patch.action === "mark") return false;
  if (patch.action === "del") return (patch.length ?? 1) > 1;
  return true;
}

/** Whether a transaction only types or deletes text inside one text block. */
function isTextOnly(tr: Transaction): boolean {
  return tr.steps.every((step) => {
    if (!(step instanceof ReplaceStep)) return false;
    const { from, to, slice } = step as ReplaceStep & { from: number; to: number };
    if (slice.openStart !== 0 || slice.openEnd !== 0) return false;
    let text = true;
    slice.content.forEach((n) => (text &&= n.isText));
    if (!text) return false;
    const doc = tr.docs[tr.steps.indexOf(step)]!;
    const $from = doc.resolve(from);
    return $from.parent.isTextblock && $from.sameParent(doc.resolve(to));
  });
}
