/**
 * Other writers' cursors and selections in the text: ProseMirror positions to and from
 * Automerge cursors, and a plugin that draws them. Drawn decorations are mapped through
 * every transaction, so they move with the text as it changes; they are recomputed from
 * the cursors (one A.spans of the document) only when a peer's presence changes.
 */
import { next as A } from "@automerge/automerge/slim";
import { amSpliceIdxToPmIdx, pmRangeToAmRange } from "@automerge/prosemirror/dist/traversal.js";
import type { Node as PMNode } from "prosemirror-model";
import { Plugin, PluginKey, type EditorState, type Transaction } from "prosemirror-state";
import { Decoration, DecorationSet } from "prosemirror-view";
import { TEXT_PATH, type WriterDocument } from "../../../shared/document";
import { schemaAdapter } from "../../../shared/editor/schema";
import type { PresenceSelection, PresenceUser } from "./state";

/**
 * Automerge cursors for a ProseMirror selection, or null if it cannot be placed.
 * `amIndexOf` (the editor's, from the sync plugin's cache) answers most positions
 * without converting the whole text; the rest take one A.spans.
 */
export function selectionToCursors(doc: A.Doc<WriterDocument>, anchor: number, head: number, amIndexOf: (pos: number) => number | null = () => null): PresenceSelection | null {
  try {
    let spans: A.Span[] | null = null;
    const toCursor = (pos: number) => {
      let idx = amIndexOf(pos);
      if (idx === null) {
        spans ??= A.spans(doc, TEXT_PATH);
        const range = pmRangeToAmRange(schemaAdapter, spans, { from: pos, to: pos });
        if (!range) return null;
        idx = range.start;
      }
      return A.getCursor(doc, TEXT_PATH, idx);
    };
    const a = toCursor(anchor);
    const h = anchor === head ? a : toCursor(head);
    return a && h ? { anchor: a, head: h } : null;
  } catch {
    return null;
  }
}

/** ProseMirror positions for Automerge cursors (null if they do not resolve in this document). */
export function cursorsToPositions(doc: A.Doc<WriterDocument>, pmDoc: PMNode, selection: PresenceSelection, spans: A.Span[]): { anchor: number; head: number } | null {
  try {
    const toPos = (cursor: string) => {
      const idx = A.getCursorPosition(doc, TEXT_PATH, cursor);
      const pos = amSpliceIdxToPmIdx(schemaAdapter, spans, idx);
      return pos === null ? null : Math.max(0, Math.min(pmDoc.content.size, pos));
    };
    const anchor = toPos(selection.anchor);
    const head = selection.head === selection.anchor ? anchor : toPos(selection.head);
    return anchor === null || head === null ? null : { anchor, head };
  } catch {
    return null;
  }
}

export interface RemoteCursor {
  peerId: string;
  user: PresenceUser;
  anchor: number;
  head: number;
}

const key = new PluginKey<DecorationSet>("writer-remote-cursors");

function caret(cursor: RemoteCursor): HTMLElement {
  const el = document.createElement("span");
  el.className = "remote-caret";
  el.style.borderColor = cursor.user.color;
  el.setAttribute("data-peer", cursor.peerId);
  // Screen readers hear who is here from the toolbar, not from inside the text.
  el.setAttribute("aria-hidden", "true");
  const label = document.createElement("span");
  label.className = "remote-caret-label";
  label.style.background = cursor.user.color;
  // Drawn by CSS from the attribute, so that it is not text: copying, find and the
  // page's text never pick the name up.
  label.dataset.name = cursor.user.name;
  el.appendChild(label);
  return el;
}

function decorations(doc: PMNode, cursors: RemoteCursor[]): DecorationSet {
  const decos: Decoration[] = [];
  for (const c of cursors) {
    const from = Math.min(c.anchor, c.head);
    const to = Math.max(c.anchor, c.head);
    if (to > from) decos.push(Decoration.inline(from, to, { class: "remote-selection", style: `background-color: ${c.user.color}33` }, { peer: c.peerId }));
    decos.push(Decoration.widget(c.head, () => caret(c), { key: `caret-${c.peerId}-${c.user.color}-${c.user.name}`, side: 1, ignoreSelection: true, peer: c.peerId }));
  }
  return DecorationSet.create(doc, decos);
}

/** The plugin that draws remote cursors; `setRemoteCursors` replaces them. */
export function remoteCursorsPlugin(): Plugin<DecorationSet> {
  return new Plugin<DecorationSet>({
    key,
    state: {
      init: () => DecorationSet.empty,
      apply(tr: Transaction, set: DecorationSet) {
        const next = tr.getMeta(key) as DecorationSet | undefined;
        return next ?? set.map(tr.mapping, tr.doc);
      },
    },
    props: { decorations: (state: EditorState) => key.getState(state) },
  });
}

export function setRemoteCursors(tr: Transaction, cursors: RemoteCursor[]): Transaction {
  return tr.setMeta(key, decorations(tr.doc, cursors)).setMeta("addToHistory", false);
}
