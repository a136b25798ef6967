import { useEffect, useRef, useState } from "react";
import type { AutomergeUrl, DocHandle, Repo } from "@automerge/automerge-repo/slim";
import { shareChangesFastOnce } from "../../shared/sync/changeBroadcast";
import { broadcastKeystrokes } from "./fastPath";

export type HandleState<T, S = T> =
  | { status: "loading" }
  | { status: "ready"; handle: DocHandle<T>; doc: S }
  | { status: "unavailable"; message: string };

export interface UseHandleOptions<T, S> {
  /** Changing it asks again (a shared document that was not available). */
  attempt?: number;
  /**
   * The part of the document the component shows. The component re-renders only when
   * it changes (Object.is), not on every keystroke elsewhere in the document.
   */
  select?: (doc: T) => S;
  /** Runs before the find, and the find waits for it (savedDocument.ts: load the host's saved copy). */
  beforeFind?: (url: string) => Promise<void>;
}

/** Finds a document in the renderer's Repo and re-renders when (the selected part of) it changes. */
export function useHandle<T, S = T>(repo: Repo, url: string | null, options: UseHandleOptions<T, S> = {}): HandleState<T, S> {
  const [state, setState] = useState<HandleState<T, S>>({ status: "loading" });
  const { attempt = 0 } = options;
  // The latest selector, without making the effect (and the find) depend on its identity.
  const select = useRef(options.select);
  // The URL of the last find, to tell another attempt from another document.
  const asked = useRef<string | null>(null);
  select.current = options.select;
  const beforeFind = useRef(options.beforeFind);
  beforeFind.current = options.beforeFind;
  useEffect(() => {
    if (!url) return;
    let cancelled = false;
    let handle: DocHandle<T> | undefined;
    let shown: { value: S } | undefined;
    const onChange = () => {
      if (cancelled || !handle) return;
      const doc = handle.doc();
      const value = select.current ? select.current(doc) : (doc as unknown as S);
      // Without a selector every change is news: automerge docs are immutable snapshots.
      if (select.current && shown && Object.is(shown.value, value)) return;
      shown = { value };
      setState({ status: "ready", handle, doc: value });
    };
    // Asking again for a document that was not there keeps saying so until it is,
    // rather than flashing "Opening…" at every attempt.
    setState((prev) => (prev.status === "unavailable" && asked.current === url ? prev : { status: "loading" }));
    asked.current = url;
    const abort = new AbortController();
    Promise.resolve(beforeFind.current?.(url))
      .catch(() => undefined)
      .then(() => repo.find<T>(url as AutomergeUrl, { signal: abort.signal }))
      .then((h) => {
        if (cancelled) return;
        handle = h;
        // Keystrokes reach other writers on the fast path as well as by sync.
        shareChangesFastOnce(h, (error) => console.warn("a change broadcast by another writer did not apply; it will arrive by sync", error), broadcastKeystrokes);
        h.on("change", onChange);
        onChange();
      })
      .catch((error: unknown) => {
        if (!cancelled) setState({ status: "unavailable", message: (error as Error).message });
      });
    return () => {
      cancelled = true;
      abort.abort();
      handle?.off("change", onChange);
    };
  }, [repo, url, attempt]);
  return url ? state : { status: "loading" };
}
