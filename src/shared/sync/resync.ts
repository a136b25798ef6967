/**
 * How long a peer may stay silent while its heads differ from ours before automerge-repo
 * sends it everything again (the `resyncAfterMs` Repo option, patches/README.md).
 *
 * Automerge's sync protocol counts a change it sent as delivered and waits for an answer
 * before it sends again: one message lost or left unanswered while the connection lives,
 * and both sides wait for each other until someone reconnects. The fault suite's P2 trace
 * replay saw that, rarely, between two hosts and a relay (both hosts sure the relay had
 * everything, with different heads). The cause was not found; this makes any such stall
 * last seconds instead of for good, on every hop: renderer, host and relay.
 *
 * 3 s: well above a busy peer's normal answer time here (sync rounds are 50 ms; under the
 * P2 load answers come within a few hundred ms), so a resync almost never repeats what is
 * already on its way; and the silence allowed doubles while it lasts (up to a minute).
 */
export const RESYNC_AFTER_MS = 3000;

/** A stalled sync that automerge-repo started again (the patch's `resync` doc-metrics event). */
export interface ResyncEvent {
  documentId?: string;
  peerId?: string;
  silentMs?: number;
}

/** Calls `listener` for every stalled sync the Repo starts again (host and relay log them). */
export function onResync(repo: { on(event: "doc-metrics", listener: (event: unknown) => void): unknown }, listener: (event: ResyncEvent) => void): void {
  repo.on("doc-metrics", (event) => {
    const e = event as { type?: string; documentId?: string; forPeer?: string; afterMillis?: number };
    if (e.type === "resync") listener({ documentId: e.documentId, peerId: e.forPeer, silentMs: e.afterMillis });
  });
}
