import type { NetworkAdapterInterface } from "@automerge/automerge-repo/slim";

/**
 * Makes `adapter` ready only once its other end has answered (its first peer), or after
 * `timeoutMs`. A Repo asked for a document before any peer is ready decides at once that
 * nobody has it: "unavailable". The MessageChannel adapter calls itself ready 100 ms
 * after connecting whether or not the host has answered, and on a loaded machine the
 * host answers later than that: the window then reported the writer's own library or
 * document as unavailable (seen in a CI run as a test's window finding nothing). The
 * host is always there for a window, so waiting for it is right; the timeout only keeps
 * a window whose host never answers from waiting forever.
 */
export function readyWhenPeered<A extends NetworkAdapterInterface>(adapter: A, timeoutMs = 15_000): A {
  let ready = false;
  let resolve!: () => void;
  const whenReady = new Promise<void>((r) => (resolve = r));
  const markReady = () => {
    if (ready) return;
    ready = true;
    clearTimeout(timer);
    resolve();
  };
  const timer = setTimeout(markReady, timeoutMs);
  (timer as { unref?: () => void }).unref?.();
  adapter.on("peer-candidate", markReady);
  adapter.isReady = () => ready;
  adapter.whenReady = () => whenReady;
  return adapter;
}
