import { useEffect, useRef, useState } from "react";
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import type { HostClient } from "./hostClient";
import { sameHeads } from "../../shared/sync/heads";

export type SaveState = "saved" | "saving" | "offline" | "error";

/** How long after the last change we ask the host; its own save debounce is 20 ms. */
const CONFIRM_DELAY_MS = 120;
const RETRY_MS = 1000;

/**
 * "Saved" is known, not guessed: after each change the host is asked whether the
 * document's current heads are on its disk (it flushes, then checks), and only its
 * yes turns the indicator to saved.
 */
export function useSaveState(handle: DocHandle<unknown>, host: HostClient, connected: boolean, storageOk: boolean, held = false): SaveState {
  const [state, setStateRaw] = useState<SaveState>("saved");
  // Every keystroke reports a change; React is only asked to render when the state flips.
  const current = useRef<SaveState>("saved");
  const setState = (next: SaveState) => {
    if (current.current === next) return;
    current.current = next;
    setStateRaw(next);
  };

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let disposed = false;
    const confirm = () => {
      const heads = A.getHeads(handle.doc() as A.Doc<unknown>);
      host.call("confirmSaved", { url: handle.url, heads }).then(
        ({ saved }) => {
          if (disposed) return;
          const current = A.getHeads(handle.doc() as A.Doc<unknown>);
          const stillCurrent = sameHeads(current, heads);
          if (saved && stillCurrent) setState("saved");
          else schedule(saved ? CONFIRM_DELAY_MS : RETRY_MS);
        },
        () => !disposed && schedule(RETRY_MS),
      );
    };
    const schedule = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(confirm, ms);
    };
    const onChange = () => {
      setState("saving");
      schedule(CONFIRM_DELAY_MS);
    };
    handle.on("heads-changed", onChange);
    return () => {
      disposed = true;
      clearTimeout(timer);
      handle.off("heads-changed", onChange);
    };
  }, [handle, host]);

  if (!storageOk) return "error";
  // Typing held for its burst's change (editor/sync.ts) is not on disk yet.
  const shown = held ? "saving" : state;
  if (!connected && shown !== "saved") return "offline";
  return shown;
}
