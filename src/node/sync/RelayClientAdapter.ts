import WebSocket from "ws";
import { cbor, NetworkAdapter, type Message, type PeerId, type PeerMetadata, type StorageId } from "@automerge/automerge-repo";
import { Backoff } from "./Backoff";
import { EphemeralOrigins } from "./ephemeralOrigins";
import { watchSocket, type LivenessTimes } from "./liveness";
import { CloseCode, InvalidCborError, parseMessage, ProtocolError, PROTOCOL_VERSION, UnsupportedProtocolVersionError } from "../protocol";

/** One relay the client may use, in the writer's order of preference. */
export interface RelayEndpoint {
  /** `ws://` or `wss://` address of the relay. */
  url: string;
  /** Sent as `Authorization: Bearer`; null for a relay run with --allow-anonymous. */
  token: string | null;
}

export type RelayErrorCode =
  /** HTTP 401 at the upgrade: no token, a wrong one, a revoked one or an expired one. */
  | "unauthorized"
  /** Nothing answered at that address (refused, unresolvable, reset). */
  | "unreachable"
  /** The relay speaks a different protocol version. */
  | "version-mismatch"
  /** The relay answered but refused us (another HTTP status, or an error message). */
  | "refused"
  /** The relay did not finish the handshake in time, or stopped answering pings. */
  | "timeout"
  /** The relay sent something that is not the protocol. */
  | "protocol";

export interface RelayError {
  code: RelayErrorCode;
  message: string;
  url: string;
}

export type RelayConnectionState =
  | { status: "offline" }
  | { status: "connecting"; url: string; lastError: RelayError | null }
  | {
      status: "connected";
      url: string;
      peerId: PeerId;
      storageId: StorageId | null;
      /** The relay's last complaint on a connection it kept open (e.g. changes refused to a read-only token). */
      notice: string | null;
    }
  | { status: "waiting"; retryAt: number; lastError: RelayError };

export interface RelayClientOptions {
  endpoints: RelayEndpoint[];
  /** Time allowed from opening the socket to the relay's `peer` answer. */
  handshakeTimeoutMs?: number;
  /** First and largest pause between rounds of attempts (full jitter in between). */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * The longest pause after a round in which no relay could be reached at all (nothing
   * listening, no answer): such an attempt costs the relay nothing, so it is tried
   * again soon, and a writer is back within this long of the relay answering again.
   * Refusals (a token, a protocol) back off up to `backoff.maxMs` instead.
   */
  unreachableRetryMs?: number;
  /**
   * When to ping a quiet connection and when to give it up (default: ping after 1 s of
   * quiet, give up after 5 s of silence).
   */
  liveness?: LivenessTimes;
  /** Called for messages and events worth a log line; the adapter itself never logs. */
  onEvent?: (event: { level: "info" | "warn"; message: string; url?: string; error?: RelayError }) => void;
}

/**
 * While no relay can be reached at all, the pause between rounds would otherwise grow
 * with the backoff to 30 s, and a window could wait that long to sync again after the
 * relay comes back. A refused TCP connection or an unanswered one is cheap for everyone,
 * so instead the pause stays between 0.75 and 1.5 s (jittered, so that a restarted relay
 * does not get every client at once).
 */
const UNREACHABLE_RETRY_MS = 1500;

/** A session shorter than this does not count as a success that resets the backoff. */
const STABLE_SESSION_MS = 10_000;
/**
 * A relay that vanished without closing (power cut, partition, a laptop's network
 * gone) is given up after 5 s in which nothing came from it, though it was pinged after
 * each second of quiet: a writer is back on a relay within seconds. The relay answers a
 * ping within milliseconds unless it is stalled for seconds, which is worth a new
 * connection anyway.
 */
const LIVENESS: LivenessTimes = { pingAfterMs: 1000, deadAfterMs: 5000 };
/** The Repo waits for every adapter to be ready before it calls a document unavailable. */
const READY_AFTER_MS = 1000;

/**
 * A NetworkAdapter that keeps one live connection to the first relay of an ordered
 * list that answers, speaking automerge-repo's websocket protocol.
 *
 * Why not `WebSocketClientAdapter`: it cannot send a bearer token, it throws from its
 * error handler on anything but ECONNREFUSED (an HTTP 401 crashes the process), it
 * retries one URL at a fixed interval, and it cannot tell the writer why it is offline.
 * Here every failure is a typed `RelayError`, the next relay is tried at once when
 * one fails, and whole rounds back off exponentially with full jitter so that a
 * restarted relay is not stampeded by every client at the same moment.
 */
export class RelayClientAdapter extends NetworkAdapter {
  #endpoints: RelayEndpoint[];
  readonly #handshakeTimeoutMs: number;
  /** Rounds in a row in which no relay gave a stable session, and the pause they call for. */
  readonly #backoff: Backoff;
  readonly #unreachableRetryMs: number;
  readonly #liveness: LivenessTimes;
  readonly #onEvent: RelayClientOptions["onEvent"];
  readonly #stateListeners = new Set<(state: RelayConnectionState) => void>();

  #state: RelayConnectionState = { status: "offline" };
  #socket: WebSocket | undefined;
  #remotePeerId: PeerId | undefined;
  /** Index of the endpoint being tried or used. */
  #index = 0;
  #lastError: RelayError | null = null;
  /** Ephemeral authors: this host's own peers, or behind the relay (never sent back). */
  readonly #ephemeralOrigins = new EphemeralOrigins<"local" | "relay">();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopWatching: (() => void) | undefined;
  #running = false;
  #ready = false;
  #resolveReady: (() => void) | undefined;
  readonly #readyPromise = new Promise<void>((resolve) => (this.#resolveReady = resolve));

  constructor(options: RelayClientOptions) {
    super();
    this.#endpoints = options.endpoints.map((e) => ({ ...e }));
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 5000;
    this.#backoff = new Backoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 });
    this.#unreachableRetryMs = options.unreachableRetryMs ?? UNREACHABLE_RETRY_MS;
    this.#liveness = options.liveness ?? LIVENESS;
    this.#onEvent = options.onEvent;
  }

  get state(): RelayConnectionState {
    return this.#state;
  }

  /** The relay's peer while connected (its storage ID names its copy for remote heads). */
  get remotePeerId(): PeerId | undefined {
    return this.#remotePeerId;
  }

  /** Calls `listener` on every state change; returns the function that stops it. */
  onState(listener: (state: RelayConnectionState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
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
    this.#running = true;
    setTimeout(() => this.#markReady(), READY_AFTER_MS).unref?.();
    this.#startRound(0);
  }

  /**
   * Replaces the list of relays. The live connection is kept when its relay is still
   * in the list with the same token; otherwise the client moves to the new first relay.
   */
  setEndpoints(endpoints: RelayEndpoint[]): void {
    const current = this.#endpoints[this.#index];
    this.#endpoints = endpoints.map((e) => ({ ...e }));
    if (!this.#running) return;
    const kept = current ? this.#endpoints.findIndex((e) => e.url === current.url && e.token === current.token) : -1;
    if (this.#state.status === "connected" && kept >= 0) {
      this.#index = kept;
      return;
    }
    this.#backoff.reset();
    this.#lastError = null;
    this.#closeSocket();
    this.#startRound(0);
  }

  send(message: Message): void {
    const socket = this.#socket;
    // Dropped while offline: on the next connection the sync protocol finds out what
    // the relay lacks, so nothing needs queueing here.
    if (!socket || socket.readyState !== WebSocket.OPEN || this.#state.status !== "connected") return;
    if (message.type === "ephemeral" && message.senderId) {
      // Not back to the relay it came from (ephemeralOrigins.ts); ours go out.
      if (this.#ephemeralOrigins.originOf(message.senderId) === "relay") return;
      this.#ephemeralOrigins.note(message.senderId, "local");
    }
    socket.send(cbor.encode(message));
  }

  /**
   * Tries the relays again now rather than at the end of the pause ("Try now", or the
   * computer's network changed). Does nothing while connected or already trying.
   */
  retryNow(): void {
    if (!this.#running || this.#state.status !== "waiting") return;
    this.#backoff.reset();
    this.#startRound(0);
  }

  disconnect(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#closeSocket();
    this.#setState({ status: "offline" });
  }

  #markReady(): void {
    if (this.#ready) return;
    this.#ready = true;
    this.#resolveReady?.();
  }

  #setState(state: RelayConnectionState): void {
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state);
  }

  #startRound(index: number): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    if (this.#endpoints.length === 0) {
      this.#markReady();
      this.#setState({ status: "offline" });
      return;
    }
    this.#index = index;
    this.#attempt();
  }

  /** One attempt on the current endpoint; on failure, the next one or a pause. */
  #attempt(): void {
    // One connection at a time: whatever the previous attempt left is let go first.
    this.#closeSocket();
    const endpoint = this.#endpoints[this.#index]!;
    const peerId = this.peerId!;
    this.#setState({ status: "connecting", url: endpoint.url, lastError: this.#lastError });
    const headers: Record<string, string> = {};
    if (endpoint.token) headers.Authorization = `Bearer ${endpoint.token}`;
    let socket: WebSocket;
    try {
      socket = new WebSocket(endpoint.url, { headers, handshakeTimeout: this.#handshakeTimeoutMs, perMessageDeflate: false });
    } catch (error) {
      // A malformed address fails here rather than asynchronously.
      this.#fail({ code: "unreachable", message: `not a relay address: ${(error as Error).message}`, url: endpoint.url });
      return;
    }
    this.#socket = socket;
    socket.binaryType = "nodebuffer";
    let settled = false;
    let connectedAt = 0;
    let serverError: string | null = null;
    const fail = (error: RelayError) => {
      if (settled) return;
      settled = true;
      clearTimeout(handshakeTimer);
      // An attempt given up meanwhile (a new relay list started another) has no say any
      // more: its handshake timer firing later must not fail the attempt that replaced it,
      // which would leave that connection open and forgotten, holding our peer ID at the
      // relay so that every later join is refused as "peer ID in use".
      const current = this.#socket === socket;
      this.#dropSocket(socket);
      if (current) this.#fail(error);
    };
    const handshakeTimer = setTimeout(
      () => fail({ code: "timeout", message: `the relay did not answer within ${this.#handshakeTimeoutMs / 1000} s`, url: endpoint.url }),
      this.#handshakeTimeoutMs,
    );

    socket.on("unexpected-response", (_request, response) => {
      const status = response.statusCode ?? 0;
      response.resume();
      // A Writer relay says who it is when it refuses a token; any other server's
      // answer (a web site, a proxy with nothing behind it) is not about the token.
      const ours = /realm="writer-relay"/.test(String(response.headers["www-authenticate"] ?? ""));
      fail(
        status === 401 && ours
          ? { code: "unauthorized", message: "the relay did not accept this token (missing, wrong, revoked or expired)", url: endpoint.url }
          : status === 429 && ours
            ? { code: "refused", message: "the relay already has as many connections with this token as it allows: close Writer on another device, or ask whoever runs the relay for more", url: endpoint.url }
          : status === 502 || status === 503 || status === 504
            ? { code: "unreachable", message: `the server at this address answered HTTP ${status}: the relay behind it is not running`, url: endpoint.url }
            : { code: "refused", message: `the server at this address is not a Writer relay (it answered HTTP ${status} instead of opening a sync connection)`, url: endpoint.url },
      );
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (connectedAt) return; // the close event that follows ends the session
      fail({ code: "unreachable", message: describeSocketError(error), url: endpoint.url });
    });
    socket.on("open", () => {
      socket.send(cbor.encode({ type: "join", senderId: peerId, peerMetadata: this.peerMetadata ?? {}, supportedProtocolVersions: [PROTOCOL_VERSION] }));
    });
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      // A relay is trusted with the documents it serves, not with the shape of what it
      // sends: every frame is checked before the Repo sees it.
      const message = isBinary ? parseMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)) : new InvalidCborError("text frame");
      const bad = (error: RelayError) => (connectedAt ? this.#endSession(socket, endpoint, Date.now() - connectedAt, error) : fail(error));
      if (message instanceof UnsupportedProtocolVersionError) {
        bad({ code: "version-mismatch", message: `the relay speaks another protocol version than this app (${PROTOCOL_VERSION})`, url: endpoint.url });
        return;
      }
      if (message instanceof ProtocolError) {
        bad({ code: "protocol", message: `the relay sent something that is not the sync protocol (${message.message})`, url: endpoint.url });
        return;
      }
      if (message.type === "join" || ("targetId" in message && message.type !== "error" && message.targetId !== peerId)) {
        bad({ code: "protocol", message: `the relay sent a "${message.type}" message not meant for this app`, url: endpoint.url });
        return;
      }
      if (message.type === "peer") {
        if (connectedAt) return;
        settled = true;
        clearTimeout(handshakeTimer);
        connectedAt = Date.now();
        this.#lastError = null;
        this.#remotePeerId = message.senderId as PeerId;
        this.#stopWatching?.();
        this.#stopWatching = watchSocket(socket, this.#liveness, (silentMs) =>
          this.#endSession(socket, endpoint, Date.now() - connectedAt, {
            code: "timeout",
            message: `the relay stopped answering (nothing heard for ${Math.round(silentMs / 1000)} s)`,
            url: endpoint.url,
          }),
        );
        this.#setState({ status: "connected", url: endpoint.url, peerId: this.#remotePeerId, storageId: (message.peerMetadata.storageId as StorageId | undefined) ?? null, notice: null });
        this.#onEvent?.({ level: "info", message: "connected to relay", url: endpoint.url });
        this.emit("peer-candidate", { peerId: this.#remotePeerId, peerMetadata: message.peerMetadata as PeerMetadata });
        this.#markReady();
        return;
      }
      if (message.type === "error") {
        // Before a close, these are the words for the writer; on a connection the relay
        // keeps (a read-only token's changes refused), they are a notice to show.
        if (message.cleared) {
          // A notice that no longer applies (the relay saves again): it goes away.
          if (connectedAt && this.#state.status === "connected" && this.#state.notice === message.message) {
            this.#onEvent?.({ level: "info", message: `relay says this is over: ${message.message}`, url: endpoint.url });
            this.#setState({ ...this.#state, notice: null });
          }
          return;
        }
        serverError = message.message;
        if (connectedAt && this.#state.status === "connected" && this.#state.notice !== message.message) {
          this.#onEvent?.({ level: "warn", message: `relay says: ${message.message}`, url: endpoint.url });
          this.#setState({ ...this.#state, notice: message.message });
        }
        return;
      }
      if (!connectedAt) {
        fail({ code: "protocol", message: `the relay sent "${message.type}" before accepting the connection`, url: endpoint.url });
        return;
      }
      if (message.type === "ephemeral") this.#ephemeralOrigins.note(message.senderId, "relay");
      this.emit("message", message as unknown as Message);
    });
    socket.on("close", (code: number, reasonBuffer: Buffer) => {
      if (code === CloseCode.Idle && connectedAt) {
        // The relay lets connections go that say nothing for long (a desktop showing only
        // its library): nothing is wrong; connect again at once, without a warning.
        this.#onEvent?.({ level: "info", message: "the relay closed an idle connection; reconnecting", url: endpoint.url });
        this.#endSession(socket, endpoint, Number.POSITIVE_INFINITY, null);
        return;
      }
      const reason = reasonBuffer.toString("utf8") || serverError || "";
      const said = reason ? `the relay closed the connection: ${reason}` : null;
      // The relay's close codes (src/node/protocol) say why in a way words cannot blur.
      const error: RelayError =
        code === CloseCode.Unauthorized
          ? { code: "unauthorized", message: said ?? "the relay no longer accepts this token", url: endpoint.url }
          : code === CloseCode.UnsupportedProtocolVersion
            ? { code: "version-mismatch", message: `the relay speaks another protocol version than this app (${PROTOCOL_VERSION})`, url: endpoint.url }
            : connectedAt
              ? { code: "unreachable", message: said ?? "the connection to the relay was lost", url: endpoint.url }
              : { code: "refused", message: said ?? `the relay closed the connection (code ${code})`, url: endpoint.url };
      if (!connectedAt) fail(error);
      else this.#endSession(socket, endpoint, Date.now() - connectedAt, error);
    });
  }

  /** A live session ended: tell the Repo, then start over from the preferred relay. */
  #endSession(socket: WebSocket, endpoint: RelayEndpoint, lastedMs: number, error: RelayError | null): void {
    if (this.#socket !== socket) return;
    this.#dropSocket(socket);
    if (error) this.#onEvent?.({ level: "warn", message: "lost the relay", url: endpoint.url, error });
    this.#lastError = error;
    if (!this.#running) return;
    // A relay that drops us right after accepting (a revoked token, a refused peer ID)
    // counts as a failed attempt, or we would reconnect in a tight loop.
    if (lastedMs < STABLE_SESSION_MS && error) {
      this.#fail(error);
      return;
    }
    // A relay that vanished after a good session is most often restarting or gone for
    // good: try the list again from the top at once; if that round fails, back off.
    this.#backoff.reset();
    this.#startRound(0);
  }

  #fail(error: RelayError): void {
    this.#lastError = error;
    this.#onEvent?.({ level: "warn", message: "relay attempt failed", url: error.url, error });
    if (!this.#running) return;
    if (this.#index + 1 < this.#endpoints.length) {
      // Fail over down the list at once: the next relay may well be up.
      this.#index++;
      this.#attempt();
      return;
    }
    this.#markReady();
    const unreachable = error.code === "unreachable" || error.code === "timeout";
    const delay = unreachable ? this.#backoff.nextCheap(this.#unreachableRetryMs) : this.#backoff.next();
    this.#setState({ status: "waiting", retryAt: Date.now() + delay, lastError: error });
    this.#timer = setTimeout(() => this.#startRound(0), delay);
    this.#timer.unref?.();
  }

  /** Forgets a socket for good: no more events from it reach the Repo. */
  #dropSocket(socket: WebSocket): void {
    socket.removeAllListeners();
    socket.on("error", () => undefined);
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.terminate();
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    if (this.#remotePeerId) {
      const peerId = this.#remotePeerId;
      this.#remotePeerId = undefined;
      this.emit("peer-disconnected", { peerId });
    }
  }

  #closeSocket(): void {
    if (this.#socket) this.#dropSocket(this.#socket);
  }
}

function describeSocketError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ECONNREFUSED":
      return "nothing is listening at that address";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the relay's host name could not be found";
    case "ECONNRESET":
      return "the connection was reset";
    case "ETIMEDOUT":
      return "the relay did not answer";
    default:
      return error.message;
  }
}
