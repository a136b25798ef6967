import type { Logger } from "pino";
import type { RenderCacheView } from "../shared/api";
import type { HostDocuments } from "./HostDocuments";
import type { RenderCache } from "./RenderCache";

/**
 * Keeps each document's render cache (RenderCache) in step with the document: checked,
 * and rewritten when its heads differ, as soon as a thread has loaded the document, after
 * each refresh of its library entry, and before a window reads it. A wrong cache is then
 * shown at most once. Only documents of the library are cached (`listed`): one deleted
 * for good must not come back as a cache.
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
  #followingLoads = true;

  constructor(args: { cache: RenderCache; documents: HostDocuments; listed: (documentId: string) => boolean; logger: Logger }) {
    this.#cache = args.cache;
    this.#documents = args.documents;
    this.#listed = args.listed;
    this.#logger = args.logger;
  }

  /** A document finished loading, in either thread. */
  loaded(documentId: string): void {
    if (this.#followingLoads) this.queue(documentId);
  }

  /** Updates a document's cache in the background. */
  queue(documentId: string): void {
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
      this.#cachedHeads.delete(documentId);
      await this.#cache.remove(documentId).catch((error: unknown) => this.#logger.warn({ err: error, documentId }, "could not delete the render cache"));
    }
  }

  /** Stops following loads (the host is closing) and waits for the writes in flight. */
  stopFollowingLoads(): void {
    this.#followingLoads = false;
  }

  async settle(): Promise<void> {
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
