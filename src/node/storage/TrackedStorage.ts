import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo/slim";

/**
 * A storage adapter as automerge-repo sees it, keeping count of the operations under
 * way so that shutdown (the host's close, the relay's SIGTERM) can wait until
 * automerge-repo has finished with the disk: `Repo.flush()` does not wait for saves it
 * started on its own (a throttled save due any moment, a compaction removing chunks).
 */
export class TrackedStorage implements StorageAdapterInterface {
  protected readonly inner: StorageAdapterInterface;
  readonly #running = new Set<Promise<unknown>>();
  #started = 0;
  /** Documents deleted for good: nothing of theirs is written again (forget). */
  readonly #forgotten = new Set<string>();

  constructor(inner: StorageAdapterInterface) {
    this.inner = inner;
  }

  load(key: StorageKey): Promise<Uint8Array | undefined> {
    return this.track(this.inner.load(key));
  }

  save(key: StorageKey, data: Uint8Array): Promise<void> {
    if (Array.isArray(key) && key[0] !== undefined && this.#forgotten.has(key[0])) return Promise.resolve();
    return this.track(this.inner.save(key, data));
  }

  /**
   * The document was deleted for good: its chunks are removed, and any save of it from
   * now on is dropped. automerge-repo's `delete` removes what is on disk, but a save it
   * had already scheduled, or a window that still had the document open and syncs it
   * back, would write it again (the host's tests saw both: the whole document, and an
   * empty snapshot at shutdown).
   */
  forget(documentId: string): void {
    this.#forgotten.add(documentId);
  }

  remove(key: StorageKey): Promise<void> {
    return this.track(this.inner.remove(key));
  }

  loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    return this.track(this.inner.loadRange(keyPrefix));
  }

  removeRange(keyPrefix: StorageKey): Promise<void> {
    return this.track(this.inner.removeRange(keyPrefix));
  }

  /**
   * Resolves once no operation has started or been under way for `quietMs` (longer
   * than automerge-repo's save throttle, so a save it had scheduled has started by
   * then). Gives up after `maxRounds`, should peers keep the Repo busy.
   */
  async settle(quietMs: number, maxRounds = 50): Promise<void> {
    for (let round = 0; round < maxRounds; round++) {
      if (this.#running.size > 0) await Promise.allSettled([...this.#running]);
      const started = this.#started;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
      if (this.#running.size === 0 && this.#started === started) return;
    }
  }

  /** Counts `operation` as under way until it settles. */
  protected track<T>(operation: Promise<T>): Promise<T> {
    this.#started++;
    this.#running.add(operation);
    const done = () => void this.#running.delete(operation);
    operation.then(done, done);
    return operation;
  }
}
