import { cbor, NetworkAdapter, type Message, type PeerId, type PeerMetadata, type StorageId } from "@automerge/automerge-repo/slim";
import type { Logger } from "pino";
import { Backoff } from "../src/node/sync/Backoff";
import WebSocket from "ws";
import { PROTOCOL_VERSION, ProtocolError, isRepoWireMessage, parseMessage } from "../src/node/protocol";
import { watchSocket, type LivenessTimes } from "../src/node/sync/liveness";
import type { Metrics } from "./metrics";

export interface PeerDialerOptions {
  /** `ws://` or `wss://` address of the other relay; a `?token=` in it is sent as a bearer token. */
  url: string;
  /** Token for the other relay when the URL has none (RELAY_PEER_TOKEN). */
  token?: string;
  logger: Logger;
  metrics: Metrics;
  maxFrameBytes: number;
  /** Some traffic for `documentId`: it is not idle. */
  touch(documentId: string): void;
  backoff?: { initialMs: number; maxMs: number };
}

const HANDSHAKE_MS = 10_000;
/** A peer relay quiet for 2 s is pinged; one silent for 10 s is given up and redialled. */
const LIVENESS: LivenessTimes = { pingAfterMs: 2_000, deadAfterMs: 10_000 };
/** The Repo waits for every adapter to be ready before it calls a document unavailable. */
const READY_AFTER_MS = 2000;

/**
 * Dials one other relay as a client of automerge-repo's websocket protocol, and keeps
 * dialing: reconnects with exponential backoff and full jitter.
 *
 * It joins under its own peer ID, `<relay peer ID>.dial`, not the Repo's: two relays
 * that each name the other with `--peer` then hold two connections with four distinct
 * peer IDs, rather than one peer ID on two connections, which automerge-repo cannot
 * tell apart. Messages are rewritten on the way (sender out, target in).
 *
 * A small client of our own rather than `RelayClientAdapter` (src/node/sync): that one
 * presents the Repo's own peer ID, and fails over along a list rather than keeping one
 * connection per peer, which is what peering needs.
 */
export class PeerDialer extends NetworkAdapter {
  readonly url: string;
  readonly #connectUrl: string;
  readonly #token: string | undefined;
  readonly #options: PeerDialerOptions;
  readonly #log: Logger;
  #socket: WebSocket | undefined;
  #remotePeerId: PeerId | undefined;
  #remoteStorageId: StorageId | undefined;
  #dialId: PeerId | undefined;
  #running = false;
  readonly #backoff: Backoff;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopWatching: (() => void) | undefined;
  #ready = false;
  #resolveReady!: () => void;
  readonly #readyPromise = new Promise<void>((resolve) => (this.#resolveReady = resolve));

  constructor(options: PeerDialerOptions) {
    super();
    this.#options = options;
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 });
    const parsed = new URL(options.url);
    const token = parsed.searchParams.get("token") ?? options.token;
    parsed.searchParams.delete("token");
    this.#connectUrl = parsed.toString();
    this.#token = token ?? undefined;
    // For logs: never the token.
    this.url = this.#connectUrl;
    this.#log = options.logger.child({ peer: this.url });
  }

  /** The other relay's peer ID while connected. */
  get remotePeerId(): PeerId | undefined {
    return this.#remotePeerId;
  }

  get remoteStorageId(): StorageId | undefined {
    return this.#remoteStorageId;
  }

  /** The peer ID this dialer joins with. */
  get dialId(): PeerId | undefined {
    return this.#dialId;
  }

  isReady(): boolean {
    return this.#ready;
  }

  whenReady(): Promise<void> {
    return this.#readyPromise;
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata ?? {};
    this.#dialId = `${peerId}.dial` as PeerId;
    this.#running = true;
    setTimeout(() => this.#markReady(), READY_AFTER_MS).unref?.();
    this.#dial();
  }

  send(message: Message): void {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || !this.#remotePeerId) return;
    if (message.documentId) this.#options.touch(message.documentId);
    const outgoing = message.senderId === this.peerId ? { ...message, senderId: this.#dialId } : message;
    const bytes = cbor.encode(outgoing);
    this.#options.metrics.inc("relay_messages_sent_total", { type: message.type });
    this.#options.metrics.inc("relay_bytes_sent_total", {}, bytes.byteLength);
    socket.send(bytes);
  }

  disconnect(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#drop(1001, "relay shutting down");
  }

  #markReady(): void {
    if (this.#ready) return;
    this.#ready = true;
    this.#resolveReady();
  }

  #dial(): void {
    if (!this.#running) return;
    const headers: Record<string, string> = {};
    if (this.#token) headers.Authorization = `Bearer ${this.#token}`;
    const socket = new WebSocket(this.#connectUrl, {
      headers,
      handshakeTimeout: HANDSHAKE_MS,
      maxPayload: this.#options.maxFrameBytes,
      perMessageDeflate: false,
    });
    this.#socket = socket;
    let joined = false;
    const handshake = setTimeout(() => {
      if (!joined) {
        this.#log.warn("peer relay did not answer the join in time");
        socket.terminate();
      }
    }, HANDSHAKE_MS);
    socket.on("unexpected-response", (_request, response) => {
      this.#log.error({ status: response.statusCode }, response.statusCode === 401 ? "peer relay refused our token (HTTP 401)" : "peer relay refused the connection");
      response.resume();
      socket.terminate();
    });
    socket.on("error", (error) => this.#log.info({ err: error.message }, "peer connection error"));
    socket.on("open", () => {
      socket.send(
        cbor.encode({ type: "join", senderId: this.#dialId, peerMetadata: this.peerMetadata, supportedProtocolVersions: [PROTOCOL_VERSION] }),
      );
      this.#stopWatching?.();
      this.#stopWatching = watchSocket(socket, LIVENESS, (silentMs) => {
        this.#log.warn({ silentMs }, "peer relay stopped answering");
        socket.terminate();
      });
    });
    socket.on("message", (data, isBinary) => {
      const buffer = data as Buffer;
      this.#options.metrics.inc("relay_bytes_received_total", {}, buffer.byteLength);
      const parsed = isBinary ? parseMessage(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)) : undefined;
      if (parsed === undefined || parsed instanceof ProtocolError) {
        this.#log.error({ err: parsed?.message ?? "text frame" }, "peer relay sent something that is not the protocol");
        socket.close(parsed?.closeCode ?? 4002, "invalid message");
        return;
      }
      this.#options.metrics.inc("relay_messages_received_total", { type: parsed.type });
      if (parsed.type === "peer") {
        if (joined) return;
        joined = true;
        clearTimeout(handshake);
        this.#backoff.reset();
        this.#remotePeerId = parsed.senderId as PeerId;
        this.#remoteStorageId = parsed.peerMetadata.storageId as StorageId | undefined;
        this.#log.info({ remotePeerId: parsed.senderId }, "connected to peer relay");
        this.#markReady();
        this.emit("peer-candidate", { peerId: this.#remotePeerId, peerMetadata: parsed.peerMetadata as PeerMetadata });
        return;
      }
      if (parsed.type === "error") {
        this.#log.warn({ message: parsed.message }, "peer relay reported an error");
        return;
      }
      if (!joined || !isRepoWireMessage(parsed) || parsed.targetId !== this.#dialId) {
        socket.close(4006, "unexpected message");
        return;
      }
      if (parsed.type !== "ephemeral" && parsed.senderId !== this.#remotePeerId) {
        socket.close(4006, "sender is not the peer relay");
        return;
      }
      if ("documentId" in parsed) this.#options.touch(parsed.documentId);
      this.emit("message", { ...parsed, targetId: this.peerId } as unknown as Message);
    });
    socket.on("close", (code, reason) => {
      clearTimeout(handshake);
      this.#stopWatching?.();
      if (this.#socket === socket) this.#socket = undefined;
      if (this.#remotePeerId) {
        const peerId = this.#remotePeerId;
        this.#remotePeerId = undefined;
        this.#log.info({ code, reason: reason.toString() }, "disconnected from peer relay");
        this.emit("peer-disconnected", { peerId });
      }
      this.#markReady();
      this.#schedule();
    });
  }

  #schedule(): void {
    if (!this.#running) return;
    // Relays restarted together do not dial each other in lockstep (Backoff's jitter).
    const delay = this.#backoff.next();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#dial(), delay);
    this.#timer.unref?.();
  }

  #drop(code: number, reason: string): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#stopWatching?.();
    if (socket && socket.readyState === WebSocket.OPEN) socket.close(code, reason);
    else socket?.terminate();
    if (this.#remotePeerId) {
      const peerId = this.#remotePeerId;
      this.#remotePeerId = undefined;
      this.emit("peer-disconnected", { peerId });
    }
  }
}
