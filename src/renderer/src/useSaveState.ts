import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import type { HostClient } from "./hostClient";
import { sameHeads } from "../../shared/sync/heads";

export type SaveState = "saved" | "saving" | "offline" | "error";

/** How long after the last change we ask the host; its own save debounce is 20 ms. */
const CONFIRM_DELAY_MS = 120;
const RETRY_MS = 1000;

/**
 * Whether the editor holds typing for its burst's change (editor/sync.ts): a value the
 * save indicator subscribes to by itself, so that the keystroke that starts a burst
 * re-renders the indicator alone, at once, and not the whole editor pane.
 */
export class HeldFlag {
  #held = false;
  readonly #listeners = new Set<() => void>();
  readonly get = (): boolean => this.#held;
  readonly set = (held: boolean): void => {
    if (held === this.#held) return;
    this.#held = held;
    for (const listener of this.#listeners) listener();
  };
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
}

/**
 * Documents whose last change had not been confirmed when their indicator went away
 * (the writer switched documents mid-save): the next one starts at "Saving…", not at a
 * "Saved" nobody has checked.
 */
const unconfirmed = new WeakSet<DocHandle<unknown>>();

/**
 * "Saved" is known, not guessed: after each change the host is asked whether the
 * document's current heads are on its disk (it flushes, then checks), and only its
 * yes turns the indicator to saved. A change made before the indicator listened (the
 * opening page's typing, placed as the editor mounts) counts as one it heard.
 */
export function useSaveState(handle: DocHandle<unknown>, host: HostClient, connected: boolean, storageOk: boolean, heldFlag: HeldFlag): SaveState {
  const held = useSyncExternalStore(heldFlag.subscribe, heldFlag.get);
  // The heads this indicator was first drawn for: the document as it came to the window.
  const [drawnAt] = useState(() => ({ handle, heads: A.getHeads(handle.doc() as A.Doc<unknown>) }));
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
          if (saved && stillCurrent) {
            unconfirmed.delete(handle);
            setState("saved");
          } else schedule(saved ? CONFIRM_DELAY_MS : RETRY_MS);
        },
        () => !disposed && schedule(RETRY_MS),
      );
    };
    const schedule = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(confirm, ms);
    };
    const onChange = () => {
      unconfirmed.add(handle);
      setState("saving");
      schedule(CONFIRM_DELAY_MS);
    };
    handle.on("heads-changed", onChange);
    const changedUnheard = drawnAt.handle !== handle || !sameHeads(A.getHeads(handle.doc() as A.Doc<unknown>), drawnAt.heads);
    if (changedUnheard || unconfirmed.has(handle)) onChange();
    return () => {
      disposed = true;
      clearTimeout(timer);
      handle.off("heads-changed", onChange);
    };
  }, [handle, host, drawnAt]);

  if (!storageOk) return "error";
  // Typing held for its burst's change (editor/sync.ts) is not on disk yet.
  const shown = held ? "saving" : state;
  if (!connected && shown !== "saved") return "offline";
  return shown;
}
