import { Worker } from "node:worker_threads";
import { NetworkAdapter, type Message, type PeerId, type PeerMetadata, type StorageKey } from "@automerge/automerge-repo/slim";
import type { Logger } from "pino";
import type { CallArgs, CallName, CallResult, EvictCalls, FromWorker, StorageActivity, ToWorker, WorkerContract, WorkerInit } from "./protocol";

/** Where a document lives: the main thread's Repo, or the worker with this index. */
export type Owner = "main" | number;

export interface DocumentWorkersOptions<C extends WorkerContract> {
  /** Worker threads; 0 keeps every document on the main thread. */
  count: number;
  /** A document whose chunks on disk add up to at least this many bytes goes to a worker. */
  thresholdBytes: number;
  /**
   * Where a document with nothing on disk goes: its size is not known until it has
   * arrived. The relay keeps them on the main thread (a client's new document starts
   * empty); the host sends them to a worker (one arriving from a relay may be a novel).
   */
  newDocuments?: "main" | "worker";
  /** Bytes of the document's chunks on disk. */
  sizeOnDisk(documentId: string): Promise<number>;
  /** The worker's program (it calls runtime.ts's `workerRuntime`). */
  worker: URL;
  /** What it is started with, besides its index (structured-cloneable). */
  workerData: Omit<C["init"], "index">;
  logger: Logger;
  /** Whether the main thread's Repo holds the document now. */
  inMain(documentId: string): boolean;
  /** Whether a peer that just joined is a relay peer (it gets every document pushed). */
  isRelayPeer(peerId: string): boolean;
  /** Something a worker reported (its program's own events). */
  onEvent(event: C["event"], worker: number): void;
  /** A document was routed to a worker by its size. */
  onRouted?(documentId: string, worker: number): void;
  /** A worker died and was started again; `documents` were in it (their peers' sync state is stale). */
  onRestart?(worker: number, documents: string[]): void;
  /** A worker's Repo restarted a stalled sync. */
  onResync?(fields: Record<string, unknown>, worker: number): void;
  /**
   * What a worker's storage did since its last report (saves and their durations, refused
   * saves, chunks quarantined), with each report that says: at most a second late, and
   * the last second of a worker that dies is lost.
   */
  onStorageActivity?(activity: StorageActivity, worker: number): void;
}

/** A restarted worker that dies this many times in a row before it is ready is given up. */
const MAX_RESTARTS_BEFORE_READY = 5;
/** How long a worker has to write everything out at shutdown. */
const CLOSE_TIMEOUT_MS = 30_000;

interface Thread {
  index: number;
  worker: Worker;
  ready: Promise<void>;
  calls: Map<number, { resolve(value: unknown): void; reject(error: Error): void }>;
  documents: number;
  pendingSaves: number;
  closing: boolean;
  /** Its thread has ended (a call to it would never be answered). */
  exited: boolean;
  /** It said it is ready; until then, messages for its documents wait in `backlog`. */
  started: boolean;
  /**
   * Messages routed to it before it was ready, with the way to the main thread's Repo:
   * posted once it is, or handed to the main thread if it never starts.
   */
  backlog: { message: Message; toMain: (message: Message) => void }[];
  /** It could not start (startInBackground): its documents live on the main thread. */
  failed?: boolean;
}

/**
 * Keeps long documents off the thread that serves everyone, in the relay
 * (sync-server/workers/worker.ts) and in the desktop's host (src/host/workers/worker.ts).
 * automerge-repo loads, syncs and saves a document synchronously: a document with a long
 * history blocks its thread long enough for everyone it serves to wait
 * (bench/long-document has the figures). The connections,
 * the checks and the small documents stay on the main thread; a document whose chunks on
 * disk weigh `thresholdBytes` or more is handed, whole, to one of `count` worker threads
 * (by a hash of its ID), each with a Repo of its own on the same storage. A document lives in one thread at a time: the route is
 * decided when it is first needed and kept until that thread lets it go idle.
 *
 * Network adapters are wrapped (`wrap`): a message for a document a worker holds is
 * posted to that worker instead of reaching the main Repo, and what a worker's Repo
 * sends leaves by the adapter its target peer joined on, through that adapter's own
 * checks (read-only, durability before heads, ephemeral origins). Every peer that joins
 * or leaves is told to every worker, so that a worker's Repo knows the relay peers it
 * pushes documents to.
 *
 * A document that grows past the threshold while the main thread holds it stays there
 * until it is evicted; its next load goes to a worker. A worker that dies is restarted;
 * its documents are loaded again from disk on their next message, and the sync protocol
 * finds what each peer lacks, as after a relay restart.
 */
export class DocumentWorkers<C extends WorkerContract> {
  readonly #options: DocumentWorkersOptions<C>;
  readonly #threads: Thread[] = [];
  readonly #routes = new Map<string, Owner>();
  readonly #deciding = new Map<string, Promise<Owner>>();
  /** Messages for a document whose route is being decided, in arrival order. */
  readonly #waiting = new Map<string, [Message, (message: Message) => void][]>();
  /** Messages posted to workers per document, to know whether one came during an eviction. */
  readonly #posted = new Map<string, number>();
  /** Peers joined on the wrapped adapters, to send workers' messages by. */
  readonly #peers = new Map<PeerId, { adapter: NetworkAdapter; peerMetadata: PeerMetadata }>();
  #nextCall = 1;
  #closed = false;
  /** A worker could not start (startInBackground): everything stays on the main thread. */
  #failed = false;

  constructor(options: DocumentWorkersOptions<C>) {
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#options.count > 0 && !this.#failed;
  }

  /** Whether the worker threads have been started (startInBackground, or a first document for them). */
  get started(): boolean {
    return this.#threads.length > 0;
  }

  /**
   * Starts the workers without waiting for them, unless they are started already. The
   * first document routed to a worker starts them this way if nothing did before: a
   * worker costs its own Repo and Automerge heap and processor time to start, which a
   * host or relay whose documents are all short never needs. Messages and calls for a
   * worker that is still starting wait in its port. A worker that cannot
   * start (a broken install) is logged, and every document then stays on the main
   * thread: the documents routed to it meanwhile are decided again on their next message.
   */
  startInBackground(): void {
    if (this.#threads.length > 0 || this.#closed) return;
    for (let index = 0; index < this.#options.count; index++) this.#threads.push(this.#spawn(index));
    // Peers that joined before the workers existed (a relay, windows) are theirs too.
    for (const thread of this.#threads) this.#announcePeers(thread);
    for (const thread of this.#threads) {
      thread.ready.catch((error: unknown) => {
        this.#options.logger.error({ err: error, worker: thread.index }, "a document worker could not start; long documents load on the main thread");
        this.#failed = true;
        thread.failed = true;
        for (const [documentId, owner] of this.#routes) if (owner === thread.index) this.#routes.delete(documentId);
        // What was on its way to it goes to the main thread, which holds those documents now.
        for (const { message, toMain } of thread.backlog.splice(0)) this.route(message, toMain);
      });
    }
  }

  /** Documents each worker holds in memory (as of its last report, at most 1 s old). */
  documentsPerWorker(): number[] {
    return this.#threads.map((t) => t.documents);
  }

  /** Documents the workers hold in memory (as of their last report, at most 1 s old). */
  get documentsInMemory(): number {
    return this.#threads.reduce((sum, t) => sum + t.documents, 0);
  }

  /** Saves waiting in workers to be retried. */
  get pendingSaves(): number {
    return this.#threads.reduce((sum, t) => sum + t.pendingSaves, 0);
  }

  /** Where the document lives now, if anywhere is decided. */
  routeOf(documentId: string): Owner | undefined {
    return this.#routes.get(documentId);
  }

  /** Where the document lives, deciding it (by its size on disk) if nothing holds it yet. */
  ownerOf(documentId: string): Promise<Owner> {
    const known = this.#routes.get(documentId);
    if (known !== undefined) return Promise.resolve(known);
    if (!this.enabled || this.#options.inMain(documentId)) {
      this.#routes.set(documentId, "main");
      return Promise.resolve("main");
    }
    let deciding = this.#deciding.get(documentId);
    if (!deciding) {
      deciding = this.#decide(documentId).then((owner) => {
        this.#deciding.delete(documentId);
        // Something may have loaded it on the main thread while the disk was read, or
        // the worker may have failed to start meanwhile (a fast failure beats this
        // decision: a message posted to it then would never be answered).
        const decided = this.#routes.get(documentId) ?? (this.#options.inMain(documentId) || (owner !== "main" && this.#threads[owner]?.failed) ? "main" : owner);
        this.#routes.set(documentId, decided);
        return decided;
      });
      this.#deciding.set(documentId, deciding);
    }
    return deciding;
  }

  async #decide(documentId: string): Promise<Owner> {
    const bytes = await this.#options.sizeOnDisk(documentId);
    const unknown = bytes === 0 && this.#options.newDocuments === "worker";
    if (bytes < this.#options.thresholdBytes && !unknown) return "main";
    const worker = hashOf(documentId) % this.#options.count;
    // Not started until a document needs them (unless the program asked for it sooner).
    this.startInBackground();
    this.#options.logger.debug({ documentId, bytes, worker }, "long document: loaded in a worker");
    this.#options.onRouted?.(documentId, worker);
    return worker;
  }

  /** A document a worker made (a copy of one it holds, an import) lives there. */
  assign(documentId: string, owner: number): void {
    this.#routes.set(documentId, owner);
  }

  /** The worker for a document about to be made of `bytes`, if that is long; undefined: the main thread. */
  workerForBytes(bytes: number): number | undefined {
    if (!this.enabled || bytes < this.#options.thresholdBytes) return undefined;
    this.startInBackground();
    return 0;
  }

  /** The main thread let the document go (evicted): its route is decided again next time. */
  forget(documentId: string): void {
    if (this.#routes.get(documentId) === "main") this.#routes.delete(documentId);
  }

  /** Documents routed to the main thread that it does not hold (nothing ever loaded them). */
  *stale(): Generator<string> {
    for (const [documentId, owner] of this.#routes) if (owner === "main" && !this.#options.inMain(documentId) && !this.#deciding.has(documentId)) yield documentId;
  }

  /** Asks a worker (the one holding the document) one of its program's calls. */
  call<K extends CallName<C>>(owner: number, op: K, ...args: CallArgs<C, K>): Promise<CallResult<C, K>> {
    const thread = this.#threads[owner];
    if (!thread || thread.exited) return Promise.reject(new Error(`no document worker ${owner}`));
    const id = this.#nextCall++;
    return new Promise<CallResult<C, K>>((resolve, reject) => {
      thread.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#post(thread, { t: "call", id, op, args });
    });
  }

  /**
   * Asks the workers to drop the documents `isIdle` says nobody uses; a document that got
   * a message while its worker was writing it out stays. Returns the documents that left.
   */
  async evictIdle(this: DocumentWorkers<C & { calls: EvictCalls }>, isIdle: (documentId: string) => boolean): Promise<string[]> {
    const left: string[] = [];
    for (const [documentId, owner] of [...this.#routes]) {
      if (owner === "main" || !isIdle(documentId) || this.#closed) continue;
      const before = this.#posted.get(documentId) ?? 0;
      try {
        const evicted = await this.call(owner, "evict", documentId);
        if (!evicted || (this.#posted.get(documentId) ?? 0) !== before || this.#routes.get(documentId) !== owner) continue;
        this.#routes.delete(documentId);
        this.#posted.delete(documentId);
        left.push(documentId);
      } catch (error) {
        this.#options.logger.warn({ err: error, documentId }, "could not evict document from its worker");
      }
    }
    return left;
  }

  /**
   * The adapter as the main Repo sees it: messages for documents in workers go there.
   * With no workers, the adapter itself.
   */
  wrap(inner: NetworkAdapter): NetworkAdapter {
    if (!this.enabled) return inner;
    return new RoutedAdapter(inner, this as unknown as DocumentWorkers<WorkerContract>);
  }

  /** @internal RoutedAdapter: a message arrived on `adapter`. */
  route(message: Message, toMain: (message: Message) => void): void {
    const documentId = (message as { documentId?: string }).documentId;
    if (documentId === undefined) return toMain(message);
    const waiting = this.#waiting.get(documentId);
    if (waiting) {
      waiting.push([message, toMain]);
      return;
    }
    const owner = this.#routes.get(documentId);
    if (owner !== undefined) return this.#deliver(owner, documentId, message, toMain);
    const queue: [Message, (message: Message) => void][] = [[message, toMain]];
    this.#waiting.set(documentId, queue);
    void this.ownerOf(documentId).then((decided) => {
      this.#waiting.delete(documentId);
      for (const [m, deliver] of queue) this.#deliver(decided, documentId, m, deliver);
    });
  }

  #deliver(owner: Owner, documentId: string, message: Message, toMain: (message: Message) => void): void {
    const thread = owner === "main" ? undefined : this.#threads[owner];
    // A worker that failed to start answers nothing: its documents are the main thread's.
    if (owner === "main" || thread?.failed) return toMain(message);
    if (!thread) return;
    this.#posted.set(documentId, (this.#posted.get(documentId) ?? 0) + 1);
    if (!thread.started) thread.backlog.push({ message, toMain });
    else this.#post(thread, { t: "message", message });
  }

  /** @internal RoutedAdapter */
  peerJoined(adapter: NetworkAdapter, peerId: PeerId, peerMetadata: PeerMetadata): void {
    this.#peers.set(peerId, { adapter, peerMetadata });
    const relay = this.#options.isRelayPeer(peerId);
    for (const thread of this.#threads) this.#post(thread, { t: "peer", peerId, peerMetadata, relay });
  }

  /** @internal RoutedAdapter */
  peerLeft(adapter: NetworkAdapter, peerId: PeerId): void {
    if (this.#peers.get(peerId)?.adapter !== adapter) return;
    this.#peers.delete(peerId);
    for (const thread of this.#threads) this.#post(thread, { t: "peer-gone", peerId });
  }

  /**
   * Stops a worker thread at once, as a crash would (what it had not saved is lost; it is
   * started again like any worker that died). For fault tests only (F14).
   */
  crash(index: number): void {
    void this.#threads[index]?.worker.terminate();
  }

  /** Writes everything the workers hold and stops them; returns the keys that could not be saved. */
  async close(): Promise<StorageKey[]> {
    this.#closed = true;
    const unsaved: StorageKey[] = [];
    await Promise.all(
      this.#threads.map(async (thread) => {
        thread.closing = true;
        try {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("timed out")), CLOSE_TIMEOUT_MS)));
          unsaved.push(...(await Promise.race([this.call(thread.index, "close"), timeout]).finally(() => clearTimeout(timer))));
        } catch (error) {
          this.#options.logger.error({ err: error, worker: thread.index }, "a document worker could not write everything out");
        }
        await thread.worker.terminate();
      }),
    );
    return unsaved;
  }

  #post(thread: Thread, message: ToWorker): void {
    try {
      thread.worker.postMessage(message);
    } catch (error) {
      this.#options.logger.error({ err: error, worker: thread.index }, "could not pass a message to a document worker");
    }
  }

  /**
   * Starts worker `index`. `restart`: how many times in a row it has died (0: the first
   * start, whose failure means a broken install and fails the start).
   */
  #spawn(index: number, restart = 0): Thread {
    const { logger } = this.#options;
    const init: WorkerInit = { ...(this.#options.workerData as object), index };
    const worker = new Worker(this.#options.worker, { workerData: init });
    const log = logger.child({ worker: index });
    let started = false;
    let markReady!: () => void;
    let failStart!: (error: Error) => void;
    const thread: Thread = {
      index,
      worker,
      ready: new Promise<void>((resolve, reject) => {
        markReady = resolve;
        failStart = reject;
      }),
      calls: new Map(),
      documents: 0,
      pendingSaves: 0,
      closing: false,
      exited: false,
      started: false,
      backlog: [],
    };
    worker.on("message", (message: FromWorker) => {
      switch (message.t) {
        case "ready":
          started = true;
          thread.started = true;
          log.info({ restarts: restart }, "document worker ready");
          for (const { message: waiting } of thread.backlog.splice(0)) this.#post(thread, { t: "message", message: waiting });
          markReady();
          return;
        case "send": {
          const peer = this.#peers.get(message.message.targetId);
          peer?.adapter.send(message.message);
          return;
        }
        case "reply": {
          const pending = thread.calls.get(message.id);
          thread.calls.delete(message.id);
          if (message.error !== undefined) pending?.reject(new Error(message.error));
          else pending?.resolve(message.value);
          return;
        }
        case "event":
          this.#options.onEvent(message.event, index);
          return;
        case "log":
          log[message.level](message.fields, message.msg);
          return;
        case "resync":
          this.#options.onResync?.(message.fields, index);
          log.warn(message.fields, "sync with a peer stalled; sent everything again");
          return;
        case "stats":
          thread.documents = message.documents;
          thread.pendingSaves = message.pendingSaves;
          if (message.storage) this.#options.onStorageActivity?.(message.storage, index);
          return;
      }
    });
    worker.on("error", (error) => log.error({ err: error }, "document worker failed"));
    worker.on("exit", (code) => {
      thread.exited = true;
      for (const { reject } of thread.calls.values()) reject(new Error(`document worker ${index} exited`));
      thread.calls.clear();
      // One that cannot start at all (a broken install) is not restarted: startInBackground
      // logs it, and its documents stay on the main thread.
      if (!started && restart === 0) return failStart(new Error(`document worker ${index} exited with ${code} before it was ready`));
      if (thread.closing || this.#closed) return;
      // Its documents are loaded again from disk by whoever holds them next.
      const held: string[] = [];
      for (const [documentId, owner] of this.#routes) {
        if (owner !== index) continue;
        this.#routes.delete(documentId);
        held.push(documentId);
      }
      if (!started && restart >= MAX_RESTARTS_BEFORE_READY) {
        // Dying again and again while starting: its documents go to the main thread
        // rather than wait for a worker that never comes (their messages would stall).
        log.error({ code, restarts: restart }, "document worker keeps dying as it starts; its documents stay on the main thread");
        thread.failed = true;
        for (const { message, toMain } of thread.backlog.splice(0)) this.route(message, toMain);
        return;
      }
      log.error({ code, startedBefore: started }, "document worker exited; starting a new one");
      this.#options.onRestart?.(index, held);
      // A worker that died as it started (a crash loop) is started again after a pause
      // that doubles; messages for it meanwhile wait in the dead one's backlog, handed on.
      const pause = started ? 0 : Math.min(5000, 100 * 2 ** restart);
      const respawn = () => {
        if (this.#closed) return;
        const next = this.#spawn(index, started ? 1 : restart + 1);
        next.backlog.push(...thread.backlog.splice(0));
        this.#threads[index] = next;
        this.#announcePeers(next);
      };
      if (pause === 0) respawn();
      else setTimeout(respawn, pause).unref?.();
    });
    return thread;
  }

  /** Tells a new worker every peer joined so far. */
  #announcePeers(thread: Thread): void {
    for (const [peerId, { peerMetadata }] of this.#peers) {
      this.#post(thread, { t: "peer", peerId, peerMetadata, relay: this.#options.isRelayPeer(peerId) });
    }
  }
}

/** An adapter whose messages for documents held by workers go to them (DocumentWorkers.wrap). */
class RoutedAdapter extends NetworkAdapter {
  readonly #inner: NetworkAdapter;

  constructor(inner: NetworkAdapter, workers: DocumentWorkers<WorkerContract>) {
    super();
    this.#inner = inner;
    inner.on("peer-candidate", (payload) => {
      workers.peerJoined(inner, payload.peerId, payload.peerMetadata);
      this.emit("peer-candidate", payload);
    });
    inner.on("peer-disconnected", (payload) => {
      workers.peerLeft(inner, payload.peerId);
      this.emit("peer-disconnected", payload);
    });
    inner.on("close", () => this.emit("close"));
    inner.on("message", (message) => workers.route(message, (m) => this.emit("message", m)));
  }

  isReady(): boolean {
    return this.#inner.isReady();
  }

  whenReady(): Promise<void> {
    return this.#inner.whenReady();
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata;
    this.#inner.connect(peerId, peerMetadata);
  }

  send(message: Message): void {
    this.#inner.send(message);
  }

  disconnect(): void {
    this.#inner.disconnect();
  }
}

/** FNV-1a of the document ID: which worker a long document goes to. */
function hashOf(documentId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < documentId.length; i++) {
    hash ^= documentId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
