import fs from "node:fs/promises";
import type { Logger } from "pino";
import { isDocumentId, isStorageId } from "../src/node/protocol";
import { writeFileAtomic } from "../src/node/atomicFile";
import type { Metrics } from "./metrics";
import type { RelayStorage } from "./RelayStorage";

export interface PeerSyncOptions {
  /**
   * Loads the document wherever the relay keeps it (the main thread or a document
   * worker), so that it syncs with the relay peers, and resolves true once the peer with
   * this storage ID has our heads (repoDocuments.ts `confirmPeerHas`), false on time-out
   * or once `connected()` turns false.
   */
  confirm(documentId: string, storageId: string, connected: () => boolean): Promise<boolean>;
  storage: RelayStorage;
  /** Where the lists are kept (`<data>/peers.json`). */
  file: string;
  logger: Logger;
  metrics: Metrics;
}

/** What we remember of one relay peer, by its storage ID. */
interface PeerState {
  /** Whether every document on our disk has been offered to it once. */
  swept: boolean;
  /** Documents changed here that it has not confirmed having (remote heads). */
  pending: Set<string>;
}

/** Documents synced with one peer at the same time. */
const CONCURRENCY = 4;
/** Pending documents of connected peers are looked at this often. */
const PASS_EVERY_MS = 5_000;

/**
 * Makes sure relay peers end up with every document this relay holds, also the ones
 * that changed while a peer was unreachable and have since left memory: automerge-repo
 * only offers a reconnecting peer the documents it has in memory.
 *
 * For every relay peer ever met (by storage ID) it keeps the documents changed here
 * that the peer has not confirmed (its remote heads equal ours), in `peers.json`. On
 * (re)connection, and every few seconds while connected, it loads each pending document
 * so that the Repo syncs it, and drops it from the list once the peer has our heads.
 * A peer met for the first time is offered every document on disk once.
 */
export class PeerSync {
  readonly #options: PeerSyncOptions;
  readonly #peers = new Map<string, PeerState>();
  /** Storage IDs of the relay peers connected now. */
  readonly #connected = new Set<string>();
  readonly #running = new Set<string>();
  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Changes to the lists, counted; and how many of them `peers.json` holds. */
  #generation = 0;
  #savedGeneration = 0;
  #saving: Promise<void> | undefined;
  #passTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: PeerSyncOptions) {
    this.#options = options;
  }

  /** Reads `peers.json`, if any, and starts the periodic pass. */
  async open(): Promise<void> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.#options.file, "utf8")) as { version?: number; peers?: Record<string, { swept?: boolean; pending?: unknown[] }> };
      for (const [storageId, state] of Object.entries(parsed.peers ?? {})) {
        if (!isStorageId(storageId)) continue;
        const pending = new Set((state.pending ?? []).filter(isDocumentId));
        this.#peers.set(storageId, { swept: state.swept === true, pending });
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.#options.logger.error({ err: error }, "could not read peers.json; every peer gets a full sweep");
    }
    this.#passTimer = setInterval(() => {
      for (const storageId of this.#connected) void this.#run(storageId);
    }, PASS_EVERY_MS);
    this.#passTimer.unref?.();
    this.#options.metrics.onCollect(() => {
      let pending = 0;
      for (const state of this.#peers.values()) pending += state.pending.size;
      this.#options.metrics.set("relay_peer_pending_documents", pending);
      this.#options.metrics.set("relay_peers_connected", this.#connected.size);
    });
  }

  /** A document's data was saved here: every relay peer must get it. */
  documentChanged(documentId: string): void {
    if (this.#peers.size === 0) return;
    for (const state of this.#peers.values()) state.pending.add(documentId);
    this.#generation++;
    this.#scheduleSave();
  }

  /**
   * Resolves once `peers.json` holds every document changed so far: a relay tells a
   * writer a change is stored only after this (F15). Otherwise a relay SIGKILLed within
   * the save debounce, during a partition from its peer, would forget that the peer
   * still needs the change, and never send it after the heal. Writes are shared by
   * concurrent callers. Rejects if the file cannot be written (nothing is confirmed).
   */
  async durable(): Promise<void> {
    const wanted = this.#generation;
    while (this.#savedGeneration < wanted) await this.#saveShared();
  }

  /** A relay peer connected (either direction). */
  peerConnected(storageId: string): void {
    if (!isStorageId(storageId)) return;
    if (!this.#peers.has(storageId)) {
      this.#peers.set(storageId, { swept: false, pending: new Set() });
      this.#generation++;
      this.#scheduleSave();
    }
    this.#connected.add(storageId);
    void this.#run(storageId);
  }

  peerDisconnected(storageId: string): void {
    this.#connected.delete(storageId);
  }

  /** Stops and writes the lists. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#passTimer);
    clearTimeout(this.#saveTimer);
    await this.#save();
  }

  async #run(storageId: string): Promise<void> {
    if (this.#running.has(storageId) || this.#closed) return;
    this.#running.add(storageId);
    const log = this.#options.logger.child({ peerStorageId: storageId });
    try {
      const state = this.#peers.get(storageId);
      if (!state) return;
      if (!state.swept) {
        let count = 0;
        for await (const id of this.#options.storage.documentIds()) {
          state.pending.add(id);
          count++;
        }
        state.swept = true;
        this.#scheduleSave();
        log.info({ documents: count }, "new relay peer: offering it every document");
      }
      const queue = [...state.pending];
      if (queue.length === 0) return;
      log.debug({ pending: queue.length }, "offering changed documents to relay peer");
      const before = queue.length;
      const worker = async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          if (!this.#connected.has(storageId) || this.#closed) return;
          if (await this.#confirm(id, storageId)) state.pending.delete(id);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      if (state.pending.size !== before) this.#scheduleSave();
      if (state.pending.size > 0) log.debug({ pending: state.pending.size }, "documents not yet confirmed by relay peer");
    } catch (error) {
      log.error({ err: error }, "syncing with relay peer failed; retried on the next pass");
    } finally {
      this.#running.delete(storageId);
    }
  }

  #confirm(documentId: string, storageId: string): Promise<boolean> {
    return this.#options.confirm(documentId, storageId, () => this.#connected.has(storageId) && !this.#closed);
  }

  #scheduleSave(): void {
    if (this.#saveTimer || this.#closed) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#saveShared().catch((error: unknown) => this.#options.logger.error({ err: error }, "could not write peers.json"));
    }, 1000);
    this.#saveTimer.unref?.();
  }

  /** The write under way, or a new one: callers at the same time share it. */
  #saveShared(): Promise<void> {
    this.#saving ??= this.#saveNow().finally(() => (this.#saving = undefined));
    return this.#saving;
  }

  async #saveNow(): Promise<void> {
    const generation = this.#generation;
    await this.#save();
    this.#savedGeneration = Math.max(this.#savedGeneration, generation);
  }

  async #save(): Promise<void> {
    const peers: Record<string, { swept: boolean; pending: string[] }> = {};
    for (const [storageId, state] of this.#peers) peers[storageId] = { swept: state.swept, pending: [...state.pending] };
    await writeFileAtomic(this.#options.file, JSON.stringify({ version: 1, peers }) + "\n");
  }
}
