/**
 * Keystrokes on a fast path, beside the sync protocol.
 *
 * automerge-repo carries a change by its sync protocol: every Repo on the way (the
 * writer's renderer, their host, the relay, the other writer's host and renderer) takes
 * the change in, works out what each of its peers lacks and sends it on. Each of those
 * four steps costs about 2 ms here (bench/propagation), which puts a keystroke 12-14 ms
 * from the other writer's screen at best.
 *
 * So each local change is also broadcast, the moment it is made, as an automerge-repo
 * ephemeral message. Every Repo on the way forwards ephemeral messages to its other
 * peers on that document without taking them in, and a receiving renderer applies the
 * change at once. The sync protocol still carries every change as before: the fast path
 * may drop, reorder or repeat a change at no cost, because Automerge applies a change
 * once, and holds back one whose dependencies have not arrived until they do.
 *
 * A broadcast change is an ordinary Automerge change, so it is trusted exactly as far as
 * the same change would be by sync: a relay drops broadcasts from read-only tokens
 * (`isChangeBroadcast` is the one test for both), and a change that does not apply is
 * ignored.
 */
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle, DocHandleChangePayload, DocHandleEphemeralMessagePayload } from "@automerge/automerge-repo/slim";

export const CHANGE_BROADCAST = "writer/change";

/**
 * Larger changes (a paste, an import) go by sync only: they are not what latency is
 * about, and every Repo on the way would copy them once more.
 */
export const MAX_BROADCAST_CHANGE_BYTES = 16 * 1024;

export interface ChangeBroadcast {
  type: typeof CHANGE_BROADCAST;
  change: Uint8Array;
}

/** Whether an ephemeral message's (decoded) content is a broadcast change. */
export function isChangeBroadcast(message: unknown): message is ChangeBroadcast {
  if (typeof message !== "object" || message === null) return false;
  const m = message as Partial<ChangeBroadcast>;
  return m.type === CHANGE_BROADCAST && m.change instanceof Uint8Array && m.change.byteLength <= MAX_BROADCAST_CHANGE_BYTES;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Broadcasts every change made on this handle (on this Repo) as it is made, and applies
 * the changes others broadcast. The handle must be ready. Returns the function that stops.
 */
export function shareChangesFast<T>(handle: DocHandle<T>, onError?: (error: unknown) => void): () => void {
  // A change event comes with every new state, remote ones included; a local change is
  // the one that makes the document's last local change a new one.
  let last = A.getLastLocalChange(handle.doc());
  const onChange = ({ doc }: DocHandleChangePayload<T>) => {
    const change = A.getLastLocalChange(doc);
    if (change === undefined || (last !== undefined && sameBytes(change, last))) return;
    last = change;
    if (change.byteLength <= MAX_BROADCAST_CHANGE_BYTES) handle.broadcast({ type: CHANGE_BROADCAST, change } satisfies ChangeBroadcast);
  };
  const onMessage = ({ message }: DocHandleEphemeralMessagePayload<T>) => {
    if (!isChangeBroadcast(message)) return;
    try {
      handle.update((doc) => A.applyChanges(doc, [message.change])[0]);
    } catch (error) {
      onError?.(error);
    }
  };
  handle.on("change", onChange);
  handle.on("ephemeral-message", onMessage);
  return () => {
    handle.off("change", onChange);
    handle.off("ephemeral-message", onMessage);
  };
}

const sharing = new WeakSet<object>();

/** `shareChangesFast` for as long as the handle lives, once however often it is asked. */
export function shareChangesFastOnce<T>(handle: DocHandle<T>, onError?: (error: unknown) => void): void {
  if (sharing.has(handle)) return;
  sharing.add(handle);
  shareChangesFast(handle, onError);
}
