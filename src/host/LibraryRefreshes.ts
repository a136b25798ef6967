import type { Logger } from "pino";
import type { HostDocuments } from "./HostDocuments";
import type { Library } from "./Library";
import type { RenderCacheUpdates } from "./RenderCacheUpdates";

/**
 * Keeps each document's library entry (title, words, snippet, last edit) following the
 * document as its changes reach the disk, at most once per `everyMs` per document: every
 * refresh is a library change that each open window receives and re-renders its list
 * for, while the writer types. Nothing is loaded for a refresh: only documents a thread
 * holds are summarised.
 */
export class LibraryRefreshes {
  readonly #documents: HostDocuments;
  readonly #library: () => Library;
  readonly #renderCache: RenderCacheUpdates;
  readonly #everyMs: number;
  readonly #logger: Logger;
  /** Documents whose entry is due for a refresh, with its timer (none once stopped). */
  readonly #timers = new Map<string, ReturnType<typeof setTimeout> | undefined>();
  /** When each document's entry was last refreshed. */
  readonly #refreshedAt = new Map<string, number>();
  /** When each document due for a refresh last had a change reach the disk. */
  readonly #savedAt = new Map<string, number>();
  #stopped = false;

  constructor(args: { documents: HostDocuments; library: () => Library; renderCache: RenderCacheUpdates; everyMs: number; logger: Logger }) {
    this.#documents = args.documents;
    this.#library = args.library;
    this.#renderCache = args.renderCache;
    this.#everyMs = args.everyMs;
    this.#logger = args.logger;
  }

  /** A change of the document reached the disk. */
  saved(documentId: string): void {
    // The entry's last-edit time is when the change reached the disk, not when the
    // refresh ran: refreshes finish in any order (a document worker answers late on a
    // busy machine), and the list is ordered by this time.
    this.#savedAt.set(documentId, Date.now());
    if (this.#timers.has(documentId)) return;
    if (this.#stopped) {
      this.#timers.set(documentId, undefined);
      return;
    }
    // The first change after a quiet while shows at once (an import's words, a
    // collaborator's first sentence); later ones at most once per #everyMs.
    const wait = Math.max(0, (this.#refreshedAt.get(documentId) ?? -Infinity) + this.#everyMs - Date.now());
    const timer = setTimeout(() => {
      // Once stopped, the refresh runs in `refreshDue`, in order with the host's last flush.
      if (this.#stopped) return;
      this.#timers.delete(documentId);
      this.#refreshedAt.set(documentId, Date.now());
      void this.refresh(documentId);
    }, wait);
    timer.unref?.();
    this.#timers.set(documentId, timer);
  }

  /** Brings a loaded document's library entry and render cache up to date. */
  async refresh(documentId: string): Promise<void> {
    try {
      const savedAt = this.#savedAt.get(documentId);
      const summary = await this.#documents.loadedSummary(documentId);
      if (summary === undefined) return;
      if (this.#savedAt.get(documentId) === savedAt) this.#savedAt.delete(documentId);
      if (summary) this.#library().refreshSummary(documentId, summary, savedAt);
    } catch (error) {
      this.#logger.warn({ err: error, documentId }, "could not refresh library entry");
      return;
    }
    // The first paint of its next opening follows the document, at the same pace.
    this.#renderCache.queue(documentId);
  }

  /** No timer runs from now on: refreshes that fall due are collected for `refreshDue`. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Runs every refresh that is due now rather than dropping it (an edit made just before
   * quitting must reach the list). Says whether there were any.
   */
  async refreshDue(): Promise<boolean> {
    const due = [...this.#timers];
    this.#timers.clear();
    for (const [, timer] of due) clearTimeout(timer);
    await Promise.all(due.map(([documentId]) => this.refresh(documentId)));
    return due.length > 0;
  }
}
