/**
 * The comments margin: each open thread beside its text (stacked so that none hides
 * another), the composer for a new comment, and the thread's replies, edits and
 * resolving. Every value shown comes from the document and is rendered as text.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from "react";
import type { EditorState } from "prosemirror-state";
import type { EditorView } from "prosemirror-view";
import { MAX_COMMENT_LENGTH, type AnchoredThread, type CommentMessage } from "../../../shared/comments";
import { commentAt, commentSpotsOf, type CommentSpot } from "../comments/highlight";
import { PENDING, type CommentsModel } from "../comments/useComments";
import { isMac } from "../editor/setup";
import { relativeTime, moment } from "../time";
import "../comments/comments.css";

/** Space between two cards in the margin (px). */
const GAP = 8;

/** The relative times ("5 minutes ago") move on this often. */
const CLOCK_MS = 30_000;

export const COMMENT_SHORTCUT = `${isMac ? "⌘⌥" : "Ctrl+Alt+"}M`;

export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), CLOCK_MS);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/**
 * Tops for cards wanting to be at `want` (in order of the text) with heights `height`:
 * the active one exactly beside its text, those after it pushed down below it, those
 * before it pushed up above it (and down again where that would leave the margin).
 */
export function stackCards(want: number[], height: number[], activeIndex: number): number[] {
  const top = want.slice();
  const pivot = activeIndex >= 0 ? activeIndex : 0;
  for (let i = pivot + 1; i < top.length; i++) top[i] = Math.max(want[i]!, top[i - 1]! + height[i - 1]! + GAP);
  for (let i = pivot - 1; i >= 0; i--) top[i] = Math.min(want[i]!, top[i + 1]! - height[i]! - GAP);
  if (top.length && top[0]! < 0) {
    top[0] = 0;
    for (let i = 1; i < top.length; i++) top[i] = Math.max(top[i]!, top[i - 1]! + height[i - 1]! + GAP);
  }
  return top;
}

/** `showThreads` false: only the composer (the comments panel, open, shows the threads). */
export function CommentsMargin({ model, view, state, showThreads = true }: { model: CommentsModel; view: EditorView; state: EditorState; showThreads?: boolean }) {
  const now = useNow();
  const margin = useRef<HTMLDivElement>(null);
  const cards = useRef(new Map<string, HTMLElement>());
  const [tops, setTops] = useState<Record<string, number>>({});
  const [width, setWidth] = useState(0);

  // Open threads, the active one even when resolved (opened from the panel), and the composer.
  const shown = showThreads ? model.threads.filter((t) => !t.thread.resolved || t.thread.id === model.active) : [];
  const spots = commentSpotsOf(state);
  const ids = [...shown.map((t) => t.thread.id), ...(model.composing ? [PENDING] : [])];

  // Ctrl+Alt+M (⌘⌥M): comment on the selection, wherever focus is in the pane.
  const { startComment } = model;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = isMac ? e.metaKey : e.ctrlKey;
      if (!mod || !e.altKey || e.shiftKey || e.code !== "KeyM") return;
      e.preventDefault();
      startComment();
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [startComment]);

  // A click on commented text opens its thread; elsewhere in the text, none.
  const { setActive, composing } = model;
  useEffect(() => {
    const onClick = (e: MouseEvent) => {
      const at = view.posAtCoords({ left: e.clientX, top: e.clientY });
      if (!composing) setActive(at ? commentAt(view.state, at.pos) : null);
    };
    view.dom.addEventListener("click", onClick);
    return () => view.dom.removeEventListener("click", onClick);
  }, [view, setActive, composing]);

  useEffect(() => {
    const onResize = () => setWidth(window.innerWidth);
    window.addEventListener("resize", onResize);
    return () => window.removeEventListener("resize", onResize);
  }, []);

  // Beside their text: measured after each render, then stacked.
  useLayoutEffect(() => {
    const box = margin.current;
    if (!box) return;
    const base = box.getBoundingClientRect().top;
    const placed: { id: string; want: number; height: number }[] = [];
    for (const id of ids) {
      const spot = spots.find((s) => s.id === id);
      const card = cards.current.get(id);
      if (!spot || !card) continue;
      let want: number;
      try {
        want = view.coordsAtPos(Math.min(spot.from, view.state.doc.content.size), 1).top - base;
      } catch {
        continue;
      }
      placed.push({ id, want, height: card.offsetHeight });
    }
    placed.sort((a, b) => a.want - b.want);
    const activeIndex = placed.findIndex((p) => p.id === model.active);
    const stacked = stackCards(
      placed.map((p) => p.want),
      placed.map((p) => p.height),
      activeIndex,
    );
    const next: Record<string, number> = {};
    placed.forEach((p, i) => (next[p.id] = Math.round(stacked[i]!)));
    setTops((prev) => (sameTops(prev, next) ? prev : next));
  });

  if (ids.length === 0) return <aside className="comments-margin" aria-label="Comments" />;
  return (
    <aside className="comments-margin" aria-label="Comments" ref={margin} data-width={width}>
      {shown.map((t) => (
        <ThreadCard
          key={t.thread.id}
          anchored={onDeletedText(t, spots)}
          model={model}
          now={now}
          top={tops[t.thread.id]}
          cardRef={(el) => (el ? cards.current.set(t.thread.id, el) : cards.current.delete(t.thread.id))}
        />
      ))}
      {model.composing && (
        <Composer
          top={tops[PENDING]}
          cardRef={(el) => (el ? cards.current.set(PENDING, el) : cards.current.delete(PENDING))}
          onPost={model.postComment}
          onCancel={model.cancelComment}
        />
      )}
    </aside>
  );
}

/** The thread as the editor sees it now: its words deleted since the anchors were last read show at once. */
function onDeletedText(t: AnchoredThread, spots: CommentSpot[]): AnchoredThread {
  const spot = spots.find((s) => s.id === t.thread.id);
  return t.range && spot && spot.to <= spot.from ? { ...t, range: null } : t;
}

function sameTops(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(b);
  return keys.length === Object.keys(a).length && keys.every((k) => a[k] === b[k]);
}

/** Enter posts, Shift+Enter starts a new line, Escape cancels. */
function postKeys(onPost: () => void, onCancel: () => void) {
  return (e: ReactKeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      onPost();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    }
  };
}

function Composer({ top, cardRef, onPost, onCancel }: { top: number | undefined; cardRef: (el: HTMLElement | null) => void; onPost: (text: string) => void; onCancel: () => void }) {
  const [text, setText] = useState("");
  const post = () => text.trim() && onPost(text);
  return (
    <div className="comment-card comment-composer active" ref={cardRef} style={{ top: top ?? 0, visibility: top === undefined ? "hidden" : undefined }}>
      <textarea
        autoFocus
        className="comment-input"
        aria-label="New comment"
        placeholder="Add a comment…"
        rows={3}
        maxLength={MAX_COMMENT_LENGTH}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={postKeys(post, onCancel)}
      />
      <div className="comment-actions">
        <button type="button" className="secondary small" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary small" disabled={!text.trim()} onClick={post}>
          Comment
        </button>
      </div>
    </div>
  );
}

/** A thread: placed in the margin at `top`, or in the flow of the panel when `top` is null. */
export function ThreadCard({ anchored, model, now, top, cardRef }: { anchored: AnchoredThread; model: CommentsModel; now: number; top: number | undefined | null; cardRef?: (el: HTMLElement | null) => void }) {
  const { thread, range } = anchored;
  const active = model.active === thread.id;
  const [reply, setReply] = useState("");
  const messages = thread.messages;
  const replies = messages.length - 1;
  return (
    <div
      className={`comment-card${active ? " active" : ""}${thread.resolved ? " resolved" : ""}${top === null ? " in-flow" : ""}`}
      ref={cardRef}
      style={top === null ? undefined : { top: top ?? 0, visibility: top === undefined ? "hidden" : undefined }}
      data-thread={thread.id}
      role="group"
      aria-label={`Comment by ${messages[0]!.author}`}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest("button, textarea")) return;
        // In the panel, a click shows the words; in the margin, it opens the thread.
        if (top === null) model.show(thread.id);
        else if (!active) model.setActive(thread.id);
      }}
    >
      {!range && (
        <p className="comment-deleted">
          On deleted text: <span className="comment-quote">“{thread.quote}”</span>
        </p>
      )}
      {thread.resolved && <p className="comment-resolved-by">Resolved by {thread.resolved.by}</p>}
      {(active ? messages : messages.slice(0, 1)).map((m, i) => (
        <Message key={m.id} message={m} first={i === 0} mine={m.writer === model.me.writer} now={now} compact={!active} threadId={thread.id} model={model} />
      ))}
      {!active && replies > 0 && <p className="comment-more">{replies === 1 ? "1 reply" : `${replies} replies`}</p>}
      {active && (
        <>
          {!thread.resolved && (
            <textarea
              className="comment-input comment-reply"
              aria-label="Reply"
              placeholder="Reply…"
              rows={1}
              maxLength={MAX_COMMENT_LENGTH}
              value={reply}
              onChange={(e) => setReply(e.target.value)}
              onKeyDown={postKeys(
                () => {
                  if (!reply.trim()) return;
                  model.reply(thread.id, reply);
                  setReply("");
                },
                () => (setReply(""), model.setActive(null)),
              )}
            />
          )}
          <div className="comment-actions">
            {thread.resolved ? (
              <button type="button" className="secondary small" onClick={() => model.reopen(thread.id)}>
                Reopen
              </button>
            ) : (
              <>
                {reply.trim() && (
                  <button
                    type="button"
                    className="primary small"
                    onClick={() => {
                      model.reply(thread.id, reply);
                      setReply("");
                    }}
                  >
                    Reply
                  </button>
                )}
                <button type="button" className="secondary small" onClick={() => (model.resolve(thread.id), model.setActive(null))}>
                  Resolve
                </button>
              </>
            )}
          </div>
        </>
      )}
    </div>
  );
}

function Message({ message, first, mine, now, compact, threadId, model }: { message: CommentMessage; first: boolean; mine: boolean; now: number; compact: boolean; threadId: string; model: CommentsModel }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const save = () => {
    if (editing === null || !editing.trim()) return;
    model.edit(threadId, message.id, editing);
    setEditing(null);
  };
  return (
    <div className={`comment-message${first ? " first" : ""}`} data-message={message.id}>
      <div className="comment-head">
        <span className="comment-author">{message.author}</span>
        <time className="comment-time" dateTime={new Date(message.at).toISOString()} title={moment(message.at, now)}>
          {relativeTime(message.at, now)}
        </time>
      </div>
      {editing !== null ? (
        <>
          <textarea
            autoFocus
            className="comment-input"
            aria-label="Edit comment"
            rows={2}
            maxLength={MAX_COMMENT_LENGTH}
            value={editing}
            onChange={(e) => setEditing(e.target.value)}
            onKeyDown={postKeys(save, () => setEditing(null))}
          />
          <div className="comment-actions">
            <button type="button" className="secondary small" onClick={() => setEditing(null)}>
              Cancel
            </button>
            <button type="button" className="primary small" disabled={!editing.trim()} onClick={save}>
              Save
            </button>
          </div>
        </>
      ) : message.deleted ? (
        <p className="comment-text comment-gone">Comment deleted</p>
      ) : (
        <p className={`comment-text${compact ? " compact" : ""}`}>
          {message.text}
          {message.editedAt !== undefined && <span className="comment-edited"> (edited)</span>}
        </p>
      )}
      {mine && !compact && editing === null && !message.deleted && (
        <div className="comment-own">
          {confirming ? (
            <>
              <span>{first ? "Delete this comment and its replies?" : "Delete this reply?"}</span>
              <button type="button" className="link-button danger" onClick={() => model.remove(threadId, message.id)}>
                Delete
              </button>
              <button type="button" className="link-button" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <>
              <button type="button" className="link-button" onClick={() => setEditing(message.text)}>
                Edit
              </button>
              <button type="button" className="link-button" onClick={() => setConfirming(true)}>
                Delete
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}
