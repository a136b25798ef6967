import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { next as A } from "@automerge/automerge";
import { cbor, NetworkAdapter, type Message, type PeerId, type PeerMetadata, type StorageId } from "@automerge/automerge-repo/slim";
import type { Logger } from "pino";
import { WebSocketServer, type WebSocket } from "ws";
import {
  CloseCode,
  PeerBinding,
  PROTOCOL_VERSION,
  ProtocolError,
  UnsupportedProtocolVersionError,
  parseMessage,
  type RepoWireMessage,
  type RequestMessage,
} from "../src/node/protocol";
import { CHANGE_BROADCAST } from "../src/shared/sync/changeBroadcast";
import { Liveness, type LivenessTimes } from "../src/node/sync/liveness";
import type { Metrics } from "./metrics";
import type { TokenAccess } from "./tokens";

/** Who a connection authenticated as (at the upgrade). */
export interface Credential {
  /** Token name, or "anonymous". */
  name: string;
  /** Token hash, or "" for anonymous; revocation closes connections by it. */
  hash: string;
  access: TokenAccess;
}

/** Limits enforced per connection; see `src/node/protocol/limits.ts` for the defaults. */
export interface ConnectionLimits {
  maxFrameBytes: number;
  joinTimeoutMs: number;
  messagesPerSecond: number;
  messageBurst: number;
  maxDocumentsPerConnection: number;
  /** Live connections one token may hold (S11). */
  maxConnectionsPerToken: number;
  /** A joined connection silent (no message) for this long is closed; relay peers are exempt (S11). */
  idleTimeoutMs: number;
  /** Bytes held on one connection's behalf: queued frames, waiting requests, unsaved changes (S12). */
  maxHeldBytesPerConnection: number;
  /** Bytes held on behalf of every connection together (S12). */
  maxHeldBytes: number;
}

/** What the relay holds on a connection's behalf, by kind (S12). */
export type HeldKind = "queued" | "waiting" | "unsaved";

/** What the adapter needs to know of the relay around it. */
export interface RelayServerHooks {
  logger: Logger;
  metrics: Metrics;
  limits: ConnectionLimits;
  /** Whether the Repo holds the document in memory now. */
  isInMemory(documentId: string): boolean;
  /** Whether the document has data on disk. */
  hasDocument(documentId: string): Promise<boolean>;
  /**
   * Which of `hashes` the relay's copy of the document has, loading it if need be
   * (wherever it lives: the main thread or a document worker); none if it has no copy.
   */
  knownHeads(documentId: string, hashes: readonly string[]): Promise<string[]>;
  /** Whether some relay peer is connected (that might have a document we lack). */
  relayPeerConnected(): boolean;
  /** Whether `peerId` is taken elsewhere (the relay itself, an outgoing peer connection). */
  isPeerIdTaken(peerId: string): boolean;
  /** Some traffic for `documentId`: it is not idle. */
  touch(documentId: string): void;
  /**
   * Writes the relay's copy of the document to disk, durably, as it is now. Rejects
   * while that is not done (a failing disk: the messages wait and it is tried again).
   */
  store(documentId: string): Promise<void>;
  /** In a relay cluster: an ephemeral message (presence, a keystroke) this relay accepted from a writer, for the other relays. */
  publishEphemeral?(message: Message & { documentId: string }): void;
  /** In a relay cluster: the changes of a sync message this relay took in from a writer, for the other relays (at once, before it stores them). */
  publishChanges?(documentId: string, changes: Uint8Array[]): void;
}

/** Requests for unknown documents remembered per connection, to answer them once the document arrives. */
const MAX_WAITING_PER_CONNECTION = 1024;
/**
 * A quiet connection is pinged after 2 s; one that has sent nothing, not even the answer
 * to a ping, for 15 s is dropped (a client that vanished without closing). Desktops ping
 * the relay after each quiet second themselves, and give it up after 5 s.
 */
const LIVENESS: LivenessTimes = { pingAfterMs: 2_000, deadAfterMs: 15_000 };
/** How often every connection's liveness is checked. */
const LIVENESS_SWEEP_MS = 1_000;
/**
 * A ping unanswered for this long means the connection is gone, when its peer ID is
 * wanted by a new connection of the same credential: a live peer answers in
 * milliseconds; a loaded one is given a second and a half.
 */
const PROBE_MS = 1_500;
/** A client that lets this much pile up unsent is not reading: it is dropped. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** WebSocket close reasons are limited to 123 bytes. */
const MAX_REASON = 120;

/**
 * A connection over its byte budget stops being read (TCP pushes back on the sender);
 * one still over it after this long, or at twice its budget, is closed (S12).
 */
const OVER_BUDGET_GRACE_MS = 5_000;
/** Bytes a waiting request is counted for beyond its sync data (its IDs, the map entry). */
const REQUEST_OVERHEAD_BYTES = 256;

/** Ephemeral senders one client connection may speak for (its host and its windows). */
const MAX_SENDERS_PER_CONNECTION = 32;
/** Other authors remembered per connection, to know their messages coming back as echoes. */
const MAX_HEARD_PER_CONNECTION = 1024;

/** The heads a sync message says its sender has (none if it cannot be read). */
function claimedHeads(message: Message): string[] {
  if (!message.data) return [];
  try {
    return A.decodeSyncMessage(message.data).heads;
  } catch {
    return [];
  }
}

interface HeldReply {
  connection: Connection;
  message: Message;
  unsaved?: undefined;
  /** When the Repo made it (performance.now()): a reply made after a copy held a round's changes confirms them. */
  madeAt: number;
}

/** Changes a connection sent: their bytes count against it until a stored copy has `heads`. */
interface HeldChanges {
  connection: Connection;
  message?: undefined;
  unsaved: number;
  /** The heads the sender said it had with these changes. */
  heads: string[];
  /** Stores since that did not yet hold them (their dependencies still on their way). */
  tries: number;
  /** The writer's wait for these changes to be confirmed (relay_sync_round_seconds). */
  round: SyncRound;
}

/**
 * A round of relay_sync_round_seconds: changes a connection sent for a document, from
 * their arrival until a sync message confirming them leaves for that connection (one
 * claiming heads that include theirs, or made once a copy holding them was being
 * stored); see #confirmRounds.
 */
interface SyncRound {
  documentId: string;
  /** The heads the sender said it had with the changes. */
  heads: string[];
  /** When their frame arrived (performance.now()). */
  arrivedAt: number;
  /** When a copy known to hold them began to be stored: every sync message made since speaks for them. */
  heldSince?: number;
}

/**
 * Rounds a connection may have waiting for their confirmation; past it the oldest is
 * forgotten (not observed). A writer has a few per document in flight while typing.
 */
const MAX_ROUNDS_PER_CONNECTION = 256;

/** A change whose heads a stored copy still lacks after this many stores stays counted but is no longer looked at. */
const MAX_UNSAVED_TRIES = 20;

interface HeldMessages {
  /** Replies to send once stored, and changes received whose bytes are released once stored (`unsaved`). */
  waiting: (HeldReply | HeldChanges)[];
  writing: boolean;
}

interface Connection {
  readonly id: number;
  readonly socket: WebSocket;
  readonly credential: Credential;
  readonly remoteAddress: string;
  peerId: PeerId | undefined;
  /** The connection's binding to the peer that joined on it: what it may send as whom. */
  readonly binding: PeerBinding;
  joinTimer: ReturnType<typeof setTimeout> | undefined;
  tokens: number;
  refilledAt: number;
  resumeTimer: ReturnType<typeof setTimeout> | undefined;
  /** What has been heard from it, and when it was last pinged. */
  readonly liveness: Liveness;
  readonly documents: Set<string>;
  /** Requests answered doc-unavailable at once, by document, to replay if the document arrives. */
  readonly waiting: Map<string, RequestMessage>;
  /** Documents whose refused changes were already reported to this client. */
  readonly refusedReported: Set<string>;
  /** The ephemeral senders (authors) bound to this connection (S13). */
  readonly senders: Set<string>;
  /** Authors whose ephemeral messages the relay passed to this connection (what it sends back of them is an echo). */
  readonly heard: Set<string>;
  /** Messages are handled one at a time, in order, even when one needs the disk. */
  queue: Promise<void>;
  /** Bytes held on its behalf, by kind (S12); released when it goes. */
  readonly held: Record<HeldKind, number>;
  /** Since when it has been over its byte budget and not read (S12). */
  overBudgetSince: number | undefined;
  /** When it last sent a message (its idle time, S11). */
  lastMessageAt: number;
  /** Its changes waiting for the sync message that confirms them (relay_sync_round_seconds), oldest first. */
  readonly rounds: SyncRound[];
  closing: boolean;
}

/**
 * The relay's server side of automerge-repo's websocket protocol (version "1"), written
 * for untrusted clients, unlike `WebSocketServerAdapter`, which trusts every frame:
 *
 * - every frame is decoded and checked by `parseMessage`; anything malformed closes
 *   that connection with a 4xxx code and a reason, and nothing else;
 * - a peer ID is bound to the connection that joined with it: a second join with a live
 *   peer ID is refused, and messages must come from the joined peer;
 * - read-only credentials: changes are stripped from their sync messages (see
 *   `#stripChanges`), so the relay's copy never changes because of them;
 * - limits: frame size (`maxPayload`), message rate (the socket is paused, then closed
 *   if it keeps going), documents per connection, time to join;
 * - a request for a document that is neither in memory nor on disk, while no relay peer
 *   could have it, is answered `doc-unavailable` here, without a Repo handle, and
 *   replayed to the Repo if the document arrives later.
 */
export class RelayServerAdapter extends NetworkAdapter {
  readonly #wss: WebSocketServer;
  readonly #hooks: RelayServerHooks;
  readonly #log: Logger;
  readonly #connections = new Set<Connection>();
  readonly #byPeer = new Map<string, Connection>();
  /**
   * Which connection each ephemeral sender (a window, a host) speaks through: the first
   * one it came by, for as long as that connection lives (S13). Its messages are not sent
   * back there (what ephemeralOrigins.ts does for the clients). Bounded by connections
   * times MAX_SENDERS_PER_CONNECTION.
   */
  readonly #senderOwners = new Map<string, Connection>();
  /** Sync messages waiting for their document to be on disk (#sendWhenStored). */
  readonly #held = new Map<string, HeldMessages>();
  /** Peer IDs a new connection is taking over (#takeOver), so only one waits for each. */
  readonly #takingOver = new Set<string>();
  #nextId = 1;
  /** Bytes held on behalf of every connection, by kind (S12). */
  readonly #heldTotal: Record<HeldKind, number> = { queued: 0, waiting: 0, unsaved: 0 };
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #connected!: () => void;
  /** Resolves once the Repo has attached this adapter (called `connect`). */
  readonly attached = new Promise<void>((resolve) => (this.#connected = resolve));

  constructor(hooks: RelayServerHooks) {
    super();
    this.#hooks = hooks;
    this.#log = hooks.logger;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: hooks.limits.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  }

  isReady(): boolean {
    return true;
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata ?? {};
    // Judged after the timer, once the I/O that waited behind a stalled loop is read.
    this.#keepalive = setInterval(() => setImmediate(() => this.#sweep()), LIVENESS_SWEEP_MS);
    this.#keepalive.unref?.();
    this.#connected();
  }

  /** Live connections (joined or not). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Live connections authenticated with the token of hash `hash` ("" for anonymous). */
  connectionsOf(hash: string): number {
    let count = 0;
    for (const connection of this.#connections) if (connection.credential.hash === hash) count++;
    return count;
  }

  /** Bytes held on behalf of every connection, by kind (for /metrics). */
  heldBytes(): Readonly<Record<HeldKind, number>> {
    return { ...this.#heldTotal };
  }

  /** Whether `peerId` joined through a relay-access credential. */
  isRelayPeer(peerId: string): boolean {
    return this.#byPeer.get(peerId)?.credential.access === "relay";
  }

  /** Takes over an authenticated upgrade request, from the client at `remoteAddress` (clientAddress). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, credential: Credential, remoteAddress: string): void {
    this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, credential, remoteAddress));
  }

  send(message: Message): void {
    const connection = this.#byPeer.get(message.targetId);
    if (!connection || connection.closing) return;
    // Not back to the connection an author's ephemeral messages come by.
    if (message.type === "ephemeral" && this.#senderOwners.get(message.senderId) === connection) return;
    if (message.type === "ephemeral" && !connection.heard.has(message.senderId)) {
      if (connection.heard.size >= MAX_HEARD_PER_CONNECTION) connection.heard.delete(connection.heard.values().next().value!);
      connection.heard.add(message.senderId);
    }
    if (message.documentId) this.#hooks.touch(message.documentId);
    if (message.type === "sync" && message.documentId) this.#sendWhenStored(connection, { ...message, documentId: message.documentId });
    else this.#sendTo(connection, message);
  }

  /**
   * A sync message tells its reader which heads the relay has, and the desktop shows
   * "all changes on <relay>" once those are its own: so it leaves only once the relay's
   * copy is on disk at least as far (otherwise a SIGKILL within the save debounce loses
   * changes a writer was told are safe). Per document, one write at a time covers every
   * message made before it began; messages made meanwhile wait for the next. Latency
   * does not suffer: keystrokes reach other writers by the broadcast fast path
   * (src/shared/sync/changeBroadcast.ts), which needs no storage.
   */
  #sendWhenStored(connection: Connection, message: Message & { documentId: string }): void {
    this.#enqueue(message.documentId, { connection, message, madeAt: performance.now() });
  }

  /** Adds to what waits for the document's next store, and starts that store if none is under way. */
  #enqueue(documentId: string, entry: HeldReply | HeldChanges): void {
    let held = this.#held.get(documentId);
    if (!held) this.#held.set(documentId, (held = { waiting: [], writing: false }));
    held.waiting.push(entry);
    if (!held.writing) void this.#storeAndSend(documentId, held);
  }

  async #storeAndSend(documentId: string, held: HeldMessages): Promise<void> {
    held.writing = true;
    // automerge-repo makes a reply inside the update that takes a change in: the Repo's
    // copy has the change (and a new document is ready to be saved) only once it returns.
    await new Promise((resolve) => setImmediate(resolve));
    let failures = 0;
    while (held.waiting.length > 0) {
      const batch = held.waiting.splice(0);
      // What each reply claims, or the heads of each batch of changes.
      const heads = batch.map((entry) => (entry.message ? claimedHeads(entry.message) : entry.heads));
      let known: Set<string>;
      let asked: number;
      try {
        // The heads each reply claims must be in the copy that is then written: asked
        // before the write, so that what is known is on disk once it returns. A reply
        // made by a copy that died unsaved (its worker crashed) claims heads that the
        // copy loaded again from disk lacks: it is not sent (F14).
        const claimed = heads.flat();
        asked = performance.now();
        known = claimed.length === 0 ? new Set() : new Set(await this.#hooks.knownHeads(documentId, [...new Set(claimed)]));
        await this.#hooks.store(documentId);
        failures = 0;
      } catch (error) {
        // Not stored: nothing is claimed. Everything waits, and the write is retried.
        held.waiting.unshift(...batch);
        failures++;
        this.#log.error({ documentId, err: error, failures }, "cannot store a document; its sync messages wait");
        await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** Math.min(failures, 7))));
        continue;
      }
      let dropped = 0;
      const later: HeldChanges[] = [];
      for (const [i, entry] of batch.entries()) {
        const { connection, message } = entry;
        if (!message) {
          // Released once a stored copy holds them; under load the Repo may take them in
          // after this store began, and the next one holds them.
          if (entry.heads.every((h) => known.has(h))) {
            this.#release(connection, "unsaved", entry.unsaved);
            entry.round.heldSince ??= asked;
          } else if (!connection.closing && ++entry.tries < MAX_UNSAVED_TRIES) later.push(entry);
        } else if (!heads[i]!.every((h) => known.has(h))) dropped++;
        else if (!connection.closing) {
          this.#sendTo(connection, message);
          if (message.type === "sync") this.#confirmRounds(connection, documentId, heads[i]!, entry.madeAt);
        }
      }
      // Looked at again after a while, without holding back the replies behind them.
      if (later.length > 0) {
        const retry = setTimeout(() => {
          for (const entry of later) if (!entry.connection.closing) this.#enqueue(documentId, entry);
        }, Math.min(2_000, 50 * 2 ** Math.min(later[0]!.tries, 6)));
        retry.unref?.();
      }
      if (dropped > 0) {
        this.#log.warn({ documentId, dropped }, "sync replies claimed changes the stored copy lacks (a document worker died before saving them): not sent; sync starts over");
        this.#hooks.metrics.inc("relay_sync_messages_dropped_total", {}, dropped);
      }
    }
    held.writing = false;
    this.#held.delete(documentId);
  }

  /**
   * A sync message claiming `claimed` heads, made at `madeAt`, has just left for
   * `connection`: the rounds of that document it confirms end (relay_sync_round_seconds).
   * It confirms a round if it claims every head the changes came with (the writer's app
   * then sees its heads on the relay), or if it was made once a copy holding them was
   * being stored (the relay's heads have moved past them: its copy only grows). Either
   * way it leaves only after that copy is on disk (#storeAndSend).
   */
  #confirmRounds(connection: Connection, documentId: string, claimed: readonly string[], madeAt: number): void {
    const { rounds } = connection;
    if (rounds.length === 0) return;
    const claimedSet = new Set(claimed);
    const now = performance.now();
    for (let i = 0; i < rounds.length; ) {
      const round = rounds[i]!;
      const confirmed = round.documentId === documentId && (round.heads.every((h) => claimedSet.has(h)) || (round.heldSince !== undefined && madeAt >= round.heldSince));
      if (!confirmed) {
        i++;
        continue;
      }
      this.#hooks.metrics.observe("relay_sync_round_seconds", (now - round.arrivedAt) / 1000);
      rounds.splice(i, 1);
    }
  }

  /**
   * A notice for every writer connected now and later, on connections that stay open
   * (the relay cannot save: "cannot save right now; your changes are kept here"), or
   * null once it no longer applies (each client is told it is cleared).
   */
  setNotice(text: string | null): void {
    if (text === this.#notice) return;
    const previous = this.#notice;
    this.#notice = text;
    for (const connection of this.#connections) {
      if (connection.peerId === undefined || connection.closing) continue;
      if (previous !== null) this.#sendNotice(connection, connection.peerId, previous, true);
      if (text !== null) this.#sendNotice(connection, connection.peerId, text);
    }
  }

  #notice: string | null = null;

  #sendNotice(connection: Connection, peerId: string, message: string, cleared?: true): void {
    this.#sendTo(connection, { type: "error", senderId: this.peerId, targetId: peerId, message, ...(cleared ? { cleared } : {}) });
  }

  /**
   * Closes the connections that sync any of `documentIds` (with "service restart"): the
   * copy their sync state describes is gone (a document worker died), and a peer
   * reconnects at once and starts its sync over from the relay's disk.
   */
  restartSync(documentIds: readonly string[]): number {
    const gone = new Set(documentIds);
    let closed = 0;
    for (const connection of [...this.#connections]) {
      if (![...connection.documents].some((d) => gone.has(d))) continue;
      this.#close(connection, CloseCode.ServiceRestart, "a document worker restarted: reconnect to sync again", "worker-restart");
      closed++;
    }
    return closed;
  }

  /** Closes every connection whose credential `stillValid` rejects (revoked tokens). */
  closeWhere(stillValid: (credential: Credential) => boolean, code: number, reason: string): number {
    let closed = 0;
    for (const connection of this.#connections) {
      if (!stillValid(connection.credential)) {
        this.#close(connection, code, reason, "revoked");
        closed++;
      }
    }
    return closed;
  }

  /** A document's first data reached the disk: replay the requests we answered unavailable. */
  documentStored(documentId: string): void {
    for (const connection of this.#connections) {
      if (connection.closing) continue;
      const request = this.#dropWaiting(connection, documentId);
      if (!request) continue;
      this.#log.debug({ conn: connection.id, documentId }, "document arrived: replaying a request answered unavailable");
      this.emit("message", request as unknown as Message);
    }
  }

  disconnect(): void {
    clearInterval(this.#keepalive);
    for (const connection of [...this.#connections]) this.#close(connection, CloseCode.GoingAway, "relay shutting down", "shutdown");
  }

  #accept(socket: WebSocket, credential: Credential, remoteAddress: string): void {
    const { limits, metrics } = this.#hooks;
    const connection: Connection = {
      id: this.#nextId++,
      socket,
      credential,
      remoteAddress,
      peerId: undefined,
      binding: new PeerBinding(this.peerId!),
      joinTimer: undefined,
      tokens: limits.messageBurst,
      refilledAt: Date.now(),
      resumeTimer: undefined,
      liveness: new Liveness(LIVENESS),
      documents: new Set(),
      waiting: new Map(),
      refusedReported: new Set(),
      senders: new Set(),
      heard: new Set(),
      queue: Promise.resolve(),
      held: { queued: 0, waiting: 0, unsaved: 0 },
      overBudgetSince: undefined,
      lastMessageAt: Date.now(),
      rounds: [],
      closing: false,
    };
    this.#connections.add(connection);
    metrics.inc("relay_connections_total");
    connection.joinTimer = setTimeout(() => this.#close(connection, CloseCode.JoinTimeout, "no join in time", "join-timeout"), limits.joinTimeoutMs);
    socket.on("pong", () => connection.liveness.heard());
    socket.on("ping", () => connection.liveness.heard());
    socket.on("message", (data, isBinary) => this.#onFrame(connection, data as Buffer, isBinary));
    socket.on("error", (error) => {
      // ws reports oversized frames and protocol violations here, then closes.
      this.#log.info({ conn: connection.id, err: error.message }, "connection error");
      if (/payload/i.test(error.message)) metrics.inc("relay_closed_connections_total", { reason: "frame-too-large" });
    });
    socket.on("close", () => this.#forget(connection));
    this.#log.debug({ conn: connection.id, token: credential.name, access: credential.access, remoteAddress }, "connection open");
  }

  #onFrame(connection: Connection, data: Buffer, isBinary: boolean): void {
    if (connection.closing) return;
    // Where a writer's sync round starts (relay_sync_round_seconds): its wait in the queue counts.
    const arrivedAt = performance.now();
    connection.liveness.heard();
    const { metrics } = this.#hooks;
    metrics.inc("relay_bytes_received_total", {}, data.byteLength);
    if (!this.#admit(connection)) return;
    if (!isBinary) {
      this.#close(connection, CloseCode.InvalidMessage, "text frames are not part of the protocol", "invalid-message");
      return;
    }
    connection.lastMessageAt = Date.now();
    const parsed = parseMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    // Held until handled: a connection whose messages wait (for the disk, a document
    // loading) cannot pile up frames beyond its byte budget (S12).
    this.#hold(connection, "queued", data.byteLength);
    if (connection.closing) return;
    connection.queue = connection.queue
      .then(() => this.#handle(connection, parsed, arrivedAt))
      .catch((error: unknown) => {
        this.#log.error({ conn: connection.id, err: error }, "message handling failed");
        this.#close(connection, CloseCode.InvalidMessage, "message could not be handled", "internal");
      })
      .finally(() => this.#release(connection, "queued", data.byteLength));
  }

  /** Token bucket: false if the connection was closed for flooding. */
  #admit(connection: Connection): boolean {
    const { limits, metrics } = this.#hooks;
    const now = Date.now();
    connection.tokens = Math.min(limits.messageBurst, connection.tokens + ((now - connection.refilledAt) / 1000) * limits.messagesPerSecond);
    connection.refilledAt = now;
    connection.tokens -= 1;
    if (connection.tokens >= 0) return true;
    if (connection.tokens < -limits.messageBurst) {
      this.#close(connection, CloseCode.RateLimited, "message rate limit exceeded", "rate-limited");
      return false;
    }
    if (!connection.resumeTimer) {
      // Stop reading: TCP pushes back on the sender. Frames already buffered still arrive.
      metrics.inc("relay_throttled_total");
      connection.socket.pause();
      const wait = Math.ceil(((1 - connection.tokens) / limits.messagesPerSecond) * 1000);
      connection.resumeTimer = setTimeout(() => {
        connection.resumeTimer = undefined;
        this.#updateReading(connection);
      }, wait);
    }
    return true;
  }

  async #handle(connection: Connection, parsed: ReturnType<typeof parseMessage>, arrivedAt: number): Promise<void> {
    if (connection.closing) return;
    const { metrics } = this.#hooks;
    if (parsed instanceof ProtocolError) {
      if (parsed instanceof UnsupportedProtocolVersionError && parsed.senderId) {
        this.#sendTo(connection, { type: "error", senderId: this.peerId, targetId: parsed.senderId, message: "unsupported protocol version" });
      }
      this.#close(connection, parsed.closeCode, parsed.message, reasonLabel(parsed.closeCode));
      return;
    }
    metrics.inc("relay_messages_received_total", { type: parsed.type });
    if (parsed.type === "join") {
      const peerId = parsed.senderId as PeerId;
      // (Joining as the relay itself is refused below, with the other peer IDs in use.)
      const refused = connection.binding.joinRefusal(peerId);
      if (refused && refused.code !== CloseCode.PeerIdInUse) {
        this.#close(connection, refused.code, refused.reason, refused.label);
        return;
      }
      // The relay's own peer IDs (`relay-<storage ID>`, and `….dial` for the connections
      // it opens to its peers) are for relay tokens only: a writer who took a peer's dial
      // ID would keep that peer's redials out (S14).
      if (peerId.startsWith("relay-") && connection.credential.access !== "relay") {
        this.#log.warn({ conn: connection.id, peerId, token: connection.credential.name }, "join refused: a relay's peer ID from a token that is not a relay's");
        this.#close(connection, CloseCode.InvalidId, "peer IDs starting with relay- are for relay tokens", "relay-peer-id");
        return;
      }
      const holder = this.#byPeer.get(peerId);
      // Most often the same desktop back on a new connection after its old one died
      // without a word (a laptop asleep, a network that changed): the old one would hold
      // the peer ID until its silence counts as death. If it does not answer a ping, it
      // goes now and the new connection joins in its place. A live original stays (S4).
      if (holder && holder.credential.hash === connection.credential.hash) {
        await this.#takeOver(holder, connection);
        if (connection.closing) return;
      }
      if (this.#byPeer.has(peerId) || peerId === this.peerId || this.#hooks.isPeerIdTaken(peerId)) {
        this.#log.warn({ conn: connection.id, peerId, token: connection.credential.name }, "join refused: peer ID in use");
        this.#sendTo(connection, { type: "error", senderId: this.peerId, targetId: peerId, message: "peer ID in use by another connection" });
        this.#close(connection, CloseCode.PeerIdInUse, "peer ID in use by another connection", "peer-id-in-use");
        return;
      }
      clearTimeout(connection.joinTimer);
      connection.joinTimer = undefined;
      connection.peerId = peerId;
      connection.binding.bind(peerId);
      this.#byPeer.set(peerId, connection);
      const peerMetadata: PeerMetadata = {};
      if (parsed.peerMetadata.storageId !== undefined) peerMetadata.storageId = parsed.peerMetadata.storageId as StorageId;
      if (parsed.peerMetadata.isEphemeral !== undefined) peerMetadata.isEphemeral = parsed.peerMetadata.isEphemeral;
      this.#log.info({ conn: connection.id, peerId, token: connection.credential.name, access: connection.credential.access }, "peer joined");
      this.#sendTo(connection, {
        type: "peer",
        senderId: this.peerId,
        peerMetadata: this.peerMetadata,
        selectedProtocolVersion: PROTOCOL_VERSION,
        targetId: peerId,
      });
      if (this.#notice !== null) this.#sendNotice(connection, peerId, this.#notice);
      this.emit("peer-candidate", { peerId, peerMetadata });
      return;
    }
    if (connection.peerId === undefined) {
      this.#close(connection, CloseCode.UnexpectedJoin, "the first message must be a join", "unexpected-join");
      return;
    }
    if (parsed.type === "error") {
      this.#log.info({ conn: connection.id, peerId: connection.peerId, message: parsed.message }, "peer reported an error");
      return;
    }
    if (parsed.type === "peer") {
      this.#close(connection, CloseCode.InvalidMessage, "clients do not send peer messages", "invalid-message");
      return;
    }
    await this.#handleRepoMessage(connection, parsed, arrivedAt);
  }

  async #handleRepoMessage(connection: Connection, message: RepoWireMessage, arrivedAt: number): Promise<void> {
    const { limits } = this.#hooks;
    // Ephemeral messages are forwarded along chains of peers (renderer, host, relay)
    // with their author as sender; everything else must come from the peer that joined.
    const checked = connection.binding.check(message);
    if ("refusal" in checked) {
      this.#close(connection, checked.refusal.code, checked.refusal.reason, checked.refusal.label);
      return;
    }
    if ("documentId" in message) {
      const documentId = message.documentId;
      if (!connection.documents.has(documentId)) {
        if (connection.documents.size >= limits.maxDocumentsPerConnection) {
          this.#close(connection, CloseCode.TooManyDocuments, "too many documents on one connection", "too-many-documents");
          return;
        }
        connection.documents.add(documentId);
      }
      this.#hooks.touch(documentId);
    }
    if (message.type === "sync" || message.type === "request") {
      const decoded = checked.decoded!;
      if (connection.credential.access === "read-only") {
        const data = await this.#readOnly(connection, message.documentId, decoded);
        if (connection.closing) return;
        if (data) message = { ...message, data };
      }
      if (message.type === "request" && (await this.#answerUnknown(connection, message))) return;
      this.emit("message", message as unknown as Message);
      if (decoded.changes.length > 0 && connection.credential.access !== "read-only") {
        this.#hooks.publishChanges?.(message.documentId, decoded.changes);
        // Changes in the relay's memory until its copy is next stored (S12): a writer
        // cannot make the relay hold more than its budget while the disk refuses saves.
        this.#hold(connection, "unsaved", message.data.byteLength);
        const round: SyncRound = { documentId: message.documentId, heads: decoded.heads, arrivedAt };
        if (connection.rounds.push(round) > MAX_ROUNDS_PER_CONNECTION) connection.rounds.shift();
        this.#enqueue(message.documentId, { connection, unsaved: message.data.byteLength, heads: decoded.heads, tries: 0, round });
      }
      return;
    }
    if (message.type === "ephemeral" && connection.credential.access === "read-only" && carriesChange(message.data)) {
      // Renderers broadcast each change beside sync (src/shared/sync/changeBroadcast.ts),
      // and other writers' renderers apply what arrives: from a reader, that would be a
      // change the relay refuses by sync, reaching everyone another way. Not forwarded.
      this.#hooks.metrics.inc("relay_refused_changes_total");
      return;
    }
    if (message.type === "ephemeral" && !this.#bindSender(connection, message.senderId)) return;
    this.emit("message", message as unknown as Message);
    if (message.type === "ephemeral" && message.documentId) this.#hooks.publishEphemeral?.(message as unknown as Message & { documentId: string });
  }

  /**
   * In a relay cluster: an ephemeral message another relay accepted from one of its
   * writers, for this relay's writers of the document (the Repo passes it on to the peers
   * syncing the document, as for a local writer's). Checked there; the caller checks
   * that the document is in memory here, so that nothing is loaded for it.
   */
  deliverFromCluster(message: Message): void {
    this.emit("message", message);
  }

  /**
   * Whether `connection` may send ephemeral messages (presence, broadcast keystrokes) as
   * `sender` (S13). Messages are forwarded with their author as sender (a host passes its
   * windows' on), so the sender cannot simply be the connection's peer ID: instead each
   * sender is bound to the first connection it speaks through, and no other may use it
   * while that one lives, nor the peer ID another connection joined with, nor the
   * relay's. Without this any token holder could show a cursor as someone else, or send
   * a huge count in their name that makes receivers drop that writer's messages. A
   * client connection binds at most MAX_SENDERS_PER_CONNECTION senders (a host has a few
   * windows); a relay peer forwards its whole team's.
   */
  #bindSender(connection: Connection, sender: string): boolean {
    const owner = this.#senderOwners.get(sender);
    if (owner === connection) return true;
    const refuse = (reason: string) => {
      this.#hooks.metrics.inc("relay_ephemeral_refused_total", { reason });
      return false;
    };
    // What the relay passed to it, coming back (automerge-repo forwards to every peer but
    // the author): not forwarded again, and not this connection's to claim.
    if (connection.heard.has(sender)) return refuse("echo");
    const joined = this.#byPeer.get(sender as PeerId);
    // Another connection's author (most often an echo of what this one received): dropped.
    if (owner !== undefined || (joined !== undefined && joined !== connection) || sender === this.peerId) return refuse("sender-of-another");
    if (connection.credential.access !== "relay" && connection.senders.size >= MAX_SENDERS_PER_CONNECTION) return refuse("too-many-senders");
    connection.senders.add(sender);
    this.#senderOwners.set(sender, connection);
    return true;
  }

  /**
   * Read-only: the message goes on without its changes, and without the heads the relay
   * does not have (the reader's own changes), so the relay never asks for them. Asking
   * would loop: Automerge resends changes the other side says it needs, the relay would
   * drop them again, and need them again. The relay still learns what the reader has
   * and needs of the relay's changes, so the reader keeps following the document. The
   * client is told once per document with an `error` message; its connection stays
   * open. Returns the new sync data, or undefined to pass the message on as it is.
   */
  async #readOnly(connection: Connection, documentId: string, decoded: A.DecodedSyncMessage): Promise<Uint8Array | undefined> {
    const asked = new Set(decoded.heads);
    for (const have of decoded.have) for (const h of have.lastSync) asked.add(h);
    const knownSet = new Set(await this.#hooks.knownHeads(documentId, [...asked]));
    const known = (hash: string) => knownSet.has(hash);
    const unknownHeads = decoded.heads.filter((h) => !known(h));
    if (decoded.changes.length === 0 && unknownHeads.length === 0) return undefined;
    if (decoded.changes.length > 0) {
      this.#hooks.metrics.inc("relay_refused_changes_total");
      if (!connection.refusedReported.has(documentId) && connection.refusedReported.size < 1000) {
        connection.refusedReported.add(documentId);
        this.#log.info({ conn: connection.id, peerId: connection.peerId, documentId, token: connection.credential.name }, "changes from a read-only token refused");
        this.#sendTo(connection, {
          type: "error",
          senderId: this.peerId,
          targetId: connection.peerId,
          message: `read-only token: changes to ${documentId} refused`,
        });
      }
    }
    // What the reader had when it last synced with us is known to us: documents only grow.
    const heads = new Set(decoded.heads.filter(known));
    if (unknownHeads.length > 0) for (const have of decoded.have) for (const h of have.lastSync) if (known(h)) heads.add(h);
    return A.encodeSyncMessage({ ...decoded, heads: [...heads], changes: [] });
  }

  /** Answers a request for a document nobody here has, without the Repo. True if answered. */
  async #answerUnknown(connection: Connection, message: RequestMessage): Promise<boolean> {
    const { documentId } = message;
    if (this.#hooks.isInMemory(documentId) || this.#hooks.relayPeerConnected()) return false;
    if (await this.#hooks.hasDocument(documentId)) return false;
    if (connection.closing) return true;
    // The Repo might have started holding it while we looked at the disk.
    if (this.#hooks.isInMemory(documentId)) return false;
    this.#hooks.metrics.inc("relay_unavailable_answers_total");
    this.#log.debug({ conn: connection.id, documentId }, "unknown document: answered unavailable");
    this.#dropWaiting(connection, documentId);
    if (connection.waiting.size >= MAX_WAITING_PER_CONNECTION) {
      const oldest = connection.waiting.keys().next().value;
      if (oldest !== undefined) this.#dropWaiting(connection, oldest);
    }
    connection.waiting.set(documentId, message);
    this.#hold(connection, "waiting", this.#requestBytes(message));
    this.#sendTo(connection, { type: "doc-unavailable", senderId: this.peerId, targetId: message.senderId, documentId });
    return true;
  }

  /** Bytes a waiting request is counted for (S12). */
  #requestBytes(message: RequestMessage): number {
    return message.data.byteLength + REQUEST_OVERHEAD_BYTES;
  }

  /** More bytes held on `connection`'s behalf; over budget, it is slowed, then closed (S12). */
  #hold(connection: Connection, kind: HeldKind, bytes: number): void {
    if (connection.closing || bytes <= 0) return;
    connection.held[kind] += bytes;
    this.#heldTotal[kind] += bytes;
    this.#judgeBudget(connection);
  }

  #release(connection: Connection, kind: HeldKind, bytes: number): void {
    if (connection.closing || bytes <= 0) return;
    const released = Math.min(bytes, connection.held[kind]);
    connection.held[kind] -= released;
    this.#heldTotal[kind] -= released;
    if (connection.overBudgetSince !== undefined) this.#judgeBudget(connection);
  }

  /**
   * Over its own budget, or over the relay's while holding more than its share: the
   * connection is not read until it is back under (TCP pushes back on its sender). At
   * twice its budget, or still over after OVER_BUDGET_GRACE_MS (#sweep), it is closed
   * with the reason, and everything held for it is let go.
   */
  #judgeBudget(connection: Connection, now = Date.now()): void {
    if (connection.closing) return;
    const { limits, metrics } = this.#hooks;
    const own = sum(connection.held);
    const share = limits.maxHeldBytes / Math.max(1, this.#connections.size);
    const over = own > limits.maxHeldBytesPerConnection || (sum(this.#heldTotal) > limits.maxHeldBytes && own > share);
    if (!over) {
      if (connection.overBudgetSince !== undefined) {
        connection.overBudgetSince = undefined;
        this.#updateReading(connection);
      }
      return;
    }
    const limit = Math.min(limits.maxHeldBytesPerConnection, Math.max(share, 1));
    if (own > 2 * limits.maxHeldBytesPerConnection || (connection.overBudgetSince !== undefined && now - connection.overBudgetSince >= OVER_BUDGET_GRACE_MS)) {
      this.#log.warn({ conn: connection.id, peerId: connection.peerId, token: connection.credential.name, held: { ...connection.held }, limit }, "connection closed: the relay holds too much on its behalf");
      this.#close(connection, CloseCode.OverBudget, `the relay holds too much for this connection (${mebibytes(own)} MiB; limit ${mebibytes(limit)} MiB)`, "over-budget");
      return;
    }
    if (connection.overBudgetSince === undefined) {
      connection.overBudgetSince = now;
      metrics.inc("relay_slowed_total");
      this.#log.info({ conn: connection.id, peerId: connection.peerId, held: { ...connection.held }, limit }, "connection over its byte budget: not read until the relay holds less for it");
      this.#updateReading(connection);
    }
  }

  /** Reads the socket unless the rate limit (resumeTimer) or the byte budget holds it back. */
  #updateReading(connection: Connection): void {
    if (connection.closing) return;
    if (connection.resumeTimer !== undefined || connection.overBudgetSince !== undefined) connection.socket.pause();
    else connection.socket.resume();
  }

  #dropWaiting(connection: Connection, documentId: string): RequestMessage | undefined {
    const request = connection.waiting.get(documentId);
    if (!request) return undefined;
    connection.waiting.delete(documentId);
    this.#release(connection, "waiting", this.#requestBytes(request));
    return request;
  }

  #sendTo(connection: Connection, message: object): void {
    const socket = connection.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.#close(connection, CloseCode.RateLimited, "not reading fast enough", "slow-consumer");
      return;
    }
    const bytes = cbor.encode(message);
    const { metrics } = this.#hooks;
    metrics.inc("relay_messages_sent_total", { type: String((message as { type?: unknown }).type) });
    metrics.inc("relay_bytes_sent_total", {}, bytes.byteLength);
    socket.send(bytes);
  }

  #close(connection: Connection, code: number, reason: string, label: string): void {
    if (connection.closing) return;
    connection.closing = true;
    this.#hooks.metrics.inc("relay_closed_connections_total", { reason: label });
    if (label !== "shutdown") {
      this.#log.info({ conn: connection.id, peerId: connection.peerId, token: connection.credential.name, code, reason }, "closing connection");
    }
    const socket = connection.socket;
    socket.close(code, reason.slice(0, MAX_REASON));
    // A peer that does not answer the close handshake is cut off.
    setTimeout(() => socket.terminate(), 2000).unref?.();
    this.#forget(connection);
  }

  /** Drops a connection from every table; tells the Repo its peer is gone. */
  #forget(connection: Connection): void {
    clearTimeout(connection.joinTimer);
    clearTimeout(connection.resumeTimer);
    connection.closing = true;
    if (!this.#connections.delete(connection)) return;
    for (const kind of Object.keys(connection.held) as HeldKind[]) {
      this.#heldTotal[kind] -= connection.held[kind];
      connection.held[kind] = 0;
    }
    connection.waiting.clear();
    connection.rounds.length = 0;
    for (const sender of connection.senders) if (this.#senderOwners.get(sender) === connection) this.#senderOwners.delete(sender);
    const peerId = connection.peerId;
    if (peerId !== undefined && this.#byPeer.get(peerId) === connection) {
      this.#byPeer.delete(peerId);
      this.emit("peer-disconnected", { peerId });
      this.#log.info({ conn: connection.id, peerId }, "peer left");
    }
  }

  /**
   * `holder` has the peer ID `newcomer` joins with, under the same credential: closes
   * `holder` if it does not answer a ping within PROBE_MS (at once if a ping has already
   * gone unanswered that long).
   */
  async #takeOver(holder: Connection, newcomer: Connection): Promise<void> {
    const peerId = holder.peerId!;
    if (holder.closing || this.#takingOver.has(peerId)) return;
    this.#takingOver.add(peerId);
    try {
      if (!(await this.#answers(holder)) && !holder.closing && !newcomer.closing) {
        this.#log.info({ conn: holder.id, peerId, by: newcomer.id }, "connection did not answer while its peer ID rejoined: replaced by the new connection");
        this.#close(holder, CloseCode.GoingAway, "did not answer", "unresponsive");
      }
    } finally {
      this.#takingOver.delete(peerId);
    }
  }

  /** Whether `connection` answers (any frame) a ping within PROBE_MS of it. */
  #answers(connection: Connection): Promise<boolean> {
    const { liveness, socket } = connection;
    if (liveness.unansweredMs() >= PROBE_MS) return Promise.resolve(false);
    if (liveness.unansweredMs() === 0) {
      liveness.pinged();
      try {
        socket.ping();
      } catch {
        // A socket already gone: no answer will come.
      }
    }
    return new Promise((resolve) => {
      const done = (answered: boolean) => {
        clearTimeout(timer);
        socket.off("pong", onFrame);
        socket.off("message", onFrame);
        socket.off("close", onClose);
        resolve(answered);
      };
      const onFrame = () => done(true);
      const onClose = () => done(false);
      // The verdict after the timer's turn, once frames that waited behind a stall are read.
      const timer = setTimeout(() => setImmediate(() => done(liveness.unansweredMs() === 0)), Math.max(0, PROBE_MS - liveness.unansweredMs()));
      socket.on("pong", onFrame);
      socket.on("message", onFrame);
      socket.on("close", onClose);
    });
  }

  /** Pings quiet connections; drops those silent for too long. */
  #sweep(): void {
    const now = Date.now();
    const { idleTimeoutMs } = this.#hooks.limits;
    for (const connection of [...this.#connections]) {
      if (connection.overBudgetSince !== undefined) {
        this.#judgeBudget(connection, now);
        if (connection.closing) continue;
      }
      // Answering pings is not enough to keep a slot: a joined connection that says
      // nothing for idleTimeoutMs goes (S11). Relay peers may be quiet for long.
      if (connection.peerId !== undefined && connection.credential.access !== "relay" && now - connection.lastMessageAt > idleTimeoutMs) {
        this.#close(connection, CloseCode.Idle, "idle: no message for too long", "idle");
        continue;
      }
      const verdict = connection.liveness.check(now);
      if (verdict === "dead") {
        this.#hooks.metrics.inc("relay_closed_connections_total", { reason: "keepalive" });
        this.#log.info({ conn: connection.id, peerId: connection.peerId, silentMs: connection.liveness.silentMs(now) }, "connection silent for too long: dropped");
        connection.socket.terminate();
        this.#forget(connection);
      } else if (verdict === "ping") {
        connection.liveness.pinged(now);
        connection.socket.ping();
      }
    }
  }
}

function reasonLabel(code: number): string {
  switch (code) {
    case CloseCode.UnsupportedProtocolVersion:
      return "unsupported-version";
    case CloseCode.InvalidId:
      return "invalid-id";
    default:
      return "invalid-message";
  }
}

/**
 * Whether an ephemeral message's data is (or claims to be) a broadcast change: its type
 * alone decides, whether the change in it is valid or not, so that nothing a receiver
 * might apply gets through.
 */
function carriesChange(data: Uint8Array): boolean {
  try {
    const content: unknown = cbor.decode(data);
    return typeof content === "object" && content !== null && (content as { type?: unknown }).type === CHANGE_BROADCAST;
  } catch {
    // Not CBOR: no receiver decodes it either.
    return false;
  }
}

/** All the bytes of a held record, whatever their kind. */
function sum(held: Readonly<Record<HeldKind, number>>): number {
  return held.queued + held.waiting + held.unsaved;
}

function mebibytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}
