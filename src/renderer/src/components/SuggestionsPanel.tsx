/**
 * The list of open suggestions beside the text: who proposed what and when, Accept and
 * Reject on each, all of them, or all of one writer's. Choosing one selects its text.
 * Deciding is an ordinary edit (editor/suggesting.ts): it syncs, and Ctrl+Z undoes it.
 */
import { useEffect, useMemo, useState } from "react";
import { TextSelection, type EditorState } from "prosemirror-state";
import type { EditorView } from "prosemirror-view";
import { listSuggestions, type Suggestion } from "../../../shared/suggestions";
import { USER_COLORS } from "../../../shared/colors";
import type { AuthorInfo } from "../../../shared/document";
import { acceptSuggestions, rejectSuggestions, setSuggester, showSuggestionsPanel, suggestionsPanelOpen, type Suggester, type SuggestionFilter } from "../editor/suggesting";
import { relativeTime } from "../time";
import { SUGGESTING_KEYS } from "./SuggestingSwitch";

/** How much of a suggestion's text the list shows. */
const FIRST_WORDS = 80;

function firstWords(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= FIRST_WORDS ? flat : flat.slice(0, FIRST_WORDS).replace(/\s+\S*$/, "") + "…";
}

const FORMAT_NAMES: Record<string, string> = { strong: "bold", em: "italic", underline: "underline", strike: "strikethrough", code: "code" };

/**
 * A writer's colour: the one they chose (the document's author records), or one made
 * from their writer ID or name, the same on every machine.
 */
function suggestionColor(s: { writer: string | null; author: string }, authors?: Record<string, AuthorInfo>): string {
  const known = Object.values(authors ?? {}).find((a) => (s.writer !== null ? a?.writer === s.writer : a?.name === s.author));
  // A colour read from a document is drawn only when it is one.
  if (known && typeof known.color === "string" && /^#[0-9a-f]{3,8}$/i.test(known.color)) return known.color;
  const key = s.writer ?? s.author;
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return USER_COLORS[h % USER_COLORS.length]!;
}

/** The writer as the list names them. */
function authorName(s: { author: string }): string {
  return s.author.trim() || "Someone";
}

export function SuggestionsPanel({ view, state, who, authors }: { view: EditorView; state: EditorState; who: Suggester; authors?: Record<string, AuthorInfo> }) {
  // The mode needs to know whose suggestions are the writer's own (and what to sign them with).
  const { name, writer } = who;
  // A rename remounts the editor: this runs once more for the old view after it was destroyed.
  useEffect(() => {
    if (!view.isDestroyed) setSuggester(view.state, view.dispatch, { name, writer });
  }, [view, name, writer]);
  const open = suggestionsPanelOpen(state);
  const list = useMemo(() => (open ? listSuggestions(state.doc) : []), [open, state.doc]);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!open) return;
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, [open]);
  if (!open) return null;

  const byAuthor = new Map<string, { writer: string | null; author: string; count: number }>();
  for (const s of list) {
    const key = s.writer ?? `name:${s.author}`;
    const a = byAuthor.get(key) ?? { writer: s.writer, author: s.author, count: 0 };
    a.count++;
    byAuthor.set(key, a);
  }
  const decide = (filter: SuggestionFilter, accept: boolean) => {
    (accept ? acceptSuggestions(filter) : rejectSuggestions(filter))(view.state, view.dispatch);
    view.focus();
  };
  const choose = (s: Suggestion) => {
    const size = view.state.doc.content.size;
    const from = Math.min(s.from, size);
    const to = Math.min(s.to, size);
    view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, from, to)).scrollIntoView());
    view.focus();
  };
  return (
    <aside className="suggestions-panel" aria-label="Suggestions">
      <header className="suggestions-panel-head">
        <h2>Suggestions</h2>
        <button type="button" className="icon-button" aria-label="Close suggestions" onClick={() => showSuggestionsPanel(view.state, view.dispatch, false)}>
          ×
        </button>
      </header>
      {list.length > 0 && (
        <div className="suggestions-all">
          <span>All {list.length}</span>
          <button type="button" className="suggestion-accept" disabled={!view.editable} onClick={() => decide("all", true)}>
            Accept all
          </button>
          <button type="button" className="suggestion-reject" disabled={!view.editable} onClick={() => decide("all", false)}>
            Reject all
          </button>
        </div>
      )}
      {byAuthor.size > 1 &&
        [...byAuthor.values()].map((a) => (
          <div className="suggestions-author" key={a.writer ?? `name:${a.author}`} data-author={a.author}>
            <span className="suggestion-dot" style={{ background: suggestionColor(a, authors) }} />
            <span className="suggestions-author-name">
              {authorName(a)} ({a.count})
            </span>
            <button type="button" className="link-button" disabled={!view.editable} title={`Accept all of ${authorName(a)}'s suggestions`} aria-label={`Accept all of ${authorName(a)}'s suggestions`} onClick={() => decide({ writer: a.writer, author: a.author }, true)}>
              Accept
            </button>
            <button type="button" className="link-button" disabled={!view.editable} title={`Reject all of ${authorName(a)}'s suggestions`} aria-label={`Reject all of ${authorName(a)}'s suggestions`} onClick={() => decide({ writer: a.writer, author: a.author }, false)}>
              Reject
            </button>
          </div>
        ))}
      <ul className="suggestions-list">
        {list.length === 0 && <li className="suggestions-empty">No suggestions. Switch to Suggesting ({SUGGESTING_KEYS}) to propose changes that others can accept or reject.</li>}
        {list.map((s) => (
          <li key={s.id} className="suggestions-item" data-suggestion={s.id}>
            <button type="button" className="suggestions-item-body" onClick={() => choose(s)}>
              <span className="suggestions-item-head">
                <span className="suggestion-dot" style={{ background: suggestionColor(s, authors) }} />
                <span className="suggestion-author">{authorName(s)}</span>
                {s.at > 0 && (
                  <time className="suggestion-time" dateTime={new Date(s.at).toISOString()} title={new Date(s.at).toLocaleString()}>
                    {relativeTime(s.at, now)}
                  </time>
                )}
              </span>
              <span className="suggestions-item-text">{describe(s)}</span>
            </button>
            <span className="suggestions-item-actions">
              <button type="button" className="suggestion-accept" disabled={!view.editable} aria-label={`Accept ${authorName(s)}'s suggestion`} onClick={() => decide({ id: s.id }, true)}>
                Accept
              </button>
              <button type="button" className="suggestion-reject" disabled={!view.editable} aria-label={`Reject ${authorName(s)}'s suggestion`} onClick={() => decide({ id: s.id }, false)}>
                Reject
              </button>
            </span>
          </li>
        ))}
      </ul>
    </aside>
  );
}

/** "Add “very”", "Delete “old”", "Replace “old” with “new”", "Make “this” bold". */
function describe(s: Suggestion) {
  const q = (text: string) => <q>{firstWords(text) || "a line break"}</q>;
  switch (s.kind) {
    case "insertion":
      return <>Add {q(s.inserted)}</>;
    case "deletion":
      return <>Delete {q(s.deleted)}</>;
    case "replacement":
      return (
        <>
          Replace {q(s.deleted)} with {q(s.inserted)}
        </>
      );
    case "format": {
      const added = s.added.map((f) => FORMAT_NAMES[f] ?? f);
      const removed = s.removed.map((f) => FORMAT_NAMES[f] ?? f);
      const what = [added.length ? `make ${added.join(", ")}` : "", removed.length ? `remove ${removed.join(", ")}` : ""].filter(Boolean).join(" and ") || "change the formatting of";
      return (
        <>
          {what[0]!.toUpperCase() + what.slice(1)}: {q(s.inserted)}
        </>
      );
    }
  }
}
