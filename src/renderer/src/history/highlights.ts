/**
 * Draws what changed between two versions (shared/history.ts `changedText`, located by
 * Automerge text index) as ProseMirror decorations: inserted text highlighted, removed
 * text shown struck through where it was, formatting and block changes underlined or
 * marked in the margin. Used by the version preview and by the offline-return
 * highlights in the live editor (./offlineReturn.ts).
 */
import type { next as A } from "@automerge/automerge/slim";
import { eventsWithIndexChanges, traverseSpans } from "@automerge/prosemirror/dist/traversal.js";
import type { Node as PMNode } from "prosemirror-model";
import { Decoration, DecorationSet } from "prosemirror-view";
import { schemaAdapter } from "../../../shared/editor/schema";
import { BLOCK_MARKER, type TextChanges } from "../../../shared/history";

/** Removed text longer than this is cut in the middle, so that a deleted chapter does not fill the screen. */
const REMOVED_SHOWN = 400;

/** Where a stretch of the Automerge text is in the ProseMirror document. */
interface Anchor {
  /** Automerge text index of its first character. */
  am: number;
  /** ProseMirror position of that character. */
  pm: number;
  /** Characters of text (0 for the start of an empty text block). */
  length: number;
  /** Whether it is the start of a text block. */
  blockStart: boolean;
}

/**
 * The text runs and text-block starts of a document, from one walk of its spans (the
 * binding's own traversal, so the positions agree with the document it builds).
 */
function anchorsOf(spans: A.Span[]): Anchor[] {
  const anchors: Anchor[] = [];
  for (const { event, before, after } of eventsWithIndexChanges(traverseSpans(schemaAdapter, spans))) {
    // The traversal counts the index of the last character consumed, starting at -1.
    if (event.type === "text") anchors.push({ am: before.amIdx + 1, pm: before.pmIdx, length: event.text.length, blockStart: false });
    else if (event.type === "openTag" && schemaAdapter.schema.nodes[event.tag]?.isTextblock) anchors.push({ am: after.amIdx + 1, pm: after.pmIdx, length: 0, blockStart: true });
  }
  return anchors;
}

/** The last anchor at or before Automerge index `at` (anchors are in order). */
function anchorAt(anchors: Anchor[], at: number): Anchor | undefined {
  let lo = 0;
  let hi = anchors.length - 1;
  let found: Anchor | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (anchors[mid]!.am <= at) {
      found = anchors[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A ProseMirror position for Automerge index `at`: inside text, or at the end of the text before it. */
function pointFor(anchors: Anchor[], at: number): number | null {
  const a = anchorAt(anchors, at) ?? anchors[0];
  if (!a) return null;
  return a.pm + Math.max(0, Math.min(at - a.am, a.length));
}

/** The ProseMirror ranges of the text characters in Automerge range [start, end). */
function rangesFor(anchors: Anchor[], start: number, end: number): [number, number][] {
  const out: [number, number][] = [];
  let i = Math.max(0, anchors.indexOf(anchorAt(anchors, start)!));
  for (; i < anchors.length; i++) {
    const a = anchors[i]!;
    if (a.am >= end) break;
    const s = Math.max(start, a.am);
    const e = Math.min(end, a.am + a.length);
    if (e > s) out.push([a.pm + (s - a.am), a.pm + (e - a.am)]);
  }
  return out;
}

function removedWidget(text: string): HTMLElement {
  const del = document.createElement("del");
  del.className = "hl-removed";
  const shown = text.length > REMOVED_SHOWN ? `${text.slice(0, REMOVED_SHOWN / 2)} … ${text.slice(-REMOVED_SHOWN / 2)}` : text;
  // Block markers are paragraph breaks; other text goes in as text, never as markup.
  del.textContent = shown.split(BLOCK_MARKER).join(" ¶ ") || "¶";
  del.title = "Not in this version";
  return del;
}

export interface HighlightClasses {
  inserted: string;
  removed: boolean;
}

/**
 * Decorations for `changes` on `doc`, whose Automerge text has `spans`. Inserted text
 * gets the class `hl-inserted` (or the one given), removed text a struck-through widget
 * where it was (unless `removed` is false), formatting changes `hl-restyled`, and a
 * block whose kind changed `hl-reblocked`.
 */
export function changeDecorations(doc: PMNode, spans: A.Span[], changes: TextChanges, classes: HighlightClasses = { inserted: "hl-inserted", removed: true }): DecorationSet {
  const anchors = anchorsOf(spans);
  const decos: Decoration[] = [];
  for (const [s, e] of changes.inserted) for (const [from, to] of rangesFor(anchors, s, e)) decos.push(Decoration.inline(from, to, { class: classes.inserted }));
  for (const [s, e] of changes.restyled) for (const [from, to] of rangesFor(anchors, s, e)) decos.push(Decoration.inline(from, to, { class: "hl-restyled" }));
  if (classes.removed) {
    for (const r of changes.removed) {
      const pos = pointFor(anchors, r.at);
      if (pos !== null && pos <= doc.content.size) decos.push(Decoration.widget(pos, () => removedWidget(r.text), { side: -1, key: `removed-${r.at}-${r.text.length}`, ignoreSelection: true }));
    }
  }
  for (const marker of changes.reblocked) {
    const a = anchors.find((x) => x.blockStart && x.am === marker + 1);
    const node = a ? doc.nodeAt(a.pm - 1) : null;
    if (a && node) decos.push(Decoration.node(a.pm - 1, a.pm - 1 + node.nodeSize, { class: "hl-reblocked" }));
  }
  return DecorationSet.create(doc, decos);
}

/** Whether there is anything to show. */
export function hasChanges(changes: TextChanges): boolean {
  return changes.inserted.length + changes.removed.length + changes.restyled.length + changes.reblocked.length > 0;
}
