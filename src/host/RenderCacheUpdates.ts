import type { Logger } from "pino";
import type { RenderCacheView } from "../shared/api";
import type { HostDocuments } from "./HostDocuments";
import type { RenderCache } from "./RenderCache";

/**
 * How often, at most, a document's cache is rewritten while the document changes. The
 * cache only paints an opening's first frame, and a window is always given it checked
 * against the document when the host holds it (`read`); what is on disk matters after a
 * restart, and a clean close writes it. Rewritten after every library refresh (once a
 * second of typing), it was nine tenths of the bytes an hour of typing wrote
 * (bench/bytes-written): 29 of 31 MB for a 40,000-character chapter.
 */
const RENDER_CACHE_REWRITE_MS = 30_000;

/**
 * Keeps each document's render cache (RenderCache) in step with the document: checked,
 * and rewritten when its heads differ, as soon as a thread has loaded the document, after
 * refreshes of its library entry (at most every `rewriteMs`, and at close), and before a
 * window reads it. A wrong cache is then shown at most once. Only documents of the
 * library are cached (`listed`): one deleted for good must not come back as a cache.
 */
export class RenderCacheUpdates {
  readonly #cache: RenderCache;
  readonly #documents: HostDocuments;
  readonly #listed: (documentId: string) => boolean;
  readonly #logger: Logger;
  /** The heads each document's cache was last written at, by this host. */
  readonly #cachedHeads = new Map<string, string[]>();
  /** Writes in flight; `settle` waits for them. */
  readonly #writes = new Set<Promise<void>>();
  /** When each document's cache was last checked (monotonic ms), and the rewrites waiting for their turn. */
  readonly #lastUpdateAt = new Map<string, number>();
  readonly #due = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #rewriteMs: number;
  #followingLoads = true;

  constructor(args: { cache: RenderCache; documents: HostDocuments; listed: (documentId: string) => boolean; logger: Logger; rewriteMs?: number }) {
    this.#cache = args.cache;
    this.#documents = args.documents;
    this.#listed = args.listed;
    this.#logger = args.logger;
    this.#rewriteMs = args.rewriteMs ?? RENDER_CACHE_REWRITE_MS;
  }

  /** A document finished loading, in either thread. */
  loaded(documentId: string): void {
    if (this.#followingLoads) this.queue(documentId);
  }

  /** Updates a document's cache in the background: now, or when its last update is `rewriteMs` old. */
  queue(documentId: string): void {
    if (this.#due.has(documentId)) return;
    const wait = (this.#lastUpdateAt.get(documentId) ?? -Infinity) + this.#rewriteMs - performance.now();
    if (wait <= 0) {
      this.#start(documentId);
      return;
    }
    const timer = setTimeout(() => {
      this.#due.delete(documentId);
      this.#start(documentId);
    }, wait);
    timer.unref?.();
    this.#due.set(documentId, timer);
  }

  #start(documentId: string): void {
    this.#lastUpdateAt.set(documentId, performance.now());
    const write = this.#update(documentId).finally(() => this.#writes.delete(write));
    this.#writes.add(write);
  }

  /** The cache as a window may show it: checked against the document first when a thread holds it. */
  async read(documentId: string): Promise<RenderCacheView | null> {
    await this.#update(documentId);
    return this.#cache.read(documentId);
  }

  /** Deletes the caches of documents deleted for good: their text must leave the disk. */
  async forget(documentIds: string[]): Promise<void> {
    for (const documentId of documentIds) {
      clearTimeout(this.#due.get(documentId));
      this.#due.delete(documentId);
      this.#lastUpdateAt.delete(documentId);
      this.#cachedHeads.delete(documentId);
      await this.#cache.remove(documentId).catch((error: unknown) => this.#logger.warn({ err: error, documentId }, "could not delete the render cache"));
    }
  }

  /** Stops following loads (the host is closing) and waits for the writes in flight. */
  stopFollowingLoads(): void {
    this.#followingLoads = false;
  }

  /** Runs the rewrites waiting for their turn now, and waits for every write in flight. */
  async settle(): Promise<void> {
    for (const [documentId, timer] of this.#due) {
      clearTimeout(timer);
      this.#due.delete(documentId);
      this.#start(documentId);
    }
    await Promise.all(this.#writes);
  }

  async #update(documentId: string): Promise<void> {
    try {
      if (!this.#listed(documentId)) return;
      const heads = await this.#documents.updateRenderCache(documentId, this.#cachedHeads.get(documentId));
      if (heads) this.#cachedHeads.set(documentId, heads);
    } catch (error) {
      this.#logger.warn({ err: error, documentId }, "could not write the render cache");
    }
  }
}
