/**
 * A desktop's Repo in-process, for property tests: the host's storage stack (the
 * product's FileStorageAdapter under RetryingStorage and TrackedStorage, on a real
 * directory) and a Switchboard adapter, with the two ways a process ends: closing
 * (flush, then release the directory, as Host.close does) and crashing (the disk
 * stops taking writes at once; whatever was already handed to the file adapter lands,
 * as a write the kernel already had would).
 *
 * Every chunk that reached the disk is remembered (`persisted`), so that a test can
 * say which changes were durably saved and must therefore never go missing.
 */
import { next as A } from "@automerge/automerge";
import { Repo, type AutomergeUrl, type Chunk, type DocHandle, type PeerId, type StorageAdapterInterface, type StorageKey } from "@automerge/automerge-repo";
import { FileStorageAdapter, RetryingStorage, TrackedStorage } from "../../src/node/storage";
import type { WriterDocument } from "../../src/shared/document";
import type { Switchboard, SwitchboardAdapter } from "./switchboard";

/** The host's save debounce (Host.open's default). */
const SAVE_DEBOUNCE_MS = 20;

/** Passes storage calls through until cut; after that, calls do nothing (the process is gone). */
class CuttableStorage implements StorageAdapterInterface {
  readonly #inner: StorageAdapterInterface;
  readonly #onSaved: (key: StorageKey, data: Uint8Array) => void;
  cut = false;

  constructor(inner: StorageAdapterInterface, onSaved: (key: StorageKey, data: Uint8Array) => void) {
    this.#inner = inner;
    this.#onSaved = onSaved;
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    return this.cut ? undefined : this.#inner.load(key);
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    if (this.cut) return;
    // Copied now: the caller may reuse its buffer.
    const copy = data.slice();
    await this.#inner.save(key, data);
    this.#onSaved(key, copy);
  }

  async remove(key: StorageKey): Promise<void> {
    if (!this.cut) await this.#inner.remove(key);
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    return this.cut ? [] : this.#inner.loadRange(prefix);
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    if (!this.cut) await this.#inner.removeRange(prefix);
  }
}

export class Replica {
  readonly name: string;
  readonly dir: string;
  readonly #board: Switchboard;
  /** Document chunks (snapshots and incrementals) that reached the disk, ever. */
  readonly persisted: Uint8Array[] = [];
  /** Compactions (snapshots replacing chunks) seen, across restarts. */
  compactions = 0;
  #incarnation = 0;
  #repo!: Repo;
  #adapter!: SwitchboardAdapter;
  #files!: FileStorageAdapter;
  #retrying!: RetryingStorage;
  #tracked!: TrackedStorage;
  #cuttable!: CuttableStorage;
  #handle: DocHandle<WriterDocument> | undefined;
  #url: AutomergeUrl | undefined;

  private constructor(board: Switchboard, name: string, dir: string) {
    this.#board = board;
    this.name = name;
    this.dir = dir;
  }

  static async open(board: Switchboard, name: string, dir: string): Promise<Replica> {
    const replica = new Replica(board, name, dir);
    await replica.#start();
    return replica;
  }

  get repo(): Repo {
    return this.#repo;
  }

  get handle(): DocHandle<WriterDocument> {
    if (!this.#handle) throw new Error(`${this.name} has no document open`);
    return this.#handle;
  }

  /** Opens (from disk or the network) the document the test is about. */
  async find(url: AutomergeUrl): Promise<DocHandle<WriterDocument>> {
    this.#url = url;
    this.#handle = await this.#repo.find<WriterDocument>(url);
    return this.#handle;
  }

  adopt(handle: DocHandle<WriterDocument>): void {
    this.#url = handle.url;
    this.#handle = handle;
  }

  async #start(): Promise<void> {
    this.#incarnation++;
    this.#files = await FileStorageAdapter.open(this.dir);
    this.#retrying = new RetryingStorage(this.#files);
    this.#tracked = new TrackedStorage(this.#retrying);
    this.#cuttable = new CuttableStorage(this.#tracked, (key, data) => {
      if (key[1] === "snapshot" || key[1] === "incremental") this.persisted.push(data);
      if (key[1] === "snapshot") this.compactions++;
    });
    this.#adapter = this.#board.adapter(this.name);
    this.#repo = new Repo({
      storage: this.#cuttable,
      network: [this.#adapter],
      peerId: `${this.name}-${this.#incarnation}` as PeerId,
      saveDebounceRate: SAVE_DEBOUNCE_MS,
      syncDebounceRate: 0,
    });
    this.#handle = undefined;
    if (this.#url) await this.find(this.#url);
  }

  /** Quits as the host does: disconnect, flush, wait for the disk, release the directory. */
  async close(): Promise<void> {
    await this.#repo.shutdown();
    await this.#release();
  }

  /**
   * Dies at once: no write it had not handed to the disk yet will land, nothing it had
   * queued on the network arrives. `beforeGone` runs while the dead Repo's memory is
   * still there to look at (what was lost with it).
   */
  async crash(beforeGone: () => void = () => undefined): Promise<void> {
    this.#cuttable.cut = true;
    this.#adapter.disconnect();
    beforeGone();
    // Stops its timers; its last flush goes nowhere.
    await this.#repo.shutdown().catch(() => undefined);
    await this.#release();
  }

  async restart(crash: boolean, beforeGone?: () => void): Promise<void> {
    if (crash) await this.crash(beforeGone);
    else await this.close();
    await this.#start();
  }

  /** The heads of every change this replica's disk has (or had: compaction keeps them all). */
  persistedHeads(): string[] {
    if (this.persisted.length === 0) return [];
    let doc = A.init<unknown>();
    for (const chunk of this.persisted) doc = A.loadIncremental(doc, chunk);
    return A.getHeads(doc);
  }

  async #release(): Promise<void> {
    await this.#tracked.settle(SAVE_DEBOUNCE_MS + 10);
    await this.#retrying.retryNow();
    this.#retrying.close();
    await this.#files.close();
  }
}
