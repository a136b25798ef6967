import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import path from "node:path";
import type { Duplex } from "node:stream";
import type { PeerId, Repo } from "@automerge/automerge-repo/slim";
import type { Logger } from "pino";
import { makeDirectory } from "../src/node/atomicFile";
import { CloseCode } from "../src/node/protocol";
import { StorageStack, type StorageBackend } from "../src/node/storage";
import { ClusterFanout } from "./cluster/ClusterFanout";
import { NatsBus } from "./cluster/NatsBus";
import { Metrics } from "./metrics";
import { PeerDialer } from "./PeerDialer";
import { PeerSync } from "./PeerSync";
import { RelayDocuments } from "./RelayDocuments";
import { RelayServerAdapter, type ConnectionLimits } from "./RelayServerAdapter";
import { RelayStorage } from "./RelayStorage";
import { PostgresTokenStore } from "./PostgresTokens";
import { TokenStore, TokenWatch } from "./tokens";
import { UpgradeGate } from "./UpgradeGate";

/** How often the relay looks at whether its disk takes saves (for writers, /healthz and /metrics). */
const STORAGE_WATCH_MS = 500;
/** What `/invite` shows: an invite link opened in a browser rather than pasted into Writer. */
const INVITE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>An invitation to a Writer relay</title>
<style>body{font:17px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#222}h1{font-size:1.4em}ol{padding-left:1.2em}</style></head>
<body><h1>You are invited to a Writer relay</h1>
<p>This link is an invitation to a Writer relay: it lets Writer sync your documents through this relay. It is meant for the app, not for the browser:</p>
<ol><li>Open Writer.</li><li>Open <b>Settings</b> (bottom of the library), then, under <b>Relays</b>, <b>Add a relay</b>.</li><li>Paste this whole link, from your browser's address bar (the part after # too), into the address field, and add the relay.</li></ol>
<p>The link holds your access token: keep it to yourself, and ask whoever sent it for a new one if it leaks.</p>
</body></html>
`;
/** How often the relay writes when each token was last accepted (`token list`). */
const TOKEN_USE_FLUSH_MS = 60_000;
/**
 * How long a relay on PostgreSQL waits for one read of the tokens (they are read every
 * second): past it the read fails, is logged, and the next one starts on a fresh
 * connection, so that a revocation waits on a stuck connection for seconds at most.
 */
const TOKEN_READ_TIMEOUT_MS = 3000;
/** How often a relay on a database checks that it answers. */
const DATABASE_PING_MS = 2000;
/** What writers are told while the relay's disk refuses saves (shown after the relay's name). */
const STORAGE_NOTICE = "cannot save right now; your changes are kept here";

/** Where and how `/metrics` is served (RelayOptions.metrics). */
export interface MetricsOptions {
  /**
   * Serve `/metrics` on a listener of its own, on this port (0: any free one,
   * `relay.metricsUrl` tells which), and no longer on the relay's port: a private
   * address the proxy in front of the relay does not reach.
   */
  port?: number;
  /** Its address, with `port` only (default 127.0.0.1: this machine only). */
  host?: string;
  /** `/metrics` answers only requests with `Authorization: Bearer <token>`, wherever it is served. */
  token?: string;
}

export interface RelayOptions {
  /** Tokens, peers.json and (unless `storage` says otherwise) the documents. */
  dataDir: string;
  /** Where documents are kept: `DATA_DIR/documents` by default, or a PostgreSQL table a cluster shares. */
  storage?: StorageBackend;
  /**
   * A relay cluster's bus, `nats://host:4222` (with `storage` on PostgreSQL): changes and
   * ephemeral messages reach the writers of every relay of the cluster.
   */
  nats?: string;
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
  /** Behind a reverse proxy: client addresses (logs, limits) from X-Forwarded-For. */
  trustProxy?: boolean;
  logger: Logger;
  /** ms a local change may wait before it is sent to a peer (automerge-repo's throttle). */
  syncDebounceMs: number;
  /** ms a change may wait before it is written to disk. */
  saveDebounceMs: number;
  /** A document with no traffic for this long leaves memory (it stays on disk). */
  idleEvictMs: number;
  /** Past this many documents in memory, the least recently used leave before they are idle. */
  maxDocumentsInMemory: number;
  maxConnections: number;
  limits: ConnectionLimits;
  /** TCP connections that have not finished their HTTP request or upgrade; beyond it the oldest is dropped. */
  maxPendingUpgrades: number;
  /** Time a connection has to finish its HTTP request or upgrade. */
  requestTimeoutMs: number;
  /** How often the token file is checked for revocations. */
  tokenPollMs?: number;
  /** Worker threads for long documents (0: every document on the main thread). */
  workers: number;
  /** A document of at least this many bytes on disk is loaded in a worker (DocumentWorkers). */
  workerThresholdBytes: number;
  /** `/metrics` on an address of its own, or behind a token (default: on the relay's port, open). */
  metrics?: MetricsOptions;
}

/** The documents directory inside the data directory. */
const DOCUMENTS_DIR = "documents";

/** The parts a running relay owns, each with one job. */
interface RelayParts {
  repo: Repo;
  metrics: Metrics;
  stack: StorageStack;
  storage: RelayStorage;
  documents: RelayDocuments;
  adapter: RelayServerAdapter;
  dialers: PeerDialer[];
  peerSync: PeerSync;
  gate: UpgradeGate;
  cluster: ClusterFanout | undefined;
  tokens: TokenWatch;
}

/**
 * The relay: a Repo on crash-safe storage, behind an HTTP server that authenticates
 * WebSocket upgrades, serves `/healthz` and `/metrics`, and replicates with other relays.
 * `open` wires the parts; each job is a part of its own:
 *
 * - UpgradeGate: connections until they are in, tokens and connection limits;
 * - RelayServerAdapter: the writers' connections, what they may send and are told;
 * - RelayDocuments: every document, in whichever thread holds it, and eviction;
 * - PeerDialer and PeerSync: replication with other relays, durable before confirmed;
 * - Metrics: what /metrics shows.
 */
export class Relay {
  readonly repo: Repo;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly dataDir: string;
  readonly host: string;
  #port = 0;
  readonly #options: RelayOptions;
  readonly #parts: RelayParts;
  readonly #server: http.Server;
  /** The listener of `/metrics` alone, when it has its own port (MetricsOptions.port). */
  readonly #metricsServer: http.Server | undefined;
  /** SHA-256 of the metrics token, compared in constant time with the request's. */
  readonly #metricsTokenHash: Buffer | undefined;
  #metricsUrl: string | undefined;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #storageFailing = false;
  /** A database back end: whether it answered the last ping (a relay cluster's health). */
  #databaseReachable = true;
  #closing: Promise<void> | undefined;

  private constructor(options: RelayOptions, parts: RelayParts) {
    this.#options = options;
    this.#parts = parts;
    this.logger = options.logger;
    this.dataDir = path.resolve(options.dataDir);
    this.host = options.host;
    this.repo = parts.repo;
    this.metrics = parts.metrics;
    const { gate, adapter, documents } = parts;
    // Node's own request timeouts, checked every second (not every 30 s), for slow
    // senders of headers; the gate's sweep also drops sockets that never send a byte.
    this.#server = http.createServer(
      { headersTimeout: options.requestTimeoutMs, requestTimeout: options.requestTimeoutMs, connectionsCheckingInterval: 1000 },
      (req, res) => {
        gate.requested(req.socket);
        this.#onRequest(req, res);
      },
    );
    this.#server.on("connection", (socket: Duplex) => gate.connection(socket));
    this.#server.on("upgrade", (req, socket, head) => gate.upgrade(req, socket, head));
    const { port: metricsPort, token: metricsToken } = options.metrics ?? {};
    this.#metricsTokenHash = metricsToken === undefined ? undefined : sha256(metricsToken);
    // Nothing but /metrics there, nobody to let in through the gate: only Node's timeouts.
    this.#metricsServer =
      metricsPort === undefined
        ? undefined
        : http.createServer({ headersTimeout: options.requestTimeoutMs, requestTimeout: options.requestTimeoutMs, connectionsCheckingInterval: 1000 }, (req, res) =>
            this.#onMetricsRequest(req, res),
          );
    this.metrics.onCollect(() => {
      this.metrics.set("relay_connections", adapter.connectionCount);
      this.metrics.set("relay_pending_upgrades", gate.pendingCount);
      for (const [kind, bytes] of Object.entries(adapter.heldBytes())) this.metrics.set("relay_held_bytes", bytes, { kind });
      this.metrics.set("relay_documents_in_memory", documents.inMemory);
    });
  }

  /**
   * Opens the data directory (taking its lock), starts the Repo, and listens. Resolves
   * once a connection can sync: storage open, network adapter attached, socket bound.
   */
  static async open(options: RelayOptions): Promise<Relay> {
    const logger = options.logger;
    const dataDir = path.resolve(options.dataDir);
    if (options.metrics?.host !== undefined && options.metrics.port === undefined) throw new TypeError("metrics.host needs metrics.port: /metrics moves to a listener of its own only with a port");
    if (options.metrics?.token === "") throw new TypeError("metrics.token is empty");
    await makeDirectory(dataDir, 0o700).catch((error: unknown) => {
      throw new DataDirectoryError(dataDir, error);
    });
    const metrics = new Metrics();
    // Storage reports and the workers' come from the start; the parts they reach exist a
    // little later, once everything is wired.
    const links: { adapter?: RelayServerAdapter; peerSync?: PeerSync; cluster?: ClusterFanout; reachable?: () => boolean; tokens?: TokenWatch } = {};
    if (options.nats && options.storage?.kind !== "postgres") throw new TypeError("a relay cluster (nats) needs shared storage (storage on PostgreSQL)");

    let failing = false;
    const backend: StorageBackend = options.storage ?? { kind: "files", dir: path.join(dataDir, DOCUMENTS_DIR) };
    const stack = await StorageStack.open({
      backend,
      onCorrupt: (c) => {
        // One that could not be moved stays in place and is met (and reported) again on the next load: not counted.
        if (c.quarantinedTo !== c.path) metrics.inc("relay_quarantined_chunks_total");
        logger.error({ documentId: c.documentId, path: c.path, quarantinedTo: c.quarantinedTo, reason: c.reason }, "corrupt chunk quarantined");
      },
      onSaveFailed: ({ key, error, attempt, op }) => {
        failing = true;
        if (op === "save") metrics.inc("relay_failed_saves_total");
        logger.error({ key, err: error, attempt }, "save failed; keeping the change in memory and retrying");
      },
      onRecovered: () => {
        if (!failing) return;
        failing = false;
        logger.info("saving works again; every pending change is on disk");
      },
      onSaved: (key, seconds) => {
        if (key[1] !== "snapshot" && key[1] !== "incremental") return;
        metrics.observe("relay_save_seconds", seconds);
        links.peerSync?.documentChanged(key[0]!);
        if (links.cluster) {
          const heads = documents?.headsInMain(key[0]!);
          if (heads) links.cluster.stored(key[0]!, heads);
        }
      },
    });
    const storage = new RelayStorage(stack.retrying, stack.backend);
    storage.onDocumentStored = (documentId) => links.adapter?.documentStored(documentId);
    storage.onRefused = (documentId) => logger.error({ documentId }, "refused to overwrite a document with an empty snapshot");
    let documents: RelayDocuments | undefined;
    try {
      // The Repo's storage ID, read (or made) the way automerge-repo does, also names
      // this relay's peer ID, so that the ID stays the same across restarts. The relays
      // of a cluster share their storage, so they share it too: to a writer they are one
      // relay, and one that fails over to another resumes its sync where it was.
      let storageId = await storage.load(["storage-adapter-id"]).then((b) => (b ? new TextDecoder().decode(b) : undefined));
      if (!storageId) {
        storageId = randomUUID();
        await storage.save(["storage-adapter-id"], new TextEncoder().encode(storageId));
      }
      const peerId = `relay-${storageId}` as PeerId;
      // On PostgreSQL the tokens are the database's, the same for every relay of a cluster.
      const tokens = new TokenWatch(options.storage?.kind === "postgres" ? await PostgresTokenStore.open(options.storage.url, { timeoutMs: TOKEN_READ_TIMEOUT_MS }) : new TokenStore(dataDir));
      links.tokens = tokens;
      await tokens.open();

      const dialers = options.peers.map(
        (url) =>
          new PeerDialer({
            url,
            token: options.peerToken,
            logger,
            metrics,
            maxFrameBytes: options.limits.maxFrameBytes,
            touch: (documentId) => documents?.touch(documentId),
            backoff: { initialMs: 250, maxMs: options.peerBackoffMaxMs ?? 30_000 },
          }),
      );
      const isRelayPeer = (id: string): boolean => links.adapter?.isRelayPeer(id) === true || dialers.some((d) => d.remotePeerId === id);
      documents = new RelayDocuments({
        stack,
        backend,
        storage,
        peerId,
        workers: options.workers,
        workerThresholdBytes: options.workerThresholdBytes,
        saveDebounceMs: options.saveDebounceMs,
        syncDebounceMs: options.syncDebounceMs,
        idleEvictMs: options.idleEvictMs,
        maxDocumentsInMemory: options.maxDocumentsInMemory,
        logger,
        metrics,
        isRelayPeer,
        onStored: (documentId) => links.adapter?.documentStored(documentId),
        onChanged: (documentId) => links.peerSync?.documentChanged(documentId),
        // Peers of a dead worker's documents reconnect at once and sync from what is on disk.
        onRestart: (held) => links.adapter?.restartSync(held),
        // What a peer relay still needs is on disk too, before a writer hears "on the relay".
        durable: async () => links.peerSync?.durable(),
        onStoredHeads: options.nats ? (documentId, heads) => links.cluster?.stored(documentId, heads) : undefined,
      });
      const docs = documents;
      const relayPeers = new Map<string, string>();
      const adapter = new RelayServerAdapter({
        logger,
        metrics,
        limits: options.limits,
        isInMemory: (documentId) => docs.isInMemory(documentId),
        hasDocument: (documentId) => storage.hasDocument(documentId),
        knownHeads: (documentId, hashes) => docs.knownHeads(documentId, hashes),
        relayPeerConnected: () => relayPeers.size > 0,
        isPeerIdTaken: (id) => dialers.some((d) => d.remotePeerId === id || d.dialId === id),
        touch: docs.touch,
        store: (documentId) => docs.store(documentId),
        publishEphemeral: options.nats ? (message) => links.cluster?.ephemeral(message) : undefined,
        publishChanges: options.nats ? (documentId, changes) => links.cluster?.accepted(documentId, changes) : undefined,
      });
      links.adapter = adapter;
      const repo = await documents.open([adapter, ...dialers]);

      let cluster: ClusterFanout | undefined;
      if (options.nats) {
        cluster = new ClusterFanout({
          documents,
          storage,
          adapter,
          logger,
          metrics,
          onStatus: (connected) => {
            if (connected) return;
            // Writers here would stop hearing the other relays' writers: they go, and
            // reconnect (through the load balancer) to a relay that hears everyone.
            // New connections are refused until the bus is back (UpgradeGate).
            const closed = adapter.closeWhere((c) => c.access === "relay", CloseCode.ClusterUnavailable, "relay lost its cluster; reconnect");
            logger.warn({ closed }, "closed writers' connections while the cluster bus is lost");
          },
        });
        const bus = await NatsBus.open({ servers: options.nats, name: `writer-relay ${peerId} pid ${process.pid}`, logger, handlers: cluster.handlers }).catch((error: unknown) => {
          throw new ClusterUnavailableError(options.nats!, error);
        });
        cluster.attach(bus);
        links.cluster = cluster;
      }

      const peerSync = new PeerSync({
        storage,
        file: path.join(dataDir, "peers.json"),
        logger,
        metrics,
        confirm: (documentId, storageId, connected) => docs.confirm(documentId, storageId, connected),
      });
      links.peerSync = peerSync;
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
      const gate = new UpgradeGate({
        adapter,
        tokens,
        allowAnonymous: options.allowAnonymous,
        maxConnections: options.maxConnections,
        limits: options.limits,
        maxPendingUpgrades: options.maxPendingUpgrades,
        requestTimeoutMs: options.requestTimeoutMs,
        trustProxy: options.trustProxy ?? false,
        unavailable: () => (cluster && !cluster.connected ? "cluster-unavailable" : !links.reachable?.() ? "storage-unavailable" : undefined),
        logger,
        metrics,
      });
      const relay = new Relay(options, { repo, metrics, stack, storage, documents, adapter, dialers, peerSync, gate, cluster, tokens });
      links.reachable = () => relay.#databaseReachable;
      await relay.#listen();
      return relay;
    } catch (error) {
      await links.tokens?.close().catch(() => undefined);
      await links.cluster?.close();
      await documents?.workers.close();
      await stack.close();
      throw error;
    }
  }

  #watchStorage(): void {
    const pending = this.#parts.documents.pendingSaves;
    this.metrics.set("relay_pending_saves", pending);
    const failing = pending > 0;
    this.metrics.set("relay_storage_failing", failing ? 1 : 0);
    if (failing === this.#storageFailing) return;
    this.#storageFailing = failing;
    if (failing) this.logger.error({ pendingSaves: pending }, "the disk refuses saves: writers are told their changes are kept on their side, nothing new is confirmed");
    else this.logger.info("every held save is on disk: writers' changes are confirmed again");
    this.#parts.adapter.setNotice(failing ? STORAGE_NOTICE : null);
  }

  async #pingDatabase(): Promise<void> {
    let reachable: boolean;
    try {
      await this.#parts.stack.backend.ping!();
      reachable = true;
    } catch {
      reachable = false;
    }
    if (reachable === this.#databaseReachable) return;
    this.#databaseReachable = reachable;
    if (reachable) this.logger.info("the database answers again");
    else this.logger.error("cannot reach the database: new writers are refused, nothing new is confirmed until it is back");
  }

  /** Crashes document worker `index` (fault tests: RELAY_FAULT_INJECTION, cli.ts). */
  crashWorker(index: number): void {
    this.logger.warn({ worker: index }, "fault injection: crashing a document worker");
    this.#parts.documents.workers.crash(index);
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

  /** `http://host:port/metrics` when `/metrics` has a listener of its own (MetricsOptions.port), else undefined. */
  get metricsUrl(): string | undefined {
    return this.#metricsUrl;
  }

  async #listen(): Promise<void> {
    this.#port = await listen(this.#server, this.#options.port, this.host);
    if (this.#metricsServer) {
      const host = this.#options.metrics?.host ?? "127.0.0.1";
      try {
        const port = await listen(this.#metricsServer, this.#options.metrics?.port ?? 0, host);
        this.#metricsUrl = `http://${host.includes(":") ? `[${host}]` : host}:${port}/metrics`;
      } catch (error) {
        // Its port taken: the relay does not start half-way, its own port bound and nothing serving it.
        await new Promise((resolve) => this.#server.close(resolve));
        throw error;
      }
    }
    const { gate, documents } = this.#parts;
    const every = (ms: number, task: () => void) => {
      const timer = setInterval(task, ms);
      timer.unref?.();
      this.#timers.push(timer);
    };
    every(this.#options.tokenPollMs ?? 1000, () => void gate.pollTokens());
    every(Math.max(200, Math.min(30_000, Math.floor(this.#options.idleEvictMs / 2))), () => void documents.evictIdle());
    every(1000, () => void documents.evictOverBudget());
    // While the disk refuses saves, writers are told so (instead of a green "on the
    // relay" that would never come) and /metrics says it; once every save is on disk,
    // the notice is withdrawn.
    every(STORAGE_WATCH_MS, () => this.#watchStorage());
    every(1000, () => gate.sweep());
    every(TOKEN_USE_FLUSH_MS, () => void this.#parts.tokens.flushUse().catch((error: unknown) => this.logger.warn({ err: error }, "could not record when tokens were last used")));
    // A database can be lost while nothing is being saved: asked every 2 s, so that
    // /healthz and new writers learn it before a writer's change fails to save.
    if (this.#parts.stack.backend.ping) every(DATABASE_PING_MS, () => void this.#pingDatabase());
    if (this.#options.allowAnonymous) {
      this.logger.warn("ANONYMOUS ACCESS IS ON (--allow-anonymous): anyone who can reach this port can read and change every document. For local development only.");
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
    if (pathname === "/invite") {
      // The page an invite link (`relay token invite`) opens in a browser. The token is in
      // the link's fragment, which browsers never send: it reaches neither this relay nor
      // a proxy's log. The page only says what to do with the link.
      res
        .writeHead(200, {
          "Content-Type": "text/html; charset=utf-8",
          "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
          "Referrer-Policy": "no-referrer",
          "X-Content-Type-Options": "nosniff",
        })
        .end(INVITE_PAGE);
      return;
    }
    if (pathname === "/healthz") {
      const pendingSaves = this.#parts.documents.pendingSaves;
      const { cluster } = this.#parts;
      const reason = this.#closing
        ? "the relay is shutting down"
        : !this.#databaseReachable
          ? "cannot reach its database (PostgreSQL): refusing writers until it is back"
          : pendingSaves > 0
          ? `cannot save to its ${this.#options.storage?.kind === "postgres" ? "database" : "disk"}: ${pendingSaves} ${pendingSaves === 1 ? "save is" : "saves are"} held in memory and retried`
          : cluster && !cluster.connected
            ? "lost the cluster bus (NATS): reconnecting, and refusing writers until then"
            : null;
      const parts = {
        storage: this.#options.storage?.kind ?? "files",
        ...(this.#parts.stack.backend.ping ? { database: this.#databaseReachable ? "reachable" : "unreachable" } : {}),
        ...(cluster ? { nats: cluster.connected ? "connected" : "disconnected" } : {}),
      };
      res.writeHead(reason ? 503 : 200, { "Content-Type": "application/json" }).end(JSON.stringify({ ok: reason === null, ...(reason ? { reason } : {}), pendingSaves, ...parts }));
      return;
    }
    // With a listener of its own, /metrics is not here at all (a 404, as for any other path).
    if (pathname === "/metrics" && !this.#metricsServer) {
      void this.#serveMetrics(req, res);
      return;
    }
    res.writeHead(pathname === "/" ? 426 : 404, { "Content-Type": "application/json" }).end(
      JSON.stringify({ error: pathname === "/" ? "this is a Writer relay: connect with a WebSocket" : "not found" }),
    );
  }

  /** The listener of `/metrics` alone (MetricsOptions.port): `/metrics`, and 404 for anything else. */
  #onMetricsRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Content-Type-Options", "nosniff");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "application/json" }).end(JSON.stringify({ error: "method not allowed" }));
      return;
    }
    if ((req.url ?? "/").split("?")[0] === "/metrics") void this.#serveMetrics(req, res);
    else res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "not found" }));
  }

  /** The Prometheus text, to a request that carries the metrics token if there is one (401 otherwise). */
  async #serveMetrics(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.#metricsTokenHash) {
      const given = /^Bearer[ ]+(\S+)[ ]*$/i.exec(req.headers.authorization ?? "")?.[1];
      // Hashes of both, so that the comparison takes as long whatever the length or the first wrong byte.
      if (given === undefined || !timingSafeEqual(sha256(given), this.#metricsTokenHash)) {
        res.writeHead(401, { "WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "application/json" }).end(JSON.stringify({ error: "a metrics token is required" }));
        return;
      }
    }
    try {
      const { text, contentType } = await this.metrics.render();
      res.writeHead(200, { "Content-Type": contentType }).end(text);
    } catch (error) {
      this.logger.error({ err: error }, "could not render /metrics");
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "metrics unavailable" }));
    }
  }

  /**
   * Stops accepting, closes every connection, writes everything to disk and releases
   * the data directory. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const { adapter, dialers, documents, peerSync, stack, gate, cluster } = this.#parts;
      gate.close();
      for (const timer of this.#timers) clearInterval(timer);
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const metricsStopped = new Promise<void>((resolve) => (this.#metricsServer?.listening ? this.#metricsServer.close(() => resolve()) : resolve()));
      for (const dialer of dialers) dialer.disconnect();
      adapter.disconnect();
      this.#server.closeAllConnections();
      this.#metricsServer?.closeAllConnections();
      const unsavedInWorkers = await documents.close();
      await peerSync.close().catch((error: unknown) => this.logger.error({ err: error }, "could not write peers.json"));
      await this.#parts.tokens.close().catch((error: unknown) => this.logger.error({ err: error }, "could not record when tokens were last used"));
      const unsaved = [...(await stack.close()), ...unsavedInWorkers];
      // After the last saves, which it tells the other relays about.
      await cluster?.close();
      if (unsaved.length > 0) this.logger.error({ unsaved }, "closing with changes that could not be written to disk");
      await stopped;
      await metricsStopped;
      this.logger.info("relay closed; everything flushed");
    })();
    return this.#closing;
  }
}

/** Binds `server`; resolves with the port it got (`port` 0: a free one). */
async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === "object" && address ? address.port : port;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Why a data directory cannot be made, in a self-hoster's words, by the error's code. */
const DATA_DIRECTORY_PROBLEMS: Record<string, string> = {
  ENOTDIR: "a part of its path is a file, not a directory",
  EEXIST: "it is a file, not a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the disk is read-only",
  ENOSPC: "the disk is full",
  ENOENT: "a part of its path cannot be created there",
};

/** The data directory cannot be made (a file in its path, no permission, a read-only disk): the relay does not start. */
export class DataDirectoryError extends Error {
  override readonly name = "DataDirectoryError";

  constructor(dir: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const problem = (code && DATA_DIRECTORY_PROBLEMS[code]) ?? (cause instanceof Error ? cause.message : String(cause));
    super(`Cannot use the data directory ${dir}: ${problem}${code ? ` (${code})` : ""}. Give --data (or RELAY_DATA_DIR) a directory the relay can create and write.`, { cause });
  }
}

/** The cluster bus cannot be reached when the relay starts: it does not start without it. */
export class ClusterUnavailableError extends Error {
  override readonly name = "ClusterUnavailableError";

  constructor(servers: string, cause: unknown) {
    super(`Cannot reach the cluster bus (NATS) at ${servers}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
