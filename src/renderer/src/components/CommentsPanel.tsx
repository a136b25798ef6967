/** The comments panel: open and resolved threads; choosing one shows it beside its text. */
import { useState } from "react";
import type { AnchoredThread } from "../../../shared/comments";
import type { CommentsModel } from "../comments/useComments";
import { COMMENT_SHORTCUT, ThreadCard, useNow } from "./CommentsMargin";

/** How much of a comment the list shows. */
const FIRST_WORDS = 90;

function firstWords(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= FIRST_WORDS ? flat : flat.slice(0, FIRST_WORDS).replace(/\s+\S*$/, "") + "…";
}

export function CommentsPanel({ model, onClose }: { model: CommentsModel; onClose: () => void }) {
  const [tab, setTab] = useState<"open" | "resolved">("open");
  const open = model.threads.filter((t) => !t.thread.resolved);
  const resolved = model.threads.filter((t) => t.thread.resolved);
  const list = tab === "open" ? open : resolved;
  const now = useNow();
  return (
    <aside className="comments-panel" aria-label="All comments">
      <header className="comments-panel-head">
        <h2>Comments</h2>
        <button type="button" className="icon-button" aria-label="Close comments" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="comments-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === "open"} className={tab === "open" ? "selected" : ""} onClick={() => setTab("open")}>
          Open ({open.length})
        </button>
        <button type="button" role="tab" aria-selected={tab === "resolved"} className={tab === "resolved" ? "selected" : ""} onClick={() => setTab("resolved")}>
          Resolved ({resolved.length})
        </button>
      </div>
      <ul className="comments-list" role="tabpanel">
        {list.length === 0 && (
          <li className="comments-empty">
            {tab === "open" ? `No open comments. Select some words and press ${COMMENT_SHORTCUT} to add one.` : "No resolved comments."}
          </li>
        )}
        {list.map((t) => (
          <li key={t.thread.id}>
            {model.active === t.thread.id ? (
              <ThreadCard anchored={t} model={model} now={now} top={null} />
            ) : (
              <PanelItem anchored={t} selected={false} onChoose={() => model.show(t.thread.id)} />
            )}
          </li>
        ))}
      </ul>
    </aside>
  );
}

function PanelItem({ anchored, selected, onChoose }: { anchored: AnchoredThread; selected: boolean; onChoose: () => void }) {
  const { thread, range } = anchored;
  const first = thread.messages[0]!;
  const replies = thread.messages.length - 1;
  return (
    <button type="button" className={`comments-item${selected ? " selected" : ""}`} onClick={onChoose} data-thread={thread.id}>
      <span className="comments-item-head">
        <span className="comment-author">{first.author}</span>
        {replies > 0 && <span className="comments-item-replies">{replies === 1 ? "1 reply" : `${replies} replies`}</span>}
      </span>
      <span className="comments-item-text">{first.deleted ? "Comment deleted" : firstWords(first.text)}</span>
      <span className="comments-item-quote">
        {range ? "" : "On deleted text: "}
        “{firstWords(thread.quote)}”
      </span>
    </button>
  );
}
