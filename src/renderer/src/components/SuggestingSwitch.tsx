/**
 * The toolbar's Editing / Suggesting switch for this window (editor/suggesting.ts), and
 * the button that opens the list of suggestions, with how many are open.
 */
import { useMemo } from "react";
import type { EditorState } from "prosemirror-state";
import type { EditorView } from "prosemirror-view";
import { isSuggesting, showSuggestionsPanel, suggestionsPanelOpen, toggleSuggesting } from "../editor/suggesting";
import { countSuggestions } from "../../../shared/suggestions";
import { isMac } from "../editor/setup";

/** Ctrl+Alt+Shift+S (⌘⌥⇧S on a Mac), as the ShortcutsDialog shows it. */
export const SUGGESTING_KEYS = isMac ? "⌘⌥⇧S" : "Ctrl+Alt+Shift+S";

export function SuggestingSwitch({ view, state }: { view: EditorView; state: EditorState }) {
  const on = isSuggesting(state);
  const open = useMemo(() => countSuggestions(state.doc), [state.doc]);
  const panel = suggestionsPanelOpen(state);
  const set = (value: boolean) => {
    toggleSuggesting(view.state, view.dispatch, value);
    view.focus();
  };
  return (
    <span className="suggesting-switch-group">
      <span className="suggesting-switch" role="group" aria-label={`Mode (${SUGGESTING_KEYS} switches)`} title={`Editing changes the text; Suggesting proposes changes others can accept or reject (${SUGGESTING_KEYS})`}>
        <button type="button" aria-pressed={!on} className={on ? "" : "selected"} onMouseDown={(e) => e.preventDefault()} onClick={() => set(false)}>
          Editing
        </button>
        <button type="button" aria-pressed={on} className={on ? "selected suggesting" : ""} onMouseDown={(e) => e.preventDefault()} onClick={() => set(true)}>
          Suggesting
        </button>
      </span>
      <button
        type="button"
        className={`tool suggestions-count ${panel ? "active" : ""}`}
        aria-label={`Suggestions (${open} open)`}
        aria-pressed={panel}
        title="All suggestions: accept or reject them"
        onClick={() => showSuggestionsPanel(view.state, view.dispatch, !panel)}
      >
        {/* A pencil with a tick: changes proposed, to decide (drawn as Icon.tsx draws its icons). */}
        <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.6} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
          <path d="M4 20h4L18.5 9.5l-4-4L4 16zM13 7l4 4M14 20l2 2 4-5" />
        </svg>
        {open > 0 ? <span className="suggestions-badge">{open}</span> : null}
      </button>
    </span>
  );
}
