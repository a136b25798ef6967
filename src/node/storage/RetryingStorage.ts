import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";
import { validateKey } from "./keys";

/** What a writer is told about a save that failed; retried until it succeeds. */
export interface SaveFailure {
  key: StorageKey;
  error: Error;
  attempt: number;
  /** What the disk refused: a save, or a removal (held back and retried the same way). */
  op: "save" | "remove";
}

export interface RetryingStorageOptions {
  /** Called once per failed attempt; the data stays in memory and is retried. */
  onSaveFailed?: (failure: SaveFailure) => void;
  /** Called when every pending save has reached the disk again after a failure. */
  onRecovered?: () => void;
  /**
   * Called after each successful save, with the key saved (e.g. to index a document) and
   * how long the back end took to have it on disk, in seconds (the relay's /metrics),
   * and what was saved (a relay cluster tells the other relays about new changes).
   */
  onSaved?: (key: StorageKey, seconds: number, data: Uint8Array) => void;
  /** First retry delay in ms; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/**
 * Wraps a storage adapter so that a failing disk (full, read-only, permission denied)
 * never loses an edit: automerge-repo fires saves and does not retry them, and a
 * rejected save would otherwise surface only as an unhandled rejection. Here a failed
 * save is kept in memory, reported, retried with backoff, and served to reads until it
 * lands. Memory is bounded by what the writer types while the disk is failing.
 *
 * Removals wait too. automerge-repo compacts a document by saving a snapshot and then
 * removing the chunks it replaces; while that snapshot is only in memory here, the old
 * chunks are the only copy on disk, so a document's removals are held back until none
 * of its saves is pending (a crash meanwhile then loses only what was never on disk).
 * A removal that fails (a read-only disk refuses unlink too) is retried the same way
 * rather than thrown into automerge-repo, where nothing catches it.
 */
export class RetryingStorage implements StorageAdapterInterface {
  readonly #inner: StorageAdapterInterface;
  readonly #options: RetryingStorageOptions;
  /** Saves that failed, by key, waiting for a retry. A later save or remove replaces them. */
  readonly #pending = new Map<string, { key: StorageKey; data: Uint8Array; attempt: number; op: "save" }>();
  /** Removals not done yet (held back or failed), by key; `range` for removeRange. */
  readonly #removals = new Map<string, { key: StorageKey; range: boolean; attempt: number; op: "remove" }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delay: number;
  #closed = false;

  constructor(inner: StorageAdapterInterface, options: RetryingStorageOptions = {}) {
    this.#inner = inner;
    this.#options = options;
    this.#delay = options.retryDelayMs ?? 500;
  }

  /** Number of saves still waiting for the disk. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Whether a save under this key prefix (e.g. a document ID) is still waiting for the disk. */
  hasPending(...prefix: string[]): boolean {
    for (const p of this.#pending.values()) if (hasPrefix(p.key, prefix)) return true;
    return false;
  }

  // Every key is checked here first, as the back end checks it: a key no back end takes
  // is a caller's mistake to refuse at once, not a disk failure to keep and retry forever.

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    validateKey(key);
    const pending = this.#pending.get(keyString(key));
    return pending ? pending.data : this.#inner.load(key);
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    validateKey(key);
    const id = keyString(key);
    // A removal still waiting must not delete what is saved now: leaving a stale chunk
    // behind is harmless (automerge loads the same changes twice), deleting a new one is not.
    for (const [removalId, r] of this.#removals) if (r.range ? hasPrefix(key, r.key) : removalId === id) this.#removals.delete(removalId);
    const started = performance.now();
    try {
      await this.#inner.save(key, data);
      this.#pending.delete(id);
      this.#options.onSaved?.(key, (performance.now() - started) / 1000, data);
    } catch (error) {
      // This is the newest data for the key: it replaces any older pending save.
      const entry = { key, data, attempt: 1, op: "save" as const };
      this.#pending.set(id, entry);
      this.#fail(entry, error);
    }
  }

  async remove(key: StorageKey): Promise<void> {
    validateKey(key);
    this.#pending.delete(keyString(key));
    await this.#removeOrDefer(key, false);
  }

  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    validateKey(keyPrefix, { allowEmpty: true });
    const chunks = await this.#inner.loadRange(keyPrefix);
    const pending = [...this.#pending.values()].filter((p) => hasPrefix(p.key, keyPrefix));
    if (pending.length === 0) return chunks;
    const byKey = new Map(chunks.map((c) => [keyString(c.key), c]));
    for (const p of pending) byKey.set(keyString(p.key), { key: p.key, data: p.data });
    return [...byKey.values()];
  }

  async removeRange(keyPrefix: StorageKey): Promise<void> {
    validateKey(keyPrefix, { allowEmpty: true });
    for (const [id, p] of this.#pending) if (hasPrefix(p.key, keyPrefix)) this.#pending.delete(id);
    await this.#removeOrDefer(keyPrefix, true);
  }

  /** Removes now, or later if a save of the same document is still pending or the disk refuses. */
  async #removeOrDefer(key: StorageKey, range: boolean): Promise<void> {
    const id = (range ? "range:" : "") + keyString(key);
    this.#removals.delete(id);
    const entry = { key, range, attempt: 0, op: "remove" as const };
    if (key[0] !== undefined && this.hasPending(key[0])) {
      this.#removals.set(id, entry);
      return;
    }
    try {
      await (range ? this.#inner.removeRange(key) : this.#inner.remove(key));
    } catch (error) {
      entry.attempt = 1;
      this.#removals.set(id, entry);
      this.#fail(entry, error);
    }
  }

  /** Tries every pending save now; resolves true when nothing is pending any more. */
  async retryNow(): Promise<boolean> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [id, p] of [...this.#pending]) {
      const started = performance.now();
      try {
        await this.#inner.save(p.key, p.data);
        // Only forget it if no newer save replaced it meanwhile.
        if (this.#pending.get(id) === p) this.#pending.delete(id);
        this.#options.onSaved?.(p.key, (performance.now() - started) / 1000, p.data);
      } catch (error) {
        p.attempt++;
        this.#fail(p, error);
        return false;
      }
    }
    // Every save is on disk now: the removals held back behind them are safe.
    for (const [id, r] of [...this.#removals]) {
      try {
        await (r.range ? this.#inner.removeRange(r.key) : this.#inner.remove(r.key));
        if (this.#removals.get(id) === r) this.#removals.delete(id);
      } catch (error) {
        r.attempt++;
        this.#fail(r, error);
        return false;
      }
    }
    if (this.#pending.size > 0) return false;
    this.#delay = this.#options.retryDelayMs ?? 500;
    this.#options.onRecovered?.();
    return true;
  }

  /** Stops retrying. Pending saves that never landed are returned so the caller can say so. */
  close(): StorageKey[] {
    this.#closed = true;
    clearTimeout(this.#timer);
    return [...this.#pending.values()].map((p) => p.key);
  }

  #fail(entry: { key: StorageKey; attempt: number; op: SaveFailure["op"] }, error: unknown): void {
    const { key, attempt, op } = entry;
    this.#options.onSaveFailed?.({ key, error: error instanceof Error ? error : new Error(String(error)), attempt, op });
    if (this.#closed || this.#timer) return;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#options.maxRetryDelayMs ?? 10_000);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.retryNow();
    }, delay);
    this.#timer.unref?.();
  }
}

function keyString(key: StorageKey): string {
  return JSON.stringify(key);
}

function hasPrefix(key: StorageKey, prefix: StorageKey): boolean {
  return prefix.length <= key.length && prefix.every((part, i) => key[i] === part);
}
