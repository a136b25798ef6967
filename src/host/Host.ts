import path from "node:path";
import fs from "node:fs/promises";
import { randomBytes } from "node:crypto";
import {
  Repo,
  type AutomergeUrl,
  type DocHandle,
  type DocumentId,
  type NetworkAdapterInterface,
  type PeerId,
  type StorageKey,
} from "@automerge/automerge-repo";
import pino, { type Logger } from "pino";
import { requestSchema, type Bootstrap, type HostMethod, type HostResponse, type HostResults, type HostStatus, type StorageProblem, type UserProfile } from "../shared/api";
import type { LibraryDocument } from "../shared/library";
import type { WriterDocument } from "../shared/document";
import { FileStorageAdapter, RetryingStorage } from "../node/storage";
import { DocumentNotFoundError, initLibrary, Library } from "./Library";
import { loadSettings, saveSettings, type Settings } from "./settings";

export interface HostOptions {
  /** Where documents and settings live; created if missing. */
  dataDir: string;
  logger?: Logger;
  /**
   * How long a change may wait before it is written to disk, in ms. automerge-repo's
   * default is 100; with the renderer's sync hop in front of it a change would take up
   * to 200 ms to reach the disk, so the host writes sooner.
   */
  saveDebounceMs?: number;
  /** Overrides the display name and colour from settings (tests, first run). */
  user?: Partial<UserProfile>;
}

/** Most problems kept for the status view; older ones are in the log. */
const MAX_PROBLEMS = 50;
/** Library metadata (title, snippet, last edit) is refreshed at most this often per document. */
const LIBRARY_REFRESH_MS = 400;

/**
 * The desktop's source of truth, in plain Node: the persistent Repo on crash-safe
 * storage, the library and the settings. Electron (src/main) and the browser shell
 * (src/host/web) wrap it; neither adds behaviour the other lacks.
 */
export class Host {
  readonly repo: Repo;
  readonly library: Library;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly #storage: RetryingStorage;
  readonly #files: FileStorageAdapter;
  readonly #settingsFile: string;
  #settings: Settings;
  readonly #problems: StorageProblem[] = [];
  #storageOk = true;
  readonly #refreshTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #closed: Promise<void> | undefined;

  private constructor(args: {
    repo: Repo;
    library: Library;
    logger: Logger;
    dataDir: string;
    storage: RetryingStorage;
    files: FileStorageAdapter;
    settingsFile: string;
    settings: Settings;
  }) {
    this.repo = args.repo;
    this.library = args.library;
    this.logger = args.logger;
    this.dataDir = args.dataDir;
    this.#storage = args.storage;
    this.#files = args.files;
    this.#settingsFile = args.settingsFile;
    this.#settings = args.settings;
  }

  /**
   * Opens the data directory (taking its single-writer lock), loads or creates the
   * library, and returns a running host. Throws DirectoryLockedError when another
   * instance already uses the directory.
   */
  static async open(options: HostOptions): Promise<Host> {
    const logger = options.logger ?? pino({ level: process.env.WRITER_LOG_LEVEL ?? "info" }, pino.destination(2));
    const dataDir = path.resolve(options.dataDir);
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    // Late-bound so that storage callbacks can reach the host once it exists.
    const ref: { host?: Host } = {};
    const early: StorageProblem[] = [];
    const report = (problem: StorageProblem) => (ref.host ? ref.host.#report(problem) : early.push(problem));

    const files = await FileStorageAdapter.open(path.join(dataDir, "documents"), {
      onCorrupt: (c) => {
        logger.error({ documentId: c.documentId, path: c.path, quarantinedTo: c.quarantinedTo, reason: c.reason }, "corrupt chunk quarantined");
        report({
          kind: "corrupt-chunk",
          documentUrl: `automerge:${c.documentId}`,
          message: `Part of a document was damaged on disk (${c.reason}). It was set aside in ${c.quarantinedTo}; the rest of the document loaded.`,
          at: Date.now(),
        });
      },
    });
    const storage = new RetryingStorage(files, {
      onSaveFailed: ({ key, error, attempt }) => {
        logger.error({ key, err: error, attempt }, "save failed; keeping the change in memory and retrying");
        if (ref.host) ref.host.#storageOk = false;
        if (attempt === 1) {
          report({
            kind: "write-failed",
            documentUrl: key[0] ? `automerge:${key[0]}` : null,
            message: `Could not save to disk: ${describeWriteError(error)}. Your changes are kept and saving is retried.`,
            at: Date.now(),
          });
        }
      },
      onRecovered: () => {
        if (ref.host && !ref.host.#storageOk) {
          ref.host.#storageOk = true;
          logger.info("saving works again; every pending change is on disk");
        }
      },
      onSaved: (key) => {
        ref.host?.documentSaved(key);
      },
    });

    const settingsFile = path.join(dataDir, "settings.json");
    const settings = await loadSettings(settingsFile, (message) => logger.error(message));
    if (options.user?.name) settings.user.name = options.user.name;
    if (options.user?.color) settings.user.color = options.user.color;

    const repo = new Repo({
      storage,
      network: [],
      peerId: `host-${randomBytes(6).toString("hex")}` as PeerId,
      saveDebounceRate: options.saveDebounceMs ?? 20,
      // Local hops (renderer, host) send every change at once: latency is a feature.
      syncDebounceRate: 0,
    });

    let libraryHandle: DocHandle<LibraryDocument>;
    if (settings.libraryUrl) {
      libraryHandle = await repo.find<LibraryDocument>(settings.libraryUrl as AutomergeUrl);
    } else {
      libraryHandle = repo.create<LibraryDocument>();
      libraryHandle.change(initLibrary);
      settings.libraryUrl = libraryHandle.url;
    }
    await saveSettings(settingsFile, settings);
    const library = new Library(repo, libraryHandle);
    const host = new Host({ repo, library, logger, dataDir, storage, files, settingsFile, settings });
    ref.host = host;
    for (const p of early) host.#report(p);
    logger.info({ dataDir, library: library.url }, "host ready");
    return host;
  }

  get settings(): Readonly<Settings> {
    return this.#settings;
  }

  status(): HostStatus {
    return { storageOk: this.#storageOk, problems: [...this.#problems] };
  }

  /** Lets a renderer (or, later, a relay connection) sync with this host's Repo. */
  connect(adapter: NetworkAdapterInterface): void {
    this.repo.networkSubsystem.addNetworkAdapter(adapter);
  }

  /**
   * Handles one request from the renderer. The payload is untrusted: it is validated
   * against the shared contract first, and errors come back as values.
   */
  async handle(payload: unknown): Promise<HostResponse<HostMethod>> {
    const parsed = requestSchema.safeParse(payload);
    if (!parsed.success) {
      return { ok: false, error: { code: "invalid-request", message: parsed.error.issues.map((i) => `${i.path.join(".") || "request"}: ${i.message}`).join("; ") } };
    }
    try {
      return { ok: true, value: await this.#dispatch(parsed.data) };
    } catch (error) {
      if (error instanceof DocumentNotFoundError) return { ok: false, error: { code: "not-found", message: error.message } };
      if (error instanceof RangeError) return { ok: false, error: { code: "invalid-request", message: error.message } };
      this.logger.error({ err: error, method: parsed.data.method }, "request failed");
      return { ok: false, error: { code: "internal", message: (error as Error).message } };
    }
  }

  async #dispatch(req: ReturnType<typeof requestSchema.parse>): Promise<HostResults[HostMethod]> {
    switch (req.method) {
      case "bootstrap":
        return this.bootstrap();
      case "createDocument":
        return { url: this.library.create(req.title ?? "") };
      case "duplicateDocument":
        return { url: await this.library.duplicate(req.url) };
      case "renameDocument":
        await this.library.rename(req.url, req.title);
        return null;
      case "trashDocument":
        this.library.trash(req.url);
        if (this.#settings.lastOpened === req.url) await this.#updateSettings({ lastOpened: null });
        return null;
      case "restoreDocument":
        this.library.restore(req.url);
        return null;
      case "deleteForever":
        this.library.deleteForever(req.url);
        return null;
      case "emptyTrash":
        return { deleted: this.library.emptyTrash() };
      case "search":
        return this.library.search(req.query);
      case "setLastOpened":
        if (req.url !== null && !this.library.entries()[req.url.slice("automerge:".length)]) throw new DocumentNotFoundError(req.url);
        await this.#updateSettings({ lastOpened: req.url });
        return null;
      case "status":
        return this.status();
    }
  }

  bootstrap(): Bootstrap {
    const s = this.#settings;
    const lastOpened = s.lastOpened && this.library.entries()[s.lastOpened.slice("automerge:".length)]?.trashedAt === null ? s.lastOpened : null;
    return { libraryUrl: this.library.url, lastOpened, user: { ...s.user }, status: this.status() };
  }

  /** Writes everything to disk, stops syncing and releases the data directory. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const t of this.#refreshTimers.values()) clearTimeout(t);
      this.#refreshTimers.clear();
      await this.repo.flush();
      await this.#storage.retryNow();
      const unsaved = this.#storage.close();
      if (unsaved.length > 0) this.logger.error({ unsaved }, "closing with changes that could not be written to disk");
      await this.repo.shutdown();
      await this.#files.close();
      this.logger.info("host closed; everything flushed");
    })();
    return this.#closed;
  }

  async #updateSettings(patch: Partial<Settings>): Promise<void> {
    this.#settings = { ...this.#settings, ...patch };
    await saveSettings(this.#settingsFile, this.#settings);
  }

  #report(problem: StorageProblem): void {
    this.#problems.push(problem);
    if (this.#problems.length > MAX_PROBLEMS) this.#problems.shift();
  }

  /** A document's chunk reached the disk: its library entry may need new metadata. */
  private documentSaved(key: StorageKey): void {
    const documentId = key[0];
    if (!documentId || key[1] === "sync-state" || documentId === this.library.documentId || this.#refreshTimers.has(documentId)) return;
    const timer = setTimeout(() => {
      this.#refreshTimers.delete(documentId);
      const handle = this.repo.handles[documentId as DocumentId] as DocHandle<WriterDocument> | undefined;
      if (!handle?.isReady()) return;
      try {
        this.library.refresh(documentId, handle.doc());
      } catch (error) {
        this.logger.warn({ err: error, documentId }, "could not refresh library entry");
      }
    }, LIBRARY_REFRESH_MS);
    timer.unref?.();
    this.#refreshTimers.set(documentId, timer);
  }
}

function describeWriteError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code ?? ((error as { cause?: NodeJS.ErrnoException }).cause?.code);
  switch (code) {
    case "ENOSPC":
      return "the disk is full";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the disk is read-only";
    default:
      return error.message;
  }
}
