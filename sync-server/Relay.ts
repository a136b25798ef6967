import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import type { Duplex } from "node:stream";
import { Repo, type DocumentId, type PeerId } from "@automerge/automerge-repo/slim";
import type { Logger } from "pino";
import { StorageNotDurableError, StorageStack, type RetryingStorage } from "../src/node/storage";
import { hashesEqual } from "../src/node/protocol";
import { Metrics } from "./metrics";
import { PeerDialer } from "./PeerDialer";
import { PeerSync } from "./PeerSync";
import { RelayServerAdapter, type ConnectionLimits, type Credential } from "./RelayServerAdapter";
import { RelayStorage } from "./RelayStorage";
import { findToken, TokenStore, type TokenRecord } from "./tokens";
import { onResync, RESYNC_AFTER_MS } from "../src/shared/sync/resync";
import { confirmPeerHas, evictDocument, knownHeads } from "./repoDocuments";
import { DocumentWorkers } from "../src/node/workers/DocumentWorkers";
import type { RelayWorkerInit, WorkerEvent } from "./workers/protocol";

/** How often the relay looks at whether its disk takes saves (for writers, /healthz and /metrics). */
const STORAGE_WATCH_MS = 500;
/** What writers are told while the relay's disk refuses saves (shown after the relay's name). */
export const STORAGE_NOTICE = "cannot save right now; your changes are kept here";

export interface RelayOptions {
  dataDir: string;
  /** 0 picks a free port; `relay.port` tells which. */
  port: number;
  host: string;
  /** Other relays to replicate with, `ws(s)://host:port/?token=...`. */
  peers: string[];
  /** Token for peers whose URL carries none. */
  peerToken?: string;
  /** Longest pause between attempts to reach a peer relay (default 30 s). */
  peerBackoffMaxMs?: number;
  allowAnonymous: boolean;
  logger: Logger;
  /** ms a local change may wait before it is sent to a peer (automerge-repo's throttle). */
  syncDebounceMs: number;
  /** ms a change may wait before it is written to disk. */
  saveDebounceMs: number;
  /** A document with no traffic for this long leaves memory (it stays on disk). */
  idleEvictMs: number;
  maxConnections: number;
  limits: ConnectionLimits;
  /** TCP connections that have not finished their HTTP request or upgrade; beyond it the oldest is dropped (S11). */
  maxPendingUpgrades: number;
  /** Time a connection has to finish its HTTP request or upgrade (S11). */
  requestTimeoutMs: number;
  /** How often the token file is checked for revocations. */
  tokenPollMs?: number;
  /** Worker threads for long documents (0: every document on the main thread). */
  workers: number;
  /** A document of at least this many bytes on disk is loaded in a worker (DocumentWorkers). */
  workerThresholdBytes: number;
}

/** The documents directory inside the data directory. */
export const DOCUMENTS_DIR = "documents";

/**
 * The relay: a Repo on crash-safe storage, behind an HTTP server that authenticates
 * WebSocket upgrades, serves `/healthz` and `/metrics`, and replicates with other relays.
 */
export class Relay {
  readonly repo: Repo;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly dataDir: string;
  readonly host: string;
  #port = 0;
  readonly #options: RelayOptions;
  readonly #server: http.Server;
  readonly #adapter: RelayServerAdapter;
  readonly #dialers: PeerDialer[];
  readonly #stack: StorageStack;
  readonly #retrying: RetryingStorage;
  readonly #storage: RelayStorage;
  readonly #peerSync: PeerSync;
  readonly #workers: DocumentWorkers;
  readonly #tokens: TokenStore;
  #tokenRecords: TokenRecord[];
  #tokenStamp = "";
  readonly #activity: Map<string, number>;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #evicting = false;
  #closing: Promise<void> | undefined;
  /** Sockets that have not yet sent a whole request or upgrade, oldest first, with when they came (S11). */
  readonly #pending = new Map<Duplex, number>();

  private constructor(args: {
    options: RelayOptions;
    repo: Repo;
    metrics: Metrics;
    adapter: RelayServerAdapter;
    dialers: PeerDialer[];
    stack: StorageStack;
    storage: RelayStorage;
    peerSync: PeerSync;
    workers: DocumentWorkers;
    tokens: TokenStore;
    tokenRecords: TokenRecord[];
    activity: Map<string, number>;
  }) {
    this.#options = args.options;
    this.logger = args.options.logger;
    this.dataDir = path.resolve(args.options.dataDir);
    this.host = args.options.host;
    this.repo = args.repo;
    this.metrics = args.metrics;
    this.#adapter = args.adapter;
    this.#dialers = args.dialers;
    this.#stack = args.stack;
    this.#retrying = args.stack.retrying;
    this.#storage = args.storage;
    this.#peerSync = args.peerSync;
    this.#workers = args.workers;
    this.#tokens = args.tokens;
    this.#tokenRecords = args.tokenRecords;
    this.#activity = args.activity;
    // Node's own request timeouts, checked every second (not every 30 s), for slow
    // senders of headers; #sweepPending also drops sockets that never send a byte (S11).
    this.#server = http.createServer(
      { headersTimeout: args.options.requestTimeoutMs, requestTimeout: args.options.requestTimeoutMs, connectionsCheckingInterval: 1000 },
      (req, res) => {
        this.#pending.delete(req.socket);
        this.#onRequest(req, res);
      },
    );
    this.#server.on("connection", (socket: Duplex) => this.#onConnection(socket));
    this.#server.on("upgrade", (req, socket, head) => {
      this.#pending.delete(socket);
      this.#onUpgrade(req, socket, head);
    });
    this.metrics.onCollect(() => {
      this.metrics.set("relay_connections", this.#adapter.connectionCount);
      this.metrics.set("relay_pending_upgrades", this.#pending.size);
      for (const [kind, bytes] of Object.entries(this.#adapter.heldBytes())) this.metrics.set("relay_held_bytes", bytes, { kind });
      this.metrics.set("relay_documents_in_memory", Object.keys(this.repo.handles).length + this.#workers.documentsInMemory);
    });
  }

  /**
   * Opens the data directory (taking its lock), starts the Repo, and listens. Resolves
   * once a connection can sync: storage open, network adapter attached, socket bound.
   */
  static async open(options: RelayOptions): Promise<Relay> {
    const logger = options.logger;
    const dataDir = path.resolve(options.dataDir);
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    const metrics = new Metrics();
    const activity = new Map<string, number>();
    const touch = (documentId: string) => void activity.set(documentId, Date.now());
    const ref: { peerSync?: PeerSync; adapter?: RelayServerAdapter; workers?: DocumentWorkers } = {};

    const documentsDir = path.join(dataDir, DOCUMENTS_DIR);
    let failing = false;
    const stack = await StorageStack.open({
      backend: { kind: "files", dir: documentsDir },
      onCorrupt: (c) => logger.error({ documentId: c.documentId, path: c.path, quarantinedTo: c.quarantinedTo, reason: c.reason }, "corrupt chunk quarantined"),
      onSaveFailed: ({ key, error, attempt }) => {
        failing = true;
        logger.error({ key, err: error, attempt }, "save failed; keeping the change in memory and retrying");
      },
      onRecovered: () => {
        if (!failing) return;
        failing = false;
        logger.info("saving works again; every pending change is on disk");
      },
      onSaved: (key) => {
        if (key[1] === "snapshot" || key[1] === "incremental") ref.peerSync?.documentChanged(key[0]!);
      },
    });
    const retrying = stack.retrying;
    const storage = new RelayStorage(retrying, stack.dir);
    storage.onDocumentStored = (documentId) => ref.adapter?.documentStored(documentId);
    storage.onRefused = (documentId) => logger.error({ documentId }, "refused to overwrite a document with an empty snapshot");
    let workersStarted = false;
    try {
      // The Repo's storage ID, read (or made) the way automerge-repo does, also names
      // this relay's peer ID, so that the ID stays the same across restarts.
      let storageId = await storage.load(["storage-adapter-id"]).then((b) => (b ? new TextDecoder().decode(b) : undefined));
      if (!storageId) {
        storageId = randomUUID();
        await storage.save(["storage-adapter-id"], new TextEncoder().encode(storageId));
      }
      const peerId = `relay-${storageId}` as PeerId;
      const tokens = new TokenStore(dataDir);
      const tokenRecords = await tokens.list();

      const relayPeers = new Map<string, string>();
      const dialers = options.peers.map(
        (url) => new PeerDialer({
            url,
            token: options.peerToken,
            logger,
            metrics,
            maxFrameBytes: options.limits.maxFrameBytes,
            touch,
            backoff: { initialMs: 250, maxMs: options.peerBackoffMaxMs ?? 30_000 },
          }),
      );
      const isDialerId = (id: string) => dialers.some((d) => d.remotePeerId === id || d.dialId === id);
      const repoRef: { repo?: Repo } = {};
      const adapter: RelayServerAdapter = new RelayServerAdapter({
        logger,
        metrics,
        limits: options.limits,
        isInMemory: (documentId) => repoRef.repo?.handles[documentId as DocumentId] !== undefined || workers.routeOf(documentId) !== undefined,
        hasDocument: (documentId) => storage.hasDocument(documentId),
        knownHeads: async (documentId, hashes) => {
          const owner = await workers.ownerOf(documentId);
          if (owner !== "main") return workers.call<string[]>(owner, { op: "knownHeads", documentId, hashes: [...hashes] });
          return repoRef.repo ? knownHeads(repoRef.repo, documentId, hashes) : [];
        },
        relayPeerConnected: () => relayPeers.size > 0,
        isPeerIdTaken: isDialerId,
        touch,
        store: async (documentId) => {
          const owner = workers.routeOf(documentId);
          // The worker's flush rejects while its disk refuses the save (worker.ts), and
          // the call rejects if the worker dies meanwhile: either way nothing is claimed.
          if (owner !== undefined && owner !== "main") {
            await workers.call(owner, { op: "flush", documentId });
          } else {
            // (Replies of a copy that died with its worker are held back by the adapter,
            // which checks the heads they claim against the copy written here: F14.)
            await repoRef.repo?.flush([documentId as DocumentId]);
            // RetryingStorage keeps a failed save in memory and resolves: not on disk (F13).
            if (retrying.hasPending(documentId)) throw new StorageNotDurableError(documentId);
          }
          // What a peer relay still needs is on disk too (F15).
          await ref.peerSync?.durable();
        },
      });
      ref.adapter = adapter;
      const isRelayPeer = (id: string): boolean => adapter.isRelayPeer(id) || dialers.some((d) => d.remotePeerId === id);
      const workers: DocumentWorkers = new DocumentWorkers({
        count: options.workers,
        thresholdBytes: options.workerThresholdBytes,
        sizeOnDisk: (documentId) => storage.sizeOnDisk(documentId),
        // start.mjs registers tsx's loader in the thread, then imports the TypeScript worker.
        worker: new URL("./workers/start.mjs", import.meta.url),
        workerData: {
          documentsDir: stack.dir,
          peerId,
          saveDebounceMs: options.saveDebounceMs,
          syncDebounceMs: options.syncDebounceMs,
        } satisfies Omit<RelayWorkerInit, "index">,
        logger,
        inMain: (documentId) => repoRef.repo?.handles[documentId as DocumentId] !== undefined,
        isRelayPeer,
        onEvent: (event) => {
          const e = event as WorkerEvent;
          if (e.t === "stored") adapter.documentStored(e.documentId);
          else ref.peerSync?.documentChanged(e.documentId);
        },
        onRouted: () => metrics.inc("relay_worker_documents_routed_total"),
        onRestart: (_worker, documents) => {
          metrics.inc("relay_worker_restarts_total");
          // Peers syncing those documents believe the relay has what the dead worker held
          // in memory; their sync would wait forever for replies that never come. They
          // reconnect at once and sync from what is on disk (F14).
          adapter.restartSync(documents);
        },
        onResync: () => metrics.inc("relay_sync_resyncs_total"),
      });
      metrics.onCollect(() => {
        workers.documentsPerWorker().forEach((documents, worker) => metrics.set("relay_worker_documents_in_memory", documents, { worker: String(worker) }));
      });
      ref.workers = workers;
      workersStarted = true;
      await workers.start();

      const repo = new Repo({
        storage,
        network: [adapter, ...dialers].map((a) => workers.wrap(a)),
        peerId,
        // Announce (push every document) only to relay peers; clients ask for what they want.
        shareConfig: { announce: async (id) => isRelayPeer(id), access: async () => true },
        saveDebounceRate: options.saveDebounceMs,
        // Keystrokes pass through at once as broadcasts (src/shared/sync/changeBroadcast.ts);
        // sync, the backstop, gathers --sync-debounce-ms (50 ms) of changes per round.
        syncDebounceRate: options.syncDebounceMs,
        resyncAfterMs: RESYNC_AFTER_MS,
      });
      repoRef.repo = repo;
      // A stalled sync the relay restarted by itself (src/shared/sync/resync.ts): it should
      // be rare; a self-hoster who sees many has a network or a client losing messages.
      onResync(repo, (e) => {
        metrics.inc("relay_sync_resyncs_total");
        logger.warn(e, "sync with a peer stalled; sent everything again");
      });

      const peerSync = new PeerSync({
        storage,
        file: path.join(dataDir, "peers.json"),
        logger,
        metrics,
        confirm: async (documentId, storageId, connected) => {
          touch(documentId);
          const owner = await workers.ownerOf(documentId);
          if (owner === "main") return confirmPeerHas(repo, documentId, storageId, connected, touch);
          // The worker waits on its own view of the peer's connection; touched here
          // before and after, so the document is not evicted under the wait.
          const confirmed = await workers.call<boolean>(owner, { op: "confirm", documentId, storageId });
          touch(documentId);
          return confirmed;
        },
      });
      ref.peerSync = peerSync;
      await peerSync.open();
      repo.networkSubsystem.on("peer", ({ peerId: id, peerMetadata }) => {
        const remoteStorage = peerMetadata?.storageId;
        if (!isRelayPeer(id) || !remoteStorage) return;
        relayPeers.set(id, remoteStorage);
        peerSync.peerConnected(remoteStorage);
      });
      repo.networkSubsystem.on("peer-disconnected", ({ peerId: id }) => {
        const remoteStorage = relayPeers.get(id);
        if (remoteStorage === undefined) return;
        relayPeers.delete(id);
        if (![...relayPeers.values()].includes(remoteStorage)) peerSync.peerDisconnected(remoteStorage);
      });

      await adapter.attached;
      const relay = new Relay({ options, repo, metrics, adapter, dialers, stack, storage, peerSync, workers, tokens, tokenRecords, activity });
      await relay.#listen();
      return relay;
    } catch (error) {
      if (workersStarted) await ref.workers?.close();
      await stack.close();
      throw error;
    }
  }

  /** Saves waiting for the disk: the main thread's, and the workers' (as of their last report, at most 1 s old). */
  #pendingSaves(): number {
    return this.#retrying.pendingCount + this.#workers.pendingSaves;
  }

  #storageFailing = false;

  #watchStorage(): void {
    const pending = this.#pendingSaves();
    this.metrics.set("relay_pending_saves", pending);
    const failing = pending > 0;
    this.metrics.set("relay_storage_failing", failing ? 1 : 0);
    if (failing === this.#storageFailing) return;
    this.#storageFailing = failing;
    if (failing) this.logger.error({ pendingSaves: pending }, "the disk refuses saves: writers are told their changes are kept on their side, nothing new is confirmed");
    else this.logger.info("every held save is on disk: writers' changes are confirmed again");
    this.#adapter.setNotice(failing ? STORAGE_NOTICE : null);
  }

  /** Crashes document worker `index` (fault tests: RELAY_FAULT_INJECTION, cli.ts). */
  crashWorker(index: number): void {
    this.logger.warn({ worker: index }, "fault injection: crashing a document worker");
    this.#workers.crash(index);
  }

  /** The port listened on. */
  get port(): number {
    return this.#port;
  }

  /** `ws://host:port` */
  get url(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `ws://${host}:${this.#port}`;
  }

  async #listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#options.port, this.host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const address = this.#server.address();
    this.#port = typeof address === "object" && address ? address.port : this.#options.port;
    this.#tokenStamp = await this.#stampTokens();
    const poll = setInterval(() => void this.#pollTokens(), this.#options.tokenPollMs ?? 1000);
    const evictEvery = Math.max(200, Math.min(30_000, Math.floor(this.#options.idleEvictMs / 2)));
    const evict = setInterval(() => void this.#evictIdle(), evictEvery);
    // While the disk refuses saves, writers are told so (instead of a green "on the
    // relay" that would never come) and /metrics says it; once every save is on disk,
    // the notice is withdrawn.
    const watchStorage = setInterval(() => this.#watchStorage(), STORAGE_WATCH_MS);
    const sweepPending = setInterval(() => this.#sweepPending(), 1000);
    poll.unref?.();
    evict.unref?.();
    watchStorage.unref?.();
    sweepPending.unref?.();
    this.#timers.push(poll, evict, watchStorage, sweepPending);
    if (this.#options.allowAnonymous) {
      this.logger.warn("ANONYMOUS ACCESS IS ON (--allow-anonymous): anyone who can reach this port can read and change every document. For local development only.");
    }
  }

  /**
   * A new TCP connection: counted as pending until its request or upgrade is read. Past
   * the cap, the oldest pending one goes (a writer's upgrade takes milliseconds; sockets
   * held open without a request are the ones that wait), so that no one can hold every
   * socket the process has with half-sent requests (S11).
   */
  #onConnection(socket: Duplex): void {
    this.#pending.set(socket, Date.now());
    socket.once("close", () => this.#pending.delete(socket));
    while (this.#pending.size > this.#options.maxPendingUpgrades) {
      const oldest = this.#pending.keys().next().value!;
      this.#pending.delete(oldest);
      this.metrics.inc("relay_rejected_connections_total", { reason: "too-many-pending" });
      oldest.destroy();
    }
  }

  /** Drops sockets that have not finished a request in requestTimeoutMs, even those that never sent a byte. */
  #sweepPending(): void {
    const cutoff = Date.now() - this.#options.requestTimeoutMs;
    for (const [socket, since] of this.#pending) {
      if (since > cutoff) break;
      this.#pending.delete(socket);
      this.metrics.inc("relay_rejected_connections_total", { reason: "request-timeout" });
      socket.destroy();
    }
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Content-Type-Options", "nosniff");
    const pathname = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "application/json" }).end(JSON.stringify({ error: "method not allowed" }));
      return;
    }
    if (pathname === "/healthz") {
      const pendingSaves = this.#pendingSaves();
      const reason = this.#closing ? "the relay is shutting down" : pendingSaves > 0 ? `cannot save to its disk: ${pendingSaves} ${pendingSaves === 1 ? "save is" : "saves are"} held in memory and retried` : null;
      res.writeHead(reason ? 503 : 200, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: reason === null, ...(reason ? { reason } : {}), pendingSaves }));
      return;
    }
    if (pathname === "/metrics") {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(this.metrics.render());
      return;
    }
    res.writeHead(pathname === "/" ? 426 : 404, { "Content-Type": "application/json" }).end(
      JSON.stringify({ error: pathname === "/" ? "this is a Writer relay: connect with a WebSocket" : "not found" }),
    );
  }

  #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, retried = false): void {
    socket.on("error", () => undefined);
    const refuse = (status: number, text: string, reason: string) => {
      this.metrics.inc("relay_rejected_connections_total", { reason });
      const extra = status === 401 ? 'WWW-Authenticate: Bearer realm="writer-relay"\r\n' : "";
      socket.end(`HTTP/1.1 ${status} ${text}\r\nCache-Control: no-store\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (this.#closing) return refuse(503, "Service Unavailable", "shutting-down");
    if (this.#adapter.connectionCount >= this.#options.maxConnections) return refuse(503, "Service Unavailable", "capacity");
    const token = bearerToken(req);
    let credential: Credential;
    if (token === undefined) {
      if (!this.#options.allowAnonymous) return refuse(401, "Unauthorized", "missing-token");
      credential = { name: "anonymous", hash: "", access: "full" };
    } else {
      const record = findToken(this.#tokenRecords, token);
      if (!record && !retried) {
        // A token added a moment ago by `token add` works at once, not after the next poll.
        void this.#pollTokens().then(() => {
          if (!socket.destroyed) this.#onUpgrade(req, socket, head, true);
        });
        return;
      }
      if (!record) {
        this.logger.info({ remoteAddress: req.socket.remoteAddress }, "upgrade refused: unknown or revoked token");
        return refuse(401, "Unauthorized", "bad-token");
      }
      credential = { name: record.name, hash: record.hash, access: record.access };
    }
    // One token cannot take every slot: the others' writers still get in (S11).
    if (this.#adapter.connectionsOf(credential.hash) >= this.#options.limits.maxConnectionsPerToken) {
      this.logger.warn({ token: credential.name, limit: this.#options.limits.maxConnectionsPerToken }, "upgrade refused: the token holds as many connections as it may");
      return refuse(429, "Too Many Requests", "token-connections");
    }
    this.#adapter.handleUpgrade(req, socket, head, credential);
  }

  async #stampTokens(): Promise<string> {
    try {
      const stat = await fs.stat(this.#tokens.file);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return "missing";
    }
  }

  /** Rereads the token file when it changed, and closes connections whose token went. */
  async #pollTokens(): Promise<void> {
    const stamp = await this.#stampTokens();
    if (stamp === this.#tokenStamp) return;
    let records: TokenRecord[];
    try {
      records = await this.#tokens.list();
    } catch (error) {
      this.logger.error({ err: error }, "could not read the token file; keeping the previous tokens");
      return;
    }
    this.#tokenStamp = stamp;
    this.#tokenRecords = records;
    const closed = this.#adapter.closeWhere(
      (c) => (c.hash === "" ? this.#options.allowAnonymous : records.some((r) => r.access === c.access && hashesEqual(r.hash, c.hash))),
      4001,
      "token revoked",
    );
    this.logger.info({ tokens: records.length, closed }, "token file reloaded");
  }

  /**
   * Drops documents nobody has synced for `idleEvictMs` from memory, after writing them
   * out (repoDocuments.ts `evictDocument`), here and in the document workers.
   */
  async #evictIdle(): Promise<void> {
    if (this.#evicting || this.#closing) return;
    this.#evicting = true;
    try {
      const now = Date.now();
      const idle = this.#options.idleEvictMs;
      const handles = this.repo.handles;
      for (const [documentId, last] of this.#activity) {
        if (!(documentId in handles) && this.#workers.routeOf(documentId) === undefined && now - last > idle) this.#activity.delete(documentId);
      }
      for (const [documentId] of Object.entries(handles)) {
        if (this.#closing) return;
        const last = this.#activity.get(documentId);
        if (last === undefined) {
          this.#activity.set(documentId, now);
          continue;
        }
        if (now - last < idle || this.#retrying.hasPending(documentId)) continue;
        try {
          if (!(await evictDocument(this.repo, documentId, () => this.#activity.get(documentId) === last))) continue;
          this.#workers.forget(documentId);
          this.#activity.delete(documentId);
          this.metrics.inc("relay_documents_evicted_total");
        } catch (error) {
          this.logger.warn({ err: error, documentId }, "could not evict document");
        }
      }
      for (const documentId of [...this.#workers.stale()]) this.#workers.forget(documentId);
      const isIdle = (documentId: string) => {
        const last = this.#activity.get(documentId);
        if (last === undefined) this.#activity.set(documentId, now);
        return last !== undefined && Date.now() - last >= idle;
      };
      for (const documentId of await this.#workers.evictIdle(isIdle)) {
        this.#activity.delete(documentId);
        this.metrics.inc("relay_documents_evicted_total");
      }
    } finally {
      this.#evicting = false;
    }
  }

  /**
   * Stops accepting, closes every connection, writes everything to disk and releases
   * the data directory. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const dialer of this.#dialers) dialer.disconnect();
      this.#adapter.disconnect();
      this.#server.closeAllConnections();
      // The adapters are disconnected above; flush() writes every ready document
      // (patches/: it skips the ones that never became ready instead of throwing).
      await this.repo.flush();
      const unsavedInWorkers = await this.#workers.close();
      await this.#storage.settle(this.#options.saveDebounceMs + 20);
      await this.#peerSync.close().catch((error: unknown) => this.logger.error({ err: error }, "could not write peers.json"));
      const unsaved = [...(await this.#stack.close()), ...unsavedInWorkers];
      if (unsaved.length > 0) this.logger.error({ unsaved }, "closing with changes that could not be written to disk");
      await stopped;
      this.logger.info("relay closed; everything flushed");
    })();
    return this.#closing;
  }
}

/** The token of an upgrade request: `Authorization: Bearer`, else `?token=`. */
function bearerToken(req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : "";
  }
  try {
    const token = new URL(req.url ?? "/", "http://relay").searchParams.get("token");
    return token ?? undefined;
  } catch {
    return "";
  }
}

