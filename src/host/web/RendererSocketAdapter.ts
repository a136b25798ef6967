import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import type { WebSocket } from "ws";
import { CloseCode, PeerBinding, ProtocolError, parseMessage, type WireMessage } from "../../node/protocol";

/**
 * The host's end of the browser shell's sync socket: automerge-repo's server adapter
 * behind the protocol checks the relay applies to its clients. The page is the least
 * trusted part of the app (a document is written by anyone who can edit it); before
 * this, one frame holding CBOR `null` threw inside the adapter and killed the host.
 * Each frame is parsed and checked first (shape, IDs, a decodable sync message); the
 * first join binds the socket to its peer ID (PeerBinding, as the relay and the
 * desktop's port do); anything else closes that socket with a reason, and the host
 * goes on serving.
 */
export class RendererSocketAdapter extends WebSocketServerAdapter {
  readonly #bindings = new WeakMap<object, PeerBinding>();

  override receiveMessage(messageBytes: Uint8Array, socket: WebSocket): void {
    const bytes = messageBytes instanceof Uint8Array ? messageBytes : new Uint8Array(0);
    const parsed = parseMessage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const refusal = parsed instanceof ProtocolError ? { code: parsed.closeCode, message: parsed.message } : this.#refusal(parsed, socket);
    if (refusal) {
      socket.close(refusal.code, refusal.message.slice(0, 120));
      return;
    }
    super.receiveMessage(messageBytes, socket as never);
  }

  #refusal(message: WireMessage, socket: WebSocket): { code: number; message: string } | null {
    let binding = this.#bindings.get(socket);
    if (!binding) this.#bindings.set(socket, (binding = new PeerBinding(this.peerId!)));
    if (message.type === "join") {
      const refused = binding.joinRefusal(message.senderId);
      if (refused) return { code: refused.code, message: refused.reason };
      binding.bind(message.senderId);
      return null;
    }
    if (binding.peerId === undefined) return { code: CloseCode.UnexpectedJoin, message: "the first message must be a join" };
    if (message.type === "peer") return { code: CloseCode.InvalidMessage, message: "clients do not send peer messages" };
    if (message.type === "error") return null;
    const checked = binding.check(message);
    return "refusal" in checked ? { code: checked.refusal.code, message: checked.refusal.reason } : null;
  }
}
