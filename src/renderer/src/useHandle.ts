import { useEffect, useState } from "react";
import type { AutomergeUrl, DocHandle, Repo } from "@automerge/automerge-repo/slim";

export type HandleState<T> =
  | { status: "loading" }
  | { status: "ready"; handle: DocHandle<T>; doc: T }
  | { status: "unavailable"; message: string };

/**
 * Finds a document in the renderer's Repo and re-renders on every change to it.
 * Changing `attempt` asks again (a shared document that was not available).
 */
export function useHandle<T>(repo: Repo, url: string | null, attempt = 0): HandleState<T> {
  const [state, setState] = useState<HandleState<T>>({ status: "loading" });
  useEffect(() => {
    if (!url) return;
    let cancelled = false;
    let handle: DocHandle<T> | undefined;
    const onChange = () => {
      if (!cancelled && handle) setState({ status: "ready", handle, doc: handle.doc() });
    };
    setState({ status: "loading" });
    const abort = new AbortController();
    repo
      .find<T>(url as AutomergeUrl, { signal: abort.signal })
      .then((h) => {
        if (cancelled) return;
        handle = h;
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
