import type { StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo/slim";
import { TrackedStorage, type ChunkBackend } from "../src/node/storage";

/** Documents known to have data on disk, remembered to spare a `stat` (bounded). */
const KNOWN_CACHE = 10_000;

/**
 * automerge-repo names a snapshot by the hash of its heads: this one is the hash of no
 * heads at all (SHA-256 of nothing), an empty document.
 */
const EMPTY_SNAPSHOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** How long chunk removals of a document stay refused after a refused empty snapshot. */
const GUARD_MS = 5_000;

/**
 * The storage as the relay's Repo sees it, around the crash-safe `RetryingStorage`:
 *
 * - Sync states are saved only for documents that have data. automerge-repo saves a
 *   peer's sync state for every document it is asked about, found or not, so a flood
 *   of requests for random IDs would otherwise leave a file per ID (S8).
 * - `removeRange` does nothing: the relay never deletes a document (no client can ask it
 *   to), and automerge-repo calls it only from `Repo.delete`, which the relay uses to
 *   drop an unavailable document's empty handle from memory. Compaction removes single
 *   chunks with `remove`, which passes through.
 * - Operations under way are counted (TrackedStorage), so that shutdown can wait until
 *   automerge-repo has finished with the disk (`settle`), as the desktop host does.
 * - `onDocumentStored` fires when a document's first data reaches the disk.
 */
export class RelayStorage extends TrackedStorage {
  readonly #backend: ChunkBackend;
  readonly #known = new Set<string>();
  /** Documents whose compaction into an empty snapshot was refused, until when. */
  readonly #guarded = new Map<string, number>();
  /** Called when an empty snapshot over a document with data was refused (a bug upstream). */
  onRefused: ((documentId: string) => void) | undefined;
  /** Called with a document ID when its first snapshot or incremental chunk is saved. */
  onDocumentStored: ((documentId: string) => void) | undefined;

  /** `inner` saves to `backend` (through the retrying layer); `backend` answers what is stored. */
  constructor(inner: StorageAdapterInterface, backend: ChunkBackend) {
    super(inner);
    this.#backend = backend;
  }

  override save(key: StorageKey, data: Uint8Array): Promise<void> {
    const [documentId, kind] = key;
    if (documentId !== undefined && kind === "snapshot" && key[2] === EMPTY_SNAPSHOT) {
      return this.track(
        (async () => {
          // An empty snapshot of a document that has data is never right: it is a handle
          // being unloaded (see Relay#evictIdle). Refuse it, and the removal of the real
          // chunks that automerge-repo's compaction does right after it.
          if (await this.hasDocument(documentId)) {
            this.#guarded.set(documentId, Date.now() + GUARD_MS);
            this.onRefused?.(documentId);
            return;
          }
          await this.inner.save(key, data);
        })(),
      );
    }
    if (documentId !== undefined && kind === "sync-state") {
      return this.track(
        (async () => {
          if (await this.hasDocument(documentId)) await this.inner.save(key, data);
        })(),
      );
    }
    if (documentId !== undefined && (kind === "snapshot" || kind === "incremental") && !this.#known.has(documentId)) {
      return this.track(
        (async () => {
          const existed = await this.hasDocument(documentId);
          await this.inner.save(key, data);
          this.#remember(documentId);
          if (!existed) this.onDocumentStored?.(documentId);
        })(),
      );
    }
    return this.track(this.inner.save(key, data));
  }

  override remove(key: StorageKey): Promise<void> {
    const documentId = key[0];
    const until = documentId === undefined ? undefined : this.#guarded.get(documentId);
    if (until !== undefined) {
      if (Date.now() < until) return Promise.resolve();
      this.#guarded.delete(documentId!);
    }
    return this.track(this.inner.remove(key));
  }

  override async removeRange(_keyPrefix: StorageKey): Promise<void> {
    // See the class comment: the relay never deletes documents.
  }

  /**
   * Whether any snapshot or incremental chunk of `documentId` is stored (the back end
   * answers without loading the chunks); the ID must be validated beforehand.
   */
  async hasDocument(documentId: string): Promise<boolean> {
    if (this.#known.has(documentId)) return true;
    if (!(await this.#backend.hasDocument(documentId))) return false;
    this.#remember(documentId);
    return true;
  }

  /**
   * Bytes of `documentId`'s snapshot and incremental chunks (0 if it has none): how long
   * it will take to load (the relay's document workers go by it).
   */
  sizeOnDisk(documentId: string): Promise<number> {
    return this.#backend.sizeOnDisk(documentId);
  }

  /** Every document ID with data stored (for a full sweep to a new relay peer). */
  documentIds(): AsyncGenerator<string> {
    return this.#backend.documentIds();
  }

  #remember(documentId: string): void {
    if (this.#known.size >= KNOWN_CACHE) this.#known.clear();
    this.#known.add(documentId);
  }
}
