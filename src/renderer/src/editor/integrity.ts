/**
 * What the writer sees is what is saved: after each transaction, the editor's document
 * must equal the ProseMirror rendering of the Automerge document.
 *
 * Why a check at all: the binding maps Automerge patches onto the editor's document
 * step by step, and a mapping that is one position off (around a deletion across a
 * paragraph break, say) leaves text on screen that is in no document: the writer goes on
 * typing after a letter that a reload, an export and every other device do not have.
 * Two modes:
 *
 * - "strict" (development, the e2e and property tests): every transaction is checked
 *   as it happens, and a mismatch fails loudly with both texts, so that whatever made
 *   it is found where it happened.
 * - "repair" (the app as writers have it): the check runs when the browser is idle, at
 *   most every two seconds (it renders the whole text), and a mismatch re-renders the
 *   differing range from the document (the document is the truth) and is reported to
 *   the host's log.
 *
 * Typing held for a burst's change (sync.ts) is not in Automerge yet, so the check
 * waits until it has been committed.
 */
import { init } from "@automerge/prosemirror";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { Plugin, PluginKey, TextSelection, type EditorState, type Transaction } from "prosemirror-state";
import type { EditorView } from "prosemirror-view";
import { Mark, type Node as PMNode } from "prosemirror-model";
import { schemaAdapter } from "../../../shared/editor/schema";
import { TEXT_PATH } from "../../../shared/document";
import type { IntegrityMode } from "../../../shared/api";

export type { IntegrityMode };


/** Meta on the transaction that re-renders the editor from the document: not an edit. */
export const REPAIR_META = "writer:repair-from-document";

/** In "repair" mode, the least time between two checks. */
const REPAIR_CHECK_INTERVAL_MS = 2000;

export interface Mismatch {
  /** Where the two first differ, in the editor's document. */
  at: number;
  /** The editor's text and the document's, around the difference. */
  editor: string;
  document: string;
  /** What the last transaction was (remote patches, typing, a command). */
  after: string;
}

/** The document as a window opened now would show it. */
export function renderDocument(handle: DocHandle<unknown>): PMNode {
  return init(handle, TEXT_PATH, { schemaAdapter }).pmDoc;
}

/**
 * Whether two documents show the same thing: the same nodes, attributes, marks and
 * text. Two things are not content and are ignored: `isAmgBlock` (the binding's note of
 * whether a block came from Automerge yet), and marks on a line break. Automerge keeps
 * a line break as an embedded block marker, which has no marks; the editor gives one
 * typed in bold text the bold (so that the writer's next words stay bold), and a mark
 * drawn over a range marks the breaks in it. Neither shows.
 */
export function sameContent(a: PMNode, b: PMNode): boolean {
  if (a === b) return true;
  if (a.type !== b.type || a.text !== b.text || a.childCount !== b.childCount) return false;
  if (!sameAttrs(a.attrs, b.attrs)) return false;
  if (!(a.isInline && a.isLeaf && !a.isText) && !Mark.sameSet(a.marks, b.marks)) return false;
  for (let i = 0; i < a.childCount; i++) if (!sameContent(a.child(i), b.child(i))) return false;
  return true;
}

function sameAttrs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete("isAmgBlock");
  for (const key of keys) if (stable(a[key] ?? null) !== stable(b[key] ?? null)) return false;
  return true;
}

/** JSON with object keys sorted: the order in which a block's attributes were learnt is not content. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) : v));
}

/** Compares the editor's document with the rendering of Automerge's; null when they agree. */
export function findMismatch(doc: PMNode, rendered: PMNode, after = ""): Mismatch | null {
  if (sameContent(doc, rendered)) return null;
  // Where they first differ in content (ProseMirror's findDiffStart would stop at the
  // first difference in bookkeeping instead).
  const at = firstDifference(doc, rendered, 0);
  const ends = { a: at, b: at };
  // Where it is (the nodes around the position), what is there (the node, with its
  // attributes and marks: two texts that read alike can differ in a mark or an
  // attribute), and the text around it.
  const around = (d: PMNode, end: number) => {
    const pos = Math.min(end, d.content.size);
    const $p = d.resolve(pos);
    const path = Array.from({ length: $p.depth + 1 }, (_, i) => $p.node(i).type.name).join(" > ");
    const node = $p.nodeAfter;
    const here = node ? `${node.toString().slice(0, 160)}${node.isText ? "" : ` ${JSON.stringify(node.attrs)}`}` : "(end of block)";
    const text = d.textBetween(Math.max(0, pos - 40), Math.min(d.content.size, pos + 40), "¶");
    return `${path} | ${here} | …${text}…`;
  };
  return { at, editor: around(doc, ends?.a ?? at), document: around(rendered, ends?.b ?? at), after };
}

/** The position (in `a`, starting at `pos`) where the content of `a` and `b` first differs. */
function firstDifference(a: PMNode, b: PMNode, pos: number): number {
  for (let i = 0; i < Math.min(a.childCount, b.childCount); i++) {
    const x = a.child(i);
    const y = b.child(i);
    if (!sameContent(x, y)) {
      if (x.isText && y.isText && Mark.sameSet(x.marks, y.marks)) {
        let k = 0;
        while (k < Math.min(x.text!.length, y.text!.length) && x.text![k] === y.text![k]) k++;
        return pos + k;
      }
      if (x.type === y.type && !x.isLeaf && sameAttrs(x.attrs, y.attrs)) return firstDifference(x, y, pos + 1);
      return pos;
    }
    pos += x.nodeSize;
  }
  return pos;
}

/** The message a strict mismatch throws, with both texts. */
export function describeMismatch(m: Mismatch): string {
  return `The editor drifted from the document at position ${m.at} after ${m.after || "a transaction"}.\n  editor:   ${JSON.stringify(m.editor)}\n  document: ${JSON.stringify(m.document)}`;
}

/**
 * Adds to `tr` the steps that make its document show `rendered` (the document),
 * replacing only the range where they differ. Returns whether anything differed.
 */
export function alignWith(tr: Transaction, rendered: PMNode): boolean {
  if (sameContent(tr.doc, rendered)) return false;
  const start = tr.doc.content.findDiffStart(rendered.content);
  if (start == null) return false;
  const end = tr.doc.content.findDiffEnd(rendered.content) ?? { a: tr.doc.content.size, b: rendered.content.size };
  // findDiffEnd can overlap the start when the texts repeat: widen both ends alike.
  const overlap = Math.max(0, start - Math.min(end.a, end.b));
  tr.replace(start, end.a + overlap, rendered.slice(start, end.b + overlap));
  tr.setMeta(REPAIR_META, true);
  return true;
}

/**
 * A transaction that makes the editor show `rendered` (the document), keeping the
 * writer's caret where it can; null when it already does.
 */
function repairTransaction(state: EditorState, rendered: PMNode): Transaction | null {
  const tr = state.tr.setMeta("addToHistory", false);
  if (!alignWith(tr, rendered)) return null;
  const head = Math.min(tr.mapping.map(state.selection.head), tr.doc.content.size);
  try {
    tr.setSelection(TextSelection.near(tr.doc.resolve(head)));
  } catch {
    // The mapped selection is fine where it is.
  }
  return tr;
}

const integrityKey = new PluginKey("writer-integrity");

/**
 * The check as a plugin. `held` says how many keystrokes are not in Automerge yet;
 * `onMismatch` is told of every mismatch (strict mode also throws, outside the dispatch).
 */
export function integrityPlugin(options: {
  handle: DocHandle<unknown>;
  mode: IntegrityMode;
  held: () => number;
  onMismatch?: (mismatch: Mismatch) => void;
  /**
   * How strict mode makes a mismatch fail: by default an error thrown from a timer, which
   * reaches the page's error handlers (and fails the test) without breaking the dispatch
   * under way. Headless editors in Node tests collect it instead.
   */
  raise?: (error: Error) => void;
}): { plugin: Plugin; /** Checks after held typing was committed (no transaction of its own). */ committed: (view: EditorView) => void } {
  const { handle, mode } = options;
  let lastAfter = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let idle: number | undefined;
  let lastRun = 0;

  /** Re-renders from the document; after the dispatch under way, if there is one. */
  function repair(view: EditorView): void {
    if (view.isDestroyed || options.held() > 0) return;
    const tr = repairTransaction(view.state, renderDocument(handle));
    if (tr) view.dispatch(tr);
  }

  function check(view: EditorView, inUpdate: boolean): void {
    if (options.held() > 0 || view.isDestroyed) return;
    const mismatch = findMismatch(view.state.doc, renderDocument(handle), lastAfter);
    if (!mismatch) return;
    options.onMismatch?.(mismatch);
    if (inUpdate) queueMicrotask(() => repair(view));
    else repair(view);
    if (mode === "strict") {
      const error = new Error(describeMismatch(mismatch));
      if (options.raise) options.raise(error);
      else {
        console.error(error.message);
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  function schedule(view: EditorView): void {
    if (timer !== undefined || idle !== undefined) return;
    const run = () => {
      idle = undefined;
      lastRun = Date.now();
      check(view, false);
    };
    timer = setTimeout(() => {
      timer = undefined;
      if (typeof requestIdleCallback === "function") idle = requestIdleCallback(run, { timeout: 2000 });
      else run();
    }, Math.max(0, lastRun + REPAIR_CHECK_INTERVAL_MS - Date.now()));
  }

  const plugin = new Plugin({
    key: integrityKey,
    state: {
      init: () => null,
      apply(tr, value) {
        if (tr.docChanged && !tr.getMeta(REPAIR_META)) lastAfter = describeTransaction(tr);
        return value;
      },
    },
    view: () => ({
      update(view, prev) {
        if (view.state.doc === prev.doc) return;
        if (mode === "strict") check(view, true);
        else schedule(view);
      },
      destroy() {
        if (timer !== undefined) clearTimeout(timer);
        if (idle !== undefined) cancelIdleCallback(idle);
      },
    }),
  });
  return {
    plugin,
    committed: (view) => {
      if (mode === "strict") queueMicrotask(() => check(view, false));
      else schedule(view);
    },
  };
}

function describeTransaction(tr: Transaction): string {
  const origin = tr.getMeta("addToHistory") === false ? "a change from elsewhere" : "an edit";
  const steps = tr.steps.map((s) => s.toJSON() as { stepType: string; from?: number; to?: number }).map((s) => `${s.stepType} ${s.from ?? ""}–${s.to ?? ""}`);
  return `${origin} (${steps.join(", ")})`;
}
