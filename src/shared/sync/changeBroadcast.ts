/**
 * Keystrokes on a fast path, beside the sync protocol.
 *
 * automerge-repo carries a change by its sync protocol: every Repo on the way (the
 * writer's renderer, their host, the relay, the other writer's host and renderer) takes
 * the change in, works out what each of its peers lacks and sends it on. Each of those
 * steps costs milliseconds, and they add up between one writer's key and the other
 * writer's screen (bench/propagation has the figures).
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
import { cbor, type DocHandle, type DocHandleChangePayload, type DocHandleEphemeralMessagePayload, type Repo } from "@automerge/automerge-repo/slim";

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
 * Broadcasts every change made on this handle (on this Repo) as it is made, while
 * `shouldBroadcast()` says so, and applies the changes others broadcast. The handle must
 * be ready. Returns the function that stops.
 */
export function shareChangesFast<T>(handle: DocHandle<T>, onError?: (error: unknown) => void, shouldBroadcast: () => boolean = () => true): () => void {
  // A change event comes with every new state, remote ones included; a local change is
  // the one that makes the document's last local change a new one.
  let last = A.getLastLocalChange(handle.doc());
  const onChange = ({ doc }: DocHandleChangePayload<T>) => {
    const change = A.getLastLocalChange(doc);
    if (change === undefined || (last !== undefined && sameBytes(change, last))) return;
    last = change;
    if (change.byteLength <= MAX_BROADCAST_CHANGE_BYTES && shouldBroadcast()) handle.broadcast({ type: CHANGE_BROADCAST, change } satisfies ChangeBroadcast);
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
export function shareChangesFastOnce<T>(handle: DocHandle<T>, onError?: (error: unknown) => void, shouldBroadcast?: () => boolean): void {
  if (sharing.has(handle)) return;
  sharing.add(handle);
  shareChangesFast(handle, onError, shouldBroadcast);
}

/** What carries Repo messages: a network adapter, or a Repo's network subsystem. */
export interface MessageSource {
  on(event: "message", listener: (message: { type: string; documentId?: string; data?: Uint8Array }) => void): unknown;
  off(event: "message", listener: (message: { type: string; documentId?: string; data?: Uint8Array }) => void): unknown;
}

/**
 * Applies, in the documents this Repo holds, the changes broadcast through `source`
 * (the host: its renderers' connections), besides the forwarding automerge-repo does
 * anyway: a writer's keystroke is in the host, and on disk within its save debounce,
 * however the renderer's sync is throttled. Documents not in memory are left to sync.
 * `defer` applies after the Repo has forwarded the message on (Node: setImmediate), so
 * that no hop waits for it. Not used on the receiving side of a keystroke: there a
 * host and a relay only forward (taking each keystroke in there would add a hop's worth
 * of latency, bench/propagation), and sync brings it to them.
 * Returns the function that stops.
 */
export function applyChangeBroadcasts(repo: Repo, source: MessageSource, options: { onError?: (error: unknown) => void; defer?: (run: () => void) => void } = {}): () => void {
  const { onError, defer = (run) => run() } = options;
  const onMessage = (message: { type: string; documentId?: string; data?: Uint8Array }) => {
    if (message.type === "ephemeral") defer(() => apply(message));
  };
  const apply = (message: { type: string; documentId?: string; data?: Uint8Array }) => {
    if (!message.documentId || !(message.data instanceof Uint8Array)) return;
    const handle = repo.handles[message.documentId as keyof Repo["handles"]];
    if (!handle?.isReady()) return;
    let content: unknown;
    try {
      content = cbor.decode(message.data);
    } catch {
      return;
    }
    if (!isChangeBroadcast(content)) return;
    try {
      handle.update((doc) => A.applyChanges(doc, [content.change])[0]);
    } catch (error) {
      onError?.(error);
    }
  };
  source.on("message", onMessage);
  return () => source.off("message", onMessage);
}
