import type { StorageKey } from "@automerge/automerge-repo";
import { FileStorageAdapter, type CorruptionReport } from "./FileStorageAdapter";
import { RetryingStorage, type RetryingStorageOptions } from "./RetryingStorage";

/** Where a storage stack keeps its chunks: a directory on disk (the one back end today). */
export type StorageBackend = { kind: "files"; dir: string };

export interface StorageStackOptions extends Pick<RetryingStorageOptions, "onSaveFailed" | "onRecovered" | "onSaved"> {
  backend: StorageBackend;
  /** A chunk that could not be read was moved aside (the back end goes on without it). */
  onCorrupt?: (report: CorruptionReport) => void;
}

/**
 * The storage the host, the relay and their document workers run on: a back end, then
 * `RetryingStorage`, which keeps a failed save in memory, retries it, and never reports
 * it stored (`hasPending`). Each process puts its own bookkeeping on top (the host's
 * `TrackedStorage`, the relay's `RelayStorage`).
 */
export class StorageStack {
  readonly backend: FileStorageAdapter;
  readonly retrying: RetryingStorage;

  private constructor(backend: FileStorageAdapter, options: StorageStackOptions) {
    this.backend = backend;
    const { onSaveFailed, onRecovered, onSaved } = options;
    this.retrying = new RetryingStorage(backend, { onSaveFailed, onRecovered, onSaved });
  }

  /** Opens the stack, taking the back end's lock (a host's or a relay's main thread). */
  static async open(options: StorageStackOptions): Promise<StorageStack> {
    return new StorageStack(await FileStorageAdapter.open(options.backend.dir, { onCorrupt: options.onCorrupt }), options);
  }

  /** Opens the stack under the lock its main thread holds: at once, for a document worker's first lines. */
  static underLock(options: StorageStackOptions): StorageStack {
    return new StorageStack(FileStorageAdapter.openUnderLock(options.backend.dir, { onCorrupt: options.onCorrupt }), options);
  }

  /** The directory the chunks are in. */
  get dir(): string {
    return this.backend.dir;
  }

  /**
   * Tries what is still pending once more, stops retrying and releases the back end.
   * Returns the keys whose saves never reached the disk, for the caller to report.
   */
  async close(): Promise<StorageKey[]> {
    await this.retrying.retryNow();
    const unsaved = this.retrying.close();
    await this.backend.close();
    return unsaved;
  }
}
