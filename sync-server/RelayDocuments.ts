import fs from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Repo, type DocumentId, type NetworkAdapter, type PeerId, type StorageKey } from "@automerge/automerge-repo/slim";
import type { Logger } from "pino";
import { StorageNotDurableError, type StorageBackend, type StorageStack } from "../src/node/storage";
import { DocumentWorkers } from "../src/node/workers/DocumentWorkers";
import { onResync, RESYNC_AFTER_MS } from "../src/shared/sync/resync";
import type { Metrics } from "./metrics";
import type { RelayStorage } from "./RelayStorage";
import { applyClusterChanges, catchUpDocument, storedHeads, catchUpFromStorage, confirmPeerHas, evictDocument, knownHeads } from "./repoDocuments";
import type { RelayWorkerContract } from "./workers/protocol";

export interface RelayDocumentsOptions {
  stack: StorageStack;
  /** What the stack was opened on, for the workers to open the same. */
  backend: StorageBackend;
  storage: RelayStorage;
  peerId: PeerId;
  /** Worker threads for long documents (0: every document on the main thread). */
  workers: number;
  /** A document of at least this many bytes on disk is loaded in a worker. */
  workerThresholdBytes: number;
  saveDebounceMs: number;
  syncDebounceMs: number;
  /** A document with no traffic for this long leaves memory (it stays on disk). */
  idleEvictMs: number;
  /**
   * Past this many documents in the main thread's memory, the least recently used ones
   * leave before they are idle (those quiet for at least a second), until it is back under.
   */
  maxDocumentsInMemory: number;
  logger: Logger;
  metrics: Metrics;
  /** Whether a peer is another relay (documents are pushed to it). */
  isRelayPeer(peerId: string): boolean;
  /** A document's first data reached a worker's disk. */
  onStored(documentId: string): void;
  /** A snapshot or incremental chunk of a document was saved by a worker. */
  onChanged(documentId: string): void;
  /** A worker died; its peers' sync state of `documents` is stale. */
  onRestart(documents: string[]): void;
  /** In a relay cluster: a worker stored a document, with these heads, for the other relays. */
  onStoredHeads?(documentId: string, heads: string[]): void;
  /** Resolves once what peer relays still need is on disk too (PeerSync.durable). */
  durable(): Promise<void>;
}

/** The relay's install lacks the document workers' program. */
export class WorkersMissingError extends Error {
  constructor(program: string) {
    super(`the document workers' program is missing (${program}): reinstall the relay, or run it with --workers 0`);
    this.name = "WorkersMissingError";
  }
}

/** The document worker's program: start.mjs registers tsx's loader in the thread, then imports the TypeScript worker. */
const WORKER_PROGRAM = new URL("./workers/start.mjs", import.meta.url);

/** A document used this recently stays in memory even over the budget (it is being worked on). */
const MIN_QUIET_MS = 1000;

/**
 * The relay's documents, wherever they are held, as the host's HostDocuments are: the
 * main thread's Repo for most, a document worker's (DocumentWorkers) for long ones.
 * Each operation runs in the thread that holds the document, and every document's last
 * traffic is kept (`touch`) so that idle ones leave memory.
 */
export class RelayDocuments {
  readonly workers: DocumentWorkers<RelayWorkerContract>;
  readonly #options: RelayDocumentsOptions;
  #repo: Repo | undefined;
  /** When each document last had traffic. */
  readonly #activity = new Map<string, number>();
  #evicting = false;
  #closing = false;

  constructor(options: RelayDocumentsOptions) {
    this.#options = options;
    const { metrics } = options;
    this.workers = new DocumentWorkers<RelayWorkerContract>({
      count: options.workers,
      thresholdBytes: options.workerThresholdBytes,
      sizeOnDisk: (documentId) => options.storage.sizeOnDisk(documentId),
      worker: WORKER_PROGRAM,
      workerData: { backend: options.backend, peerId: options.peerId, saveDebounceMs: options.saveDebounceMs, syncDebounceMs: options.syncDebounceMs, cluster: options.onStoredHeads !== undefined },
      logger: options.logger,
      inMain: (documentId) => this.#repo?.handles[documentId as DocumentId] !== undefined,
      isRelayPeer: options.isRelayPeer,
      onEvent: (e) => {
        if (e.t === "stored") options.onStored(e.documentId);
        else if (e.t === "changed") options.onChanged(e.documentId);
        else options.onStoredHeads?.(e.documentId, e.heads);
      },
      onRouted: () => metrics.inc("relay_worker_documents_routed_total"),
      onRestart: (_worker, documents) => {
        metrics.inc("relay_worker_restarts_total");
        // Peers syncing those documents believe the relay has what the dead worker held
        // in memory; their sync would wait forever for replies that never come.
        options.onRestart(documents);
      },
      onResync: () => metrics.inc("relay_sync_resyncs_total"),
      // The workers' saves, refused saves and quarantined chunks, as the main thread's own (Relay.ts).
      onStorageActivity: ({ saveSeconds, failedSaves, quarantined }) => {
        for (const seconds of saveSeconds) metrics.observe("relay_save_seconds", seconds);
        if (failedSaves > 0) metrics.inc("relay_failed_saves_total", {}, failedSaves);
        if (quarantined > 0) metrics.inc("relay_quarantined_chunks_total", {}, quarantined);
      },
    });
    metrics.onCollect(() => {
      this.workers.documentsPerWorker().forEach((documents, worker) => metrics.set("relay_worker_documents_in_memory", documents, { worker: String(worker) }));
    });
  }

  /**
   * Starts the main thread's Repo on `network` (each adapter wrapped so that long
   * documents reach their worker). The worker threads start when the first long document
   * needs one (DocumentWorkers.startInBackground): a relay whose documents are all short
   * never pays for them (a fifth of a second of processor time and some 30 MB each). So
   * that a broken install is still told at start, the workers' program must be there.
   */
  async open(network: NetworkAdapter[]): Promise<Repo> {
    const options = this.#options;
    if (options.workers > 0) {
      const program = fileURLToPath(WORKER_PROGRAM);
      await fs.access(program).catch(() => {
        throw new WorkersMissingError(program);
      });
    }
    const repo = new Repo({
      storage: options.storage,
      network: network.map((a) => this.workers.wrap(a)),
      peerId: options.peerId,
      // Announce (push every document) only to relay peers; clients ask for what they want.
      shareConfig: { announce: async (id) => options.isRelayPeer(id), access: async () => true },
      saveDebounceRate: options.saveDebounceMs,
      // Keystrokes pass through at once as broadcasts (src/shared/sync/changeBroadcast.ts);
      // sync, the backstop, gathers --sync-debounce-ms of changes per round.
      syncDebounceRate: options.syncDebounceMs,
      resyncAfterMs: RESYNC_AFTER_MS,
    });
    this.#repo = repo;
    // A stalled sync the relay restarted by itself (src/shared/sync/resync.ts): it should
    // be rare; a self-hoster who sees many has a network or a client losing messages.
    onResync(repo, (e) => {
      options.metrics.inc("relay_sync_resyncs_total");
      options.logger.warn(e, "sync with a peer stalled; sent everything again");
    });
    return repo;
  }

  /** The document had traffic now: it stays in memory for another idle period. */
  readonly touch = (documentId: string): void => void this.#activity.set(documentId, Date.now());

  /** Whether a thread holds the document (or its route is decided). */
  isInMemory(documentId: string): boolean {
    return this.#repo?.handles[documentId as DocumentId] !== undefined || this.workers.routeOf(documentId) !== undefined;
  }

  /** Documents held in memory, in every thread (the workers' as of their last report). */
  get inMemory(): number {
    return Object.keys(this.#repo?.handles ?? {}).length + this.workers.documentsInMemory;
  }

  /** Saves waiting for the disk: the main thread's, and the workers' (as of their last report, at most 1 s old). */
  get pendingSaves(): number {
    return this.#options.stack.retrying.pendingCount + this.workers.pendingSaves;
  }

  /** Which of `hashes` the relay's copy of the document has. */
  async knownHeads(documentId: string, hashes: readonly string[]): Promise<string[]> {
    const owner = await this.workers.ownerOf(documentId);
    if (owner !== "main") return this.workers.call(owner, "knownHeads", documentId, [...hashes]);
    return this.#repo ? knownHeads(this.#repo, documentId, hashes) : [];
  }

  /**
   * Writes the document to disk as it is now; rejects unless every change of it is
   * there, and what peer relays still need is there too. Only then may a writer be
   * told their changes are on the relay.
   */
  async store(documentId: string): Promise<void> {
    const owner = this.workers.routeOf(documentId);
    // The worker's flush rejects while its disk refuses the save, and the call rejects
    // if the worker dies meanwhile: either way nothing is claimed.
    if (owner !== undefined && owner !== "main") {
      await this.workers.call(owner, "flush", documentId);
    } else {
      // (Replies of a copy that died with its worker are held back by the adapter,
      // which checks the heads they claim against the copy written here.)
      await this.#repo?.flush([documentId as DocumentId]);
      // RetryingStorage keeps a failed save in memory and resolves: not on disk.
      if (this.#options.stack.retrying.hasPending(documentId)) throw new StorageNotDurableError(documentId);
    }
    await this.#options.durable();
  }

  /**
   * A relay cluster: applies changes another relay took in to the copy in memory, in the
   * thread that holds it. False if no thread holds the document (nothing to do: it is
   * read from storage when someone asks for it).
   */
  async applyChanges(documentId: string, changes: Uint8Array[]): Promise<boolean> {
    const owner = this.workers.routeOf(documentId);
    if (owner === undefined) return false;
    if (owner !== "main") return this.workers.call(owner, "applyChanges", documentId, changes);
    return this.#repo ? applyClusterChanges(this.#repo, documentId, changes) : false;
  }

  /** The heads of the main thread's copy of a document, if it holds one (a relay cluster's stored notices). */
  headsInMain(documentId: string): string[] | undefined {
    return storedHeads(this.#repo, documentId);
  }

  /**
   * A relay cluster: reads a document in memory (undefined: every one, in every thread)
   * from storage again, after something was missed. How many documents moved.
   */
  async catchUp(documentId?: string): Promise<number> {
    if (documentId !== undefined) {
      const owner = this.workers.routeOf(documentId);
      if (owner === undefined) return 0;
      if (owner !== "main") return this.workers.call(owner, "catchUp", documentId);
      return this.#repo ? Number(await catchUpDocument(this.#repo, this.#options.storage, documentId)) : 0;
    }
    let moved = this.#repo ? await catchUpFromStorage(this.#repo, this.#options.storage) : 0;
    const counts = await Promise.all(this.workers.documentsPerWorker().map((_, index) => this.workers.call(index, "catchUp", undefined).catch(() => 0)));
    for (const count of counts) moved += count;
    return moved;
  }

  /** Loads the document and waits until the relay peer with `storageId` has our heads (PeerSync). */
  async confirm(documentId: string, storageId: string, connected: () => boolean): Promise<boolean> {
    this.touch(documentId);
    const owner = await this.workers.ownerOf(documentId);
    if (owner === "main") return confirmPeerHas(this.#repo!, documentId, storageId, connected, this.touch);
    // The worker waits on its own view of the peer's connection; touched here before and
    // after, so the document is not evicted under the wait.
    const confirmed = await this.workers.call(owner, "confirm", documentId, storageId);
    this.touch(documentId);
    return confirmed;
  }

  /**
   * Drops documents nobody has synced for `idleEvictMs` from memory, after writing them
   * out (repoDocuments.ts `evictDocument`), here and in the document workers.
   */
  async evictIdle(): Promise<void> {
    await this.#exclusive(async (repo) => {
      const activity = this.#activity;
      const now = Date.now();
      const idle = this.#options.idleEvictMs;
      const handles = repo.handles;
      for (const [documentId, last] of activity) {
        if (!(documentId in handles) && this.workers.routeOf(documentId) === undefined && now - last > idle) activity.delete(documentId);
      }
      for (const [documentId] of Object.entries(handles)) {
        if (this.#closing) return;
        const last = activity.get(documentId);
        if (last === undefined) {
          activity.set(documentId, now);
          continue;
        }
        if (now - last < idle) continue;
        await this.#evict(repo, documentId, last);
      }
      for (const documentId of [...this.workers.stale()]) this.workers.forget(documentId);
      const isIdle = (documentId: string) => {
        const last = activity.get(documentId);
        if (last === undefined) activity.set(documentId, now);
        return last !== undefined && Date.now() - last >= idle;
      };
      for (const documentId of await this.workers.evictIdle(isIdle)) {
        activity.delete(documentId);
        this.#options.metrics.inc("relay_documents_evicted_total");
      }
    });
  }

  /**
   * Past `maxDocumentsInMemory`, drops the least recently used documents (quiet for at
   * least MIN_QUIET_MS), here and in the workers, until it is back under: many documents
   * passing through do not pile up in memory until they are idle.
   */
  async evictOverBudget(): Promise<void> {
    const repo = this.#repo;
    if (!repo) return;
    const inWorkers = [...this.#activity.keys()].filter((id) => typeof this.workers.routeOf(id) === "number");
    const over = Object.keys(repo.handles).length + inWorkers.length - this.#options.maxDocumentsInMemory;
    if (over <= 0) return;
    await this.#exclusive(async () => {
      const now = Date.now();
      const quiet: [string, number][] = [];
      for (const documentId of [...Object.keys(repo.handles), ...inWorkers]) {
        const last = this.#activity.get(documentId);
        if (last === undefined) this.#activity.set(documentId, now);
        else if (now - last >= MIN_QUIET_MS) quiet.push([documentId, last]);
      }
      quiet.sort((x, y) => x[1] - y[1]);
      const chosen = quiet.slice(0, over);
      const fromWorkers = new Set<string>();
      for (const [documentId, last] of chosen) {
        if (this.#closing) return;
        if (typeof this.workers.routeOf(documentId) === "number") fromWorkers.add(documentId);
        else if (await this.#evict(repo, documentId, last)) this.#options.metrics.inc("relay_documents_evicted_over_budget_total");
      }
      if (fromWorkers.size === 0) return;
      for (const documentId of await this.workers.evictIdle((id) => fromWorkers.has(id))) {
        this.#activity.delete(documentId);
        this.#options.metrics.inc("relay_documents_evicted_total");
        this.#options.metrics.inc("relay_documents_evicted_over_budget_total");
      }
    });
  }

  /** One eviction pass at a time, none while closing. */
  async #exclusive(pass: (repo: Repo) => Promise<void>): Promise<void> {
    const repo = this.#repo;
    if (!repo || this.#evicting || this.#closing) return;
    this.#evicting = true;
    try {
      await pass(repo);
    } finally {
      this.#evicting = false;
    }
  }

  /** Writes the document out and drops it from the main thread's Repo, unless it had traffic meanwhile or a save is held. */
  async #evict(repo: Repo, documentId: string, last: number): Promise<boolean> {
    if (this.#options.stack.retrying.hasPending(documentId)) return false;
    try {
      if (!(await evictDocument(repo, documentId, () => this.#activity.get(documentId) === last))) return false;
      this.workers.forget(documentId);
      this.#activity.delete(documentId);
      this.#options.metrics.inc("relay_documents_evicted_total");
      return true;
    } catch (error) {
      this.#options.logger.warn({ err: error, documentId }, "could not evict document");
      return false;
    }
  }

  /**
   * Writes every document out and stops the workers (the network adapters are
   * disconnected first, by the relay). Returns the keys the workers could not save.
   */
  async close(): Promise<StorageKey[]> {
    this.#closing = true;
    // flush() writes every ready document (patches/: it skips the ones that never became
    // ready instead of throwing).
    await this.#repo?.flush();
    const unsaved = await this.workers.close();
    await this.#options.storage.settle(this.#options.saveDebounceMs + 20);
    return unsaved;
  }
}
