// The checks every door into a Repo applies to a peer on one connection (the relay's
// sockets, the browser shell's socket, the desktop's MessagePort): the connection is
// bound to the peer that joined on it, and no message may claim another sender or
// target, or carry sync data that does not decode. One module, so that the three doors
// cannot drift apart.
import { next as A } from "@automerge/automerge";
import { CloseCode } from "./errors";
import type { RepoWireMessage } from "./messages";

/** Why a connection is closed, with the close code for sockets and the label for metrics. */
export interface Refusal {
  code: number;
  reason: string;
  label: string;
}

const refusal = (code: number, reason: string, label: string): Refusal => ({ code, reason, label });

/**
 * One connection's binding to the peer that joined on it, as seen by the local peer
 * (`localPeerId`: the relay, the host).
 */
export class PeerBinding {
  readonly localPeerId: string;
  #peerId: string | undefined;

  constructor(localPeerId: string) {
    this.localPeerId = localPeerId;
  }

  /** The peer that joined, once one has. */
  get peerId(): string | undefined {
    return this.#peerId;
  }

  /**
   * Whether `senderId` may join on this connection: once, and never as the local peer.
   * Other reasons a door has to refuse a peer ID (another connection holds it) are the
   * door's own, checked before `bind`.
   */
  joinRefusal(senderId: string): Refusal | null {
    if (this.#peerId !== undefined && senderId !== this.#peerId) return refusal(CloseCode.UnexpectedJoin, "a second peer on one connection", "unexpected-join");
    if (this.#peerId !== undefined) return refusal(CloseCode.UnexpectedJoin, "already joined", "unexpected-join");
    if (senderId === this.localPeerId) return refusal(CloseCode.PeerIdInUse, "peer ID in use", "peer-id-in-use");
    return null;
  }

  bind(senderId: string): void {
    this.#peerId = senderId;
  }

  /**
   * Checks a repo message from the bound peer: there is one, the message is its own
   * (ephemeral messages travel with their author as sender), addressed to the local
   * peer, and its sync data decodes. Returns the refusal, or the decoded sync message
   * (null for messages without one).
   */
  check(message: RepoWireMessage): { refusal: Refusal } | { decoded: A.DecodedSyncMessage | null } {
    if (this.#peerId === undefined) return { refusal: refusal(CloseCode.UnexpectedJoin, "the first message must be a join", "unexpected-join") };
    if ((message.type !== "ephemeral" && message.senderId !== this.#peerId) || message.targetId !== this.localPeerId) {
      return { refusal: refusal(CloseCode.SenderMismatch, "sender or target is not this connection's", "sender-mismatch") };
    }
    if (message.type !== "sync" && message.type !== "request") return { decoded: null };
    try {
      return { decoded: A.decodeSyncMessage(message.data) };
    } catch {
      return { refusal: refusal(CloseCode.InvalidMessage, "invalid automerge sync message", "invalid-message") };
    }
  }
}
