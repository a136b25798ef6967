/**
 * Commented text in the editor: where each thread is in ProseMirror positions, and the
 * highlights drawn from that.
 *
 * The places are worked out from the Automerge document (the anchors' cursors) only when
 * the threads change, or when the writer pauses (the margin's hook decides); between
 * those, every transaction maps them, which costs next to nothing per keystroke on a
 * long document.
 */
import { next as A } from "@automerge/automerge/slim";
import { Plugin, PluginKey, type EditorState, type Transaction } from "prosemirror-state";
import { Decoration, DecorationSet, type EditorView } from "prosemirror-view";
import type { Node as PMNode } from "prosemirror-model";
import { amSpliceIdxToPmIdx, eventsWithIndexChanges, traverseSpans } from "@automerge/prosemirror/dist/traversal.js";
import { schemaAdapter } from "../../../shared/editor/schema";
import { TEXT_PATH, type WriterDocument } from "../../../shared/document";
import { threadPlace, type AnchoredThread } from "../../../shared/comments";

/** A thread's text in the editor; `from === to` for a thread on deleted text (where it was). */
export interface CommentSpot {
  id: string;
  from: number;
  to: number;
  resolved: boolean;
}

interface CommentsState {
  spots: CommentSpot[];
  active: string | null;
  set: DecorationSet;
}

type Meta = { spots: CommentSpot[] } | { active: string | null };

export const commentsKey = new PluginKey<CommentsState>("comments");

/**
 * The threads' places in a ProseMirror document made from `doc`'s text. One walk of the
 * spans per thread: only run when the threads change or the writer pauses.
 */
export function commentSpots(doc: WriterDocument, threads: AnchoredThread[], pmDoc: PMNode): CommentSpot[] {
  const spans = A.spans(doc, TEXT_PATH);
  const size = pmDoc.content.size;
  const places = new Map(threads.map(({ thread, range }) => [thread.id, range ? null : threadPlace(doc, thread)]));
  const wanted: number[] = [];
  for (const { thread, range } of threads) {
    if (range) wanted.push(range.start, range.end - 1);
    const place = places.get(thread.id);
    if (place !== null && place !== undefined) wanted.push(Math.min(place, doc.text.length - 1));
  }
  const positions = pmIndexes(spans, wanted);
  const at = (index: number) => positions.get(index) ?? null;
  const out: CommentSpot[] = [];
  for (const { thread, range } of threads) {
    const resolved = !!thread.resolved;
    if (range) {
      const from = at(range.start);
      // The position after the last character: the index after it can be the next
      // block's marker, which maps into that block.
      const last = at(range.end - 1);
      if (from === null || last === null) continue;
      const to = Math.min(size, last + 1);
      if (to > from) {
        out.push({ id: thread.id, from, to, resolved });
        continue;
      }
    }
    // On deleted text (or, never expected, a range that maps to nothing): where it was.
    const place = range ? threadPlace(doc, thread) : (places.get(thread.id) ?? null);
    const index = place === null ? null : Math.min(place, doc.text.length - 1);
    const pos = index === null ? null : range ? amSpliceIdxToPmIdx(schemaAdapter, spans, index) : at(index);
    if (pos !== null) out.push({ id: thread.id, from: Math.min(pos, size), to: Math.min(pos, size), resolved });
  }
  return out;
}

/**
 * The ProseMirror positions of many Automerge indexes in one walk of the spans: what
 * `amSpliceIdxToPmIdx` gives for each, which walks them from the start every time (a
 * hundred comments on a long document took half a second that way).
 */
export function pmIndexes(spans: A.Span[], targets: number[]): Map<number, number | null> {
  const sorted = [...new Set(targets)].sort((a, b) => a - b);
  const out = new Map<number, number | null>();
  let k = 0;
  let insertable: number | null = null;
  for (const state of eventsWithIndexChanges(traverseSpans(schemaAdapter, spans))) {
    if (k >= sorted.length) break;
    while (k < sorted.length && insertable !== null && state.before.amIdx >= sorted[k]!) out.set(sorted[k++]!, insertable);
    const event = state.event;
    if (event.type === "openTag") {
      if (schemaAdapter.schema.nodes[event.tag]?.isTextblock) insertable = state.after.pmIdx;
    } else if (event.type === "leafNode") {
      insertable = state.after.pmIdx;
    } else if (event.type === "text") {
      insertable = state.after.pmIdx;
      while (k < sorted.length && state.after.amIdx >= sorted[k]! && state.before.amIdx + event.text.length >= sorted[k]!) {
        out.set(sorted[k]!, state.before.pmIdx + sorted[k]! - state.before.amIdx - 1);
        k++;
      }
    }
  }
  while (k < sorted.length) out.set(sorted[k++]!, insertable);
  return out;
}

function decorate(doc: PMNode, spots: CommentSpot[], active: string | null): DecorationSet {
  const decorations: Decoration[] = [];
  for (const s of spots) {
    if (s.resolved || s.to <= s.from) continue;
    decorations.push(Decoration.inline(s.from, s.to, { class: s.id === active ? "comment-hl comment-hl-active" : "comment-hl" }, { id: s.id }));
  }
  return DecorationSet.create(doc, decorations);
}

function mapSpots(spots: CommentSpot[], tr: Transaction): CommentSpot[] {
  return spots.map((s) => {
    // Text typed just before or after a comment stays outside it, as in its anchor.
    const from = tr.mapping.map(s.from, s.to > s.from ? 1 : -1);
    const to = Math.max(from, tr.mapping.map(s.to, -1));
    return from === s.from && to === s.to ? s : { ...s, from, to };
  });
}

export function commentsPlugin(): Plugin<CommentsState> {
  return new Plugin<CommentsState>({
    key: commentsKey,
    state: {
      init: () => ({ spots: [], active: null, set: DecorationSet.empty }),
      apply(tr, prev): CommentsState {
        const meta = tr.getMeta(commentsKey) as Meta | undefined;
        if (meta && "spots" in meta) return { spots: meta.spots, active: prev.active, set: decorate(tr.doc, meta.spots, prev.active) };
        const spots = tr.docChanged ? mapSpots(prev.spots, tr) : prev.spots;
        if (meta && "active" in meta) return { spots, active: meta.active, set: decorate(tr.doc, spots, meta.active) };
        if (!tr.docChanged) return prev;
        return { spots, active: prev.active, set: prev.set.map(tr.mapping, tr.doc) };
      },
    },
    props: { decorations: (state) => commentsKey.getState(state)?.set },
  });
}

/** The open thread on the text at `pos` (the innermost, when comments overlap). */
export function commentAt(state: EditorState, pos: number): string | null {
  const here = commentSpotsOf(state).filter((s) => !s.resolved && s.from <= pos && pos < s.to);
  return here.sort((a, b) => a.to - a.from - (b.to - b.from))[0]?.id ?? null;
}

export function commentSpotsOf(state: EditorState): CommentSpot[] {
  return commentsKey.getState(state)?.spots ?? [];
}

export function setCommentSpots(view: EditorView, spots: CommentSpot[]): void {
  view.dispatch(view.state.tr.setMeta(commentsKey, { spots } satisfies Meta).setMeta("addToHistory", false));
}

export function setActiveComment(view: EditorView, active: string | null): void {
  if (commentsKey.getState(view.state)?.active === active) return;
  view.dispatch(view.state.tr.setMeta(commentsKey, { active } satisfies Meta).setMeta("addToHistory", false));
}
