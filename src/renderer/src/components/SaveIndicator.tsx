/**
 * The status bar's "Saved on this computer": a component of its own, so that its changes
 * (one at the start and one at the end of every burst of typing) render it alone, in the
 * keystroke's task, and never the editor pane around it (bench/typing).
 */
import type { DocHandle } from "@automerge/automerge-repo/slim";
import type { HostClient } from "../hostClient";
import { useSaveState, type HeldFlag, type SaveState } from "../useSaveState";

const saveLabels: Record<SaveState, string> = {
  saved: "Saved on this computer",
  saving: "Saving…",
  offline: "Not connected to the host — your edits are kept in this window",
  error: "Cannot write to disk — edits kept, retrying",
};

export function SaveIndicator(props: { handle: DocHandle<unknown>; host: HostClient; connected: boolean; storageOk: boolean; held: HeldFlag; flash: boolean }) {
  const state = useSaveState(props.handle, props.host, props.connected, props.storageOk, props.held);
  return (
    <span className={`save-state save-${state}${props.flash ? " flash" : ""}`} data-testid="save-state">
      {props.flash && state === "saved" ? "Saved — Writer saves as you type" : saveLabels[state]}
    </span>
  );
}
