/**
 * The part every in-memory NetworkAdapter of the tests shares: always ready, and it keeps
 * the peer ID and metadata its Repo connects with. Subclasses say what `send` does.
 */
import { NetworkAdapter, type PeerId, type PeerMetadata } from "@automerge/automerge-repo";

export abstract class MemoryAdapter extends NetworkAdapter {
  isReady(): boolean {
    return true;
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata ?? {};
  }

  disconnect(): void {}
}
