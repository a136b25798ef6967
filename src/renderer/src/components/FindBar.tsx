/**
 * Find and replace in the open document, on prosemirror-search: matches are highlighted
 * as the writer types the query, Enter and Shift+Enter walk through them, and a
 * replacement is an ordinary edit (it syncs, and Ctrl+Z takes it back).
 */
import { useEffect, useMemo, useRef, useState } from "react";
import type { EditorView } from "prosemirror-view";
import type { EditorState } from "prosemirror-state";
import { findNext, findPrev, replaceAll, replaceNext, SearchQuery, setSearchState } from "prosemirror-search";

/** Counting stops here; "1,000+ matches" is as useful as the exact number. */
const MAX_COUNTED = 1000;

/** How many matches the query has, and which one the selection is on (1-based, 0 for none). */
function matchPosition(state: EditorState, query: SearchQuery): { total: number; current: number } {
  if (!query.valid) return { total: 0, current: 0 };
  let total = 0;
  let current = 0;
  const { from, to } = state.selection;
  for (let at = 0; total < MAX_COUNTED; ) {
    const match = query.findNext(state, at);
    if (!match) break;
    total++;
    if (match.from === from && match.to === to) current = total;
    at = match.to > match.from ? match.to : match.to + 1;
  }
  return { total, current };
}

export function FindBar({ view, state, withReplace, onClose }: { view: EditorView; state: EditorState; withReplace: boolean; onClose: () => void }) {
  const [search, setSearch] = useState(() => {
    const { from, to, empty } = view.state.selection;
    const selected = empty ? "" : view.state.doc.textBetween(from, to, " ");
    return selected.length <= 200 && !selected.includes("\n") ? selected : "";
  });
  const [replace, setReplace] = useState("");
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [wholeWord, setWholeWord] = useState(false);
  const [regexp, setRegexp] = useState(false);
  const [showReplace, setShowReplace] = useState(withReplace);
  const input = useRef<HTMLInputElement>(null);
  // Literal: "\n" in the field is a backslash and an n, as writers mean it; in a
  // regular expression, $1 in the replacement is the first group.
  const query = useMemo(() => new SearchQuery({ search, replace, caseSensitive, wholeWord, regexp, literal: !regexp }), [search, replace, caseSensitive, wholeWord, regexp]);

  useEffect(() => setShowReplace((s) => s || withReplace), [withReplace]);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, [withReplace]);
  // The query lives in the editor's state (the plugin highlights its matches).
  useEffect(() => {
    view.dispatch(setSearchState(view.state.tr, query));
  }, [view, query]);
  // Closing clears the highlights.
  useEffect(() => () => view.dispatch(setSearchState(view.state.tr, new SearchQuery({ search: "" }))), [view]);

  const { total, current } = matchPosition(state, query);
  const run = (command: typeof findNext) => {
    command(view.state, view.dispatch);
    // Keep the match in view although focus stays in the find field.
    const { from } = view.state.selection;
    const dom = view.domAtPos(from).node;
    (dom instanceof Element ? dom : dom.parentElement)?.scrollIntoView({ block: "center" });
  };
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Escape") {
      e.preventDefault();
      onClose();
      view.focus();
    } else if (e.key === "Enter" && e.target === input.current) {
      e.preventDefault();
      run(e.shiftKey ? findPrev : findNext);
    }
  };
  const status = !search ? "" : !query.valid ? "Not a valid pattern" : total === 0 ? "No matches" : `${current > 0 ? `${current} of ` : ""}${total === MAX_COUNTED ? "1,000+" : total.toLocaleString()} ${total === 1 ? "match" : "matches"}`;

  return (
    <div className="find-bar" role="search" aria-label="Find in document" onKeyDown={onKeyDown}>
      <div className="find-row">
        <input ref={input} className="find-input" aria-label="Find" placeholder="Find" value={search} maxLength={500} onChange={(e) => setSearch(e.target.value)} />
        <span className="find-status" aria-live="polite" data-testid="find-status">
          {status}
        </span>
        <button type="button" className={`tool ${caseSensitive ? "active" : ""}`} aria-pressed={caseSensitive} title="Match case" aria-label="Match case" onClick={() => setCaseSensitive((c) => !c)}>
          Aa
        </button>
        <button type="button" className={`tool ${wholeWord ? "active" : ""}`} aria-pressed={wholeWord} title="Whole words only" aria-label="Whole words" onClick={() => setWholeWord((w) => !w)}>
          W
        </button>
        <button type="button" className={`tool ${regexp ? "active" : ""}`} aria-pressed={regexp} title="Regular expression" aria-label="Regular expression" onClick={() => setRegexp((r) => !r)}>
          .*
        </button>
        <button type="button" className="tool" title="Previous match (Shift+Enter)" aria-label="Previous match" disabled={total === 0} onClick={() => run(findPrev)}>
          ↑
        </button>
        <button type="button" className="tool" title="Next match (Enter)" aria-label="Next match" disabled={total === 0} onClick={() => run(findNext)}>
          ↓
        </button>
        <button type="button" className="link-button" aria-expanded={showReplace} onClick={() => setShowReplace((s) => !s)}>
          Replace…
        </button>
        <button type="button" className="tool" title="Close (Esc)" aria-label="Close find" onClick={onClose}>
          ×
        </button>
      </div>
      {showReplace && (
        <div className="find-row">
          <input className="find-input" aria-label="Replace with" placeholder="Replace with" value={replace} maxLength={500} onChange={(e) => setReplace(e.target.value)} />
          <button
            type="button"
            className="secondary"
            disabled={total === 0 || !view.editable}
            onClick={() => {
              // replaceNext replaces only a match that is selected, and otherwise selects
              // the next one: without findNext first, the first click would do nothing a
              // writer could see change.
              if (current === 0) findNext(view.state, view.dispatch);
              run(replaceNext);
            }}
          >
            Replace
          </button>
          <button type="button" className="secondary" disabled={total === 0 || !view.editable} onClick={() => replaceAll(view.state, view.dispatch)}>
            Replace all
          </button>
        </div>
      )}
    </div>
  );
}
