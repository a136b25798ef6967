/**
 * The question the desktop app asks, in a native dialog from the main process, before a
 * relay is added or moved to another address: every document in the library
 * goes to that relay, so a page taken over by a hostile document must not be able to
 * decide it alone. Kept apart from index.ts (no Electron import) so that it is
 * unit-tested without Electron; the shape is Electron's MessageBoxOptions.
 */
import type { RelayChange } from "../host/RelaySettings";

export interface RelayQuestion {
  type: "question";
  title: string;
  message: string;
  detail: string;
  buttons: [string, string];
  /** Cancel is the default and what Escape does: nothing goes anywhere unless the writer says so. */
  defaultId: 0;
  cancelId: 0;
  noLink: true;
}

/** The dialog for `change`; button 1 confirms. */
export function relayQuestion(change: RelayChange): RelayQuestion {
  const documents = change.documents === 1 ? "1 document" : `${change.documents} documents`;
  const add = change.kind === "add";
  return {
    type: "question",
    title: add ? "Add a relay" : "Change a relay's address",
    message: add ? `Sync your library through “${change.name}”?` : `Move “${change.name}” to a new address?`,
    detail:
      (add ? `Writer will send ${documents} (every document in your library, and each one you write from now on) to:\n\n${change.url}` : `Writer will send ${documents} to the new address:\n\n${change.url}\n\ninstead of ${change.previousUrl ?? "the old one"}.`) +
      "\n\nConfirm only if you asked for this yourself, and you trust whoever runs that relay.",
    buttons: ["Cancel", add ? "Add relay" : "Change address"],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
  };
}
