/**
 * The comment threads of the open document, for the margin and the panel: read from the
 * Automerge document when its threads change, placed in the editor (highlight.ts), and
 * the writer's actions on them, each an ordinary change that syncs and merges.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import type { EditorView } from "prosemirror-view";
import { TextSelection } from "prosemirror-state";
import { pmRangeToAmRange, amSpliceIdxToPmIdx } from "@automerge/prosemirror/dist/traversal.js";
import { schemaAdapter } from "../../../shared/editor/schema";
import { TEXT_PATH, type WriterDocument } from "../../../shared/document";
import {
  addComment,
  anchoredThreads,
  deleteCommentMessage,
  editCommentMessage,
  reopenComment,
  replyToComment,
  resolveComment,
  type AnchoredThread,
  type CommentAuthor,
} from "../../../shared/comments";
import { commentSpots, commentSpotsOf, setActiveComment, setCommentSpots, type CommentSpot } from "./highlight";

/**
 * After typing pauses this long, the places are worked out again from the anchors (when
 * the browser is idle): a walk of the whole text, about 0.2 s on a 100,000-character
 * document with a hundred comments, so not after every burst. Until then the highlights
 * follow the editor's own mapping of each edit, which is what the anchors say but for
 * a whole document re-rendered at once (integrity.ts).
 */
const RESYNC_AFTER_MS = 3000;

/** The ID the composer's words carry in the highlights while a new comment is written. */
export const PENDING = "pending";

/** Words selected for a new comment, held as Automerge cursors so that others' edits meanwhile do not move them. */
interface Pending {
  first: A.Cursor;
  last: A.Cursor;
}

export interface CommentsModel {
  threads: AnchoredThread[];
  active: string | null;
  setActive(id: string | null): void;
  /** A new comment being written on these words (the composer is open), or null. */
  composing: boolean;
  /** Opens the composer on the selection; false when nothing is selected. */
  startComment(): boolean;
  cancelComment(): void;
  postComment(text: string): void;
  reply(id: string, text: string): void;
  edit(id: string, messageId: string, text: string): void;
  remove(id: string, messageId: string): void;
  resolve(id: string): void;
  reopen(id: string): void;
  /** Scrolls the editor to the thread's text and makes it the active thread. */
  show(id: string): void;
  me: CommentAuthor;
}

export interface EditorAccess {
  view: EditorView;
  flush(): void;
  held(): number;
}

export function useComments(handle: DocHandle<WriterDocument>, editor: EditorAccess | null, me: CommentAuthor, onError: (message: string) => void): CommentsModel {
  const [threads, setThreads] = useState<AnchoredThread[]>(() => anchoredThreads(handle.doc()));
  const [active, setActiveState] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const pendingRef = useRef(pending);
  pendingRef.current = pending;
  const errorRef = useRef(onError);
  errorRef.current = onError;

  const place = useCallback(() => {
    if (!editor) return;
    const doc = handle.doc();
    const listed = anchoredThreads(doc);
    const spots: CommentSpot[] = commentSpots(doc, listed, editor.view.state.doc);
    const p = pendingRef.current;
    if (p) {
      try {
        const start = A.getCursorPosition(doc, TEXT_PATH, p.first);
        const end = A.getCursorPosition(doc, TEXT_PATH, p.last) + 1;
        const spans = A.spans(doc, TEXT_PATH);
        const from = amSpliceIdxToPmIdx(schemaAdapter, spans, start);
        const last = amSpliceIdxToPmIdx(schemaAdapter, spans, end - 1);
        if (from !== null && last !== null && last + 1 > from) spots.push({ id: PENDING, from, to: last + 1, resolved: false });
      } catch {
        // The words were deleted meanwhile: the composer stays, posting says why it cannot.
      }
    }
    setCommentSpots(editor.view, spots);
    return listed;
  }, [handle, editor]);

  useEffect(() => {
    if (!editor) return;
    let comments = handle.doc().comments;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let idle: number | undefined;
    const listed = place();
    if (listed) setThreads(listed);
    const onChange = () => {
      const now = handle.doc().comments;
      if (now !== comments) {
        // Threads changed (here or anywhere): read them and place them at once.
        comments = now;
        clearTimeout(timer);
        const next = place();
        if (next) setThreads(next);
        return;
      }
      // Only the text changed: the highlights were mapped through the edit already; once
      // typing pauses they are placed from the anchors again, in case a merge moved
      // them differently than the editor's mapping did.
      clearTimeout(timer);
      if (idle !== undefined) cancelIdleCallback(idle);
      timer = setTimeout(function again() {
        if (editor.held() > 0) timer = setTimeout(again, RESYNC_AFTER_MS);
        else
          idle = requestIdleCallback(
            () => {
              // Whether a thread's words are all deleted (or back) shows in the panel too.
              const next = place();
              if (next) setThreads((prev) => (sameRanges(prev, next) ? prev : next));
            },
            { timeout: RESYNC_AFTER_MS },
          );
      }, RESYNC_AFTER_MS);
    };
    handle.on("change", onChange);
    return () => {
      clearTimeout(timer);
      if (idle !== undefined) cancelIdleCallback(idle);
      handle.off("change", onChange);
    };
  }, [handle, editor, place]);

  useEffect(() => {
    if (editor) place();
  }, [pending, editor, place]);

  const setActive = useCallback(
    (id: string | null) => {
      setActiveState(id);
      if (editor) setActiveComment(editor.view, id);
    },
    [editor],
  );

  const act = useCallback(
    (what: (d: WriterDocument) => void) => {
      editor?.flush();
      try {
        handle.change(what);
      } catch (e) {
        errorRef.current((e as Error).message);
      }
    },
    [handle, editor],
  );

  const startComment = useCallback(() => {
    if (!editor) return false;
    const { from, to, empty } = editor.view.state.selection;
    if (empty) return false;
    editor.flush();
    const doc = handle.doc();
    const range = pmRangeToAmRange(schemaAdapter, A.spans(doc, TEXT_PATH), { from, to });
    if (!range || range.end <= range.start) return false;
    setPending({ first: A.getCursor(doc, TEXT_PATH, range.start, "after"), last: A.getCursor(doc, TEXT_PATH, range.end - 1, "before") });
    setActive(PENDING);
    return true;
  }, [editor, handle, setActive]);

  const cancelComment = useCallback(() => {
    setPending(null);
    setActive(null);
    editor?.view.focus();
  }, [editor, setActive]);

  const postComment = useCallback(
    (text: string) => {
      const p = pendingRef.current;
      if (!p) return;
      let id: string | null = null;
      act((d) => {
        const start = A.getCursorPosition(d, TEXT_PATH, p.first);
        const end = A.getCursorPosition(d, TEXT_PATH, p.last) + 1;
        if (end <= start) throw new Error("The words you were commenting on were deleted meanwhile.");
        id = addComment(d, { start, end }, text, me, Date.now());
      });
      setPending(null);
      setActive(id);
    },
    [act, me, setActive],
  );

  const show = useCallback(
    (id: string) => {
      setActive(id);
      if (!editor) return;
      const { view } = editor;
      const spot = commentSpotsOf(view.state).find((s) => s.id === id);
      if (!spot) return;
      const pos = Math.min(spot.from, view.state.doc.content.size);
      view.dispatch(view.state.tr.setSelection(TextSelection.near(view.state.doc.resolve(pos))).setMeta("addToHistory", false));
      const dom = view.domAtPos(pos).node;
      (dom instanceof Element ? dom : dom.parentElement)?.scrollIntoView({ block: "center" });
    },
    [editor, setActive],
  );

  return useMemo(
    () => ({
      threads,
      active,
      setActive,
      composing: pending !== null,
      startComment,
      cancelComment,
      postComment,
      reply: (id, text) => act((d) => void replyToComment(d, id, text, me, Date.now())),
      edit: (id, messageId, text) => act((d) => editCommentMessage(d, id, messageId, text, me, Date.now())),
      remove: (id, messageId) => act((d) => deleteCommentMessage(d, id, messageId, me)),
      resolve: (id) => act((d) => resolveComment(d, id, me, Date.now())),
      reopen: (id) => act((d) => reopenComment(d, id)),
      show,
      me,
    }),
    [threads, active, setActive, pending, startComment, cancelComment, postComment, act, me, show],
  );
}

function sameRanges(a: AnchoredThread[], b: AnchoredThread[]): boolean {
  return a.length === b.length && a.every((t, i) => t.thread === b[i]!.thread && (t.range === null) === (b[i]!.range === null));
}
