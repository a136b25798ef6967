import { isPeerId, isRepoWireMessage, parseValue, PeerBinding, ProtocolError } from "../node/protocol";

/**
 * Checks what a renderer posts on its sync MessagePort (Electron) before automerge-repo's
 * MessageChannel adapter sees it. The adapter trusts the page: `"targetId" in null`
 * throws, and so does a message for another peer, both in the main process, where an
 * uncaught exception ends the app. The page is the least trusted part of the app (a
 * document is written by anyone who can edit it), so every message gets the checks the
 * relay and the browser shell's socket apply (PeerBinding, src/node/protocol): the
 * handshake binds the port to one peer ID, repo messages must be well formed, from that
 * peer (ephemeral ones travel with their author), to the host, and sync data must decode.
 */
export class PortGuard {
  readonly #binding: PeerBinding;

  constructor(hostPeerId: string) {
    this.#binding = new PeerBinding(hostPeerId);
  }

  /**
   * The message to pass on (rebuilt from its checked fields), or why it must be refused
   * (the port is then closed).
   */
  check(data: unknown): { message: object } | { refusal: string } {
    const refusal = this.#refusal(data);
    if (typeof refusal === "string") return { refusal };
    return { message: refusal };
  }

  #refusal(data: unknown): string | object {
    if (typeof data !== "object" || data === null || Array.isArray(data)) return "not a message";
    const m = data as Record<string, unknown>;
    // The MessageChannel adapter's handshake: each side says "arrive" and answers the
    // other's with "welcome"; "leave" on the way out.
    if (m.type === "arrive" || m.type === "welcome" || m.type === "leave") {
      if (!isPeerId(m.senderId)) return "bad sender";
      if ("targetId" in m && m.targetId !== this.#binding.localPeerId) return "not addressed to the host";
      // Both sides say "arrive" and answer with "welcome": the same peer speaks more than once.
      const joined = this.#binding.peerId;
      if (joined !== m.senderId) {
        const refused = this.#binding.joinRefusal(m.senderId);
        if (refused) return refused.reason;
      }
      if (m.type === "leave") return joined === undefined ? "leave before arrival" : { type: "leave", senderId: m.senderId };
      if (m.peerMetadata !== undefined && (typeof m.peerMetadata !== "object" || m.peerMetadata === null || Array.isArray(m.peerMetadata))) return "bad peer metadata";
      const meta = (m.peerMetadata ?? {}) as Record<string, unknown>;
      const peerMetadata: Record<string, unknown> = {};
      if (typeof meta.isEphemeral === "boolean") peerMetadata.isEphemeral = meta.isEphemeral;
      if (meta.storageId !== undefined) return "a renderer has no storage";
      this.#binding.bind(m.senderId);
      return { type: m.type, senderId: m.senderId, peerMetadata, ...(m.type === "welcome" ? { targetId: this.#binding.localPeerId } : {}) };
    }
    if (this.#binding.peerId === undefined) return "the first message must be an arrival";
    // The adapter posts sync data as an ArrayBuffer.
    const message = parseValue(m.data instanceof ArrayBuffer ? { ...m, data: new Uint8Array(m.data) } : m);
    if (message instanceof ProtocolError) return message.message;
    if (!isRepoWireMessage(message)) return `unexpected ${message.type} message`;
    const checked = this.#binding.check(message);
    if ("refusal" in checked) return checked.refusal.reason;
    return message;
  }
}
