import type { AutomergeUrl, DocHandle, Repo } from "@automerge/automerge-repo";
import type { Logger } from "pino";
import type { LibraryDocument } from "../shared/library";
import type { HostDocuments } from "./HostDocuments";
import { Library } from "./Library";
import type { LibraryRefreshes } from "./LibraryRefreshes";
import type { RelaySync } from "./RelaySync";
import type { SettingsFile } from "./settings";

/** Documents fetched at once when a relay connects; more would stall the host's loop. */
const LIBRARY_FETCH_CONCURRENCY = 4;
/** How long linking a library waits for it to arrive from a relay. */
const LINK_TIMEOUT_MS = 15_000;

/** A document (or library) that neither this disk nor any connected relay has. */
export class DocumentUnavailableError extends Error {}

/**
 * The writer's library as it follows the other devices and writers: the library this
 * device uses (its own, or another device's once linked), its documents kept loaded
 * while a relay is connected so that they sync (automerge-repo only syncs documents it
 * holds), and shared documents asked for until they arrive (`Settings.wanted`), when
 * they join the library.
 */
export class LibraryFollower {
  readonly #repo: Repo;
  readonly #documents: HostDocuments;
  readonly #settings: SettingsFile;
  readonly #relays: RelaySync;
  readonly #refreshes: LibraryRefreshes;
  readonly #logger: Logger;
  #library: Library;
  /** Documents being fetched, so none is asked for twice. */
  readonly #fetching = new Set<string>();
  #unwatch: () => void = () => undefined;
  #stopped = false;

  constructor(args: { repo: Repo; library: Library; documents: HostDocuments; settings: SettingsFile; relays: RelaySync; refreshes: LibraryRefreshes; logger: Logger }) {
    this.#repo = args.repo;
    this.#library = args.library;
    this.#documents = args.documents;
    this.#settings = args.settings;
    this.#relays = args.relays;
    this.#refreshes = args.refreshes;
    this.#logger = args.logger;
    this.#watch();
  }

  get library(): Library {
    return this.#library;
  }

  /**
   * Makes this device use an existing library (another device's, found through a
   * relay). The documents this device had stay listed: they are added to it.
   */
  async link(url: AutomergeUrl): Promise<string> {
    if (url === this.#library.url) return url;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), LINK_TIMEOUT_MS);
    let handle: DocHandle<LibraryDocument>;
    try {
      handle = await this.#repo.find<LibraryDocument>(url, { signal: abort.signal });
    } catch (error) {
      throw new DocumentUnavailableError(
        abort.signal.aborted || /unavailable/i.test((error as Error).message)
          ? "That library could not be found on your relays. Check that this device is connected to the same relay as the other one, then try again."
          : (error as Error).message,
      );
    } finally {
      clearTimeout(timer);
    }
    const doc = handle.doc();
    if (!doc || typeof doc.documents !== "object" || doc.documents === null) throw new RangeError("That link is not a Writer library.");
    const linked = new Library(this.#repo, handle, Date.now, this.#documents);
    // Not the library itself, if its link was opened as a document's first.
    const adopted = linked.adopt(Object.fromEntries(Object.entries(this.#library.entries()).filter(([, e]) => e.url !== linked.url)));
    this.#unwatch();
    this.#library = linked;
    this.#watch();
    await this.#settings.update({ libraryUrl: linked.url });
    this.#logger.info({ library: linked.url, adopted }, "linked to an existing library");
    this.fetchDocuments();
    return linked.url;
  }

  /**
   * Opens a document shared by a link: one of the library joins it again (and is
   * fetched); any other is asked for, and joins the library once it is here (a link a
   * relay does not have leaves no empty entry behind).
   */
  async openShared(url: AutomergeUrl): Promise<void> {
    if (this.#library.entries()[url.slice("automerge:".length)]) {
      this.#library.addShared(url);
      this.fetchDocuments();
      return;
    }
    const wanted = this.#settings.current.wanted;
    if (!wanted.includes(url)) await this.#settings.update({ wanted: [...wanted, url].slice(-100) });
    this.#fetchWanted();
  }

  /** A change of the document reached the disk: a shared document asked for may be here. */
  saved(documentId: string): void {
    if (this.#settings.current.wanted.some((u) => u.endsWith(documentId))) void this.#arrived(documentId);
  }

  /**
   * While a relay is connected, every document of the library is kept loaded so that it
   * syncs, a few at a time; shared documents still on their way are asked for.
   */
  fetchDocuments(): void {
    this.#fetchWanted();
    if (this.#stopped || this.#relays.adapter.state.status !== "connected") return;
    const missing = Object.keys(this.#library.entries()).filter((id) => !this.#documents.held(id) && !this.#fetching.has(id));
    if (missing.length === 0) return;
    for (const id of missing) this.#fetching.add(id);
    const queue = [...missing];
    const fetchNext = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await this.#documents.hold(id);
          await this.#refreshes.refresh(id);
        } catch (error) {
          // Not on this relay (yet): it is asked for again on the next connection.
          this.#logger.info({ documentId: id, err: error }, "library document not available from the relay");
        } finally {
          this.#fetching.delete(id);
        }
      }
    };
    for (let i = 0; i < Math.min(LIBRARY_FETCH_CONCURRENCY, queue.length); i++) void fetchNext();
  }

  /** Nothing more is fetched or joins the library (the host is closing). */
  stop(): void {
    this.#stopped = true;
    this.#unwatch();
  }

  /** New entries (from another device) are fetched so that they sync and open offline. */
  #watch(): void {
    const handle = this.#repo.handles[this.#library.documentId] as DocHandle<LibraryDocument> | undefined;
    if (!handle) return;
    const onChange = () => this.fetchDocuments();
    handle.on("change", onChange);
    this.#unwatch = () => handle.off("change", onChange);
  }

  #fetchWanted(): void {
    for (const url of this.#settings.current.wanted) {
      const id = url.slice("automerge:".length);
      if (this.#fetching.has(id)) continue;
      this.#fetching.add(id);
      void this.#documents
        .hold(id)
        .then(() => this.#arrived(id))
        .catch((error: unknown) => this.#logger.info({ documentId: id, err: error }, "shared document not here yet"))
        .finally(() => this.#fetching.delete(id));
    }
  }

  /** A wanted document may be here: a Writer document joins the library; anything else is forgotten. */
  async #arrived(documentId: string): Promise<void> {
    const url = this.#settings.current.wanted.find((u) => u.slice("automerge:".length) === documentId);
    if (!url || this.#stopped) return;
    const summary = await this.#documents.loadedSummary(documentId);
    if (summary === undefined) return;
    if (summary) {
      this.#library.addShared(url as AutomergeUrl);
      this.#library.refreshSummary(documentId, summary);
    }
    await this.#settings.update({ wanted: this.#settings.current.wanted.filter((u) => u !== url) });
  }
}
