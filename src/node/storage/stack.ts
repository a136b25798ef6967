import type { StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";
import { FileStorageAdapter, type CorruptionReport } from "./FileStorageAdapter";
import { RetryingStorage, type RetryingStorageOptions } from "./RetryingStorage";

/**
 * Where a storage stack keeps its chunks: a directory on disk (the desktop, and a relay
 * on its own), or a PostgreSQL table that the relays of a cluster share. Plain data, so
 * that the relay can hand it to its document workers, which open the same back end.
 */
export type StorageBackend = { kind: "files"; dir: string } | { kind: "postgres"; url: string; table?: string };

/** What the stack needs of a back end beyond automerge-repo's storage interface. */
export interface ChunkBackend extends StorageAdapterInterface {
  /** Bytes of a document's snapshot and incremental chunks (0 if none): how long it takes to load. */
  sizeOnDisk(documentId: string): Promise<number>;
  /** Whether a document has a snapshot or incremental chunk stored. */
  hasDocument(documentId: string): Promise<boolean>;
  /** Every document with a snapshot or incremental chunk stored. */
  documentIds(): AsyncGenerator<string>;
  /** Checks that a database back end answers now (a relay cluster's /healthz); files have nothing to ask. */
  ping?(): Promise<void>;
  /** What it is, for logs: a directory, or a database without its password. */
  readonly description: string;
  close(): Promise<void>;
}

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
  readonly backend: ChunkBackend;
  readonly retrying: RetryingStorage;

  private constructor(backend: ChunkBackend, options: StorageStackOptions) {
    this.backend = backend;
    const { onSaveFailed, onRecovered, onSaved } = options;
    this.retrying = new RetryingStorage(backend, { onSaveFailed, onRecovered, onSaved });
  }

  /**
   * Opens the stack (a host's or a relay's main thread): a directory's lock is taken
   * (one process per directory); a database's table is created if it is not there.
   */
  static async open(options: StorageStackOptions): Promise<StorageStack> {
    const { backend } = options;
    if (backend.kind === "files") return new StorageStack(await FileStorageAdapter.open(backend.dir, { onCorrupt: options.onCorrupt }), options);
    // Loaded only here: the desktop, which stores on files, never loads pg.
    const { PostgresStorageAdapter } = await import("./PostgresStorageAdapter");
    return new StorageStack(await PostgresStorageAdapter.open(backend), options);
  }

  /**
   * Opens the stack beside the one its main thread opened (under the directory's lock it
   * holds, on the table it created): at once, for a document worker's first lines. A
   * database back end is connected by the caller (`PostgresStorageAdapter.connect`), which
   * imports it statically, as this module does not (see `open`).
   */
  static underLock(options: StorageStackOptions, connected?: ChunkBackend): StorageStack {
    const { backend } = options;
    if (backend.kind === "files") return new StorageStack(FileStorageAdapter.openUnderLock(backend.dir, { onCorrupt: options.onCorrupt }), options);
    if (!connected) throw new TypeError(`underLock on ${backend.kind} needs the connected back end`);
    return new StorageStack(connected, options);
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
