import path from "node:path";
import fs from "node:fs/promises";
import { randomBytes } from "node:crypto";
import {
  isValidAutomergeUrl,
  parseAutomergeUrl,
  Repo,
  type AutomergeUrl,
  type DocHandle,
  type DocumentId,
  type NetworkAdapter,
  type NetworkAdapterInterface,
  type PeerId,
  type StorageKey,
} from "@automerge/automerge-repo";
import pino, { type Logger } from "pino";
import {
  BACKUP_MAX_BYTES,
  requestSchema,
  type Bootstrap,
  type HostMethod,
  type HostResponse,
  type HostResults,
  type HostStatus,
  type IntegrityMode,
  type SettingsView,
  type StorageProblem,
  type UserProfile,
  type RenderCacheView,
} from "../shared/api";
import type { LibraryDocument } from "../shared/library";
import { applyChangeBroadcasts } from "../shared/sync/changeBroadcast";
import { onResync, RESYNC_AFTER_MS } from "../shared/sync/resync";
import { StorageStack, TrackedStorage, type RetryingStorage } from "../node/storage";
import { RenderCache } from "./RenderCache";
import { DocumentNotFoundError, initLibrary, Library } from "./Library";
import { loadSettings, osFullName, saveSettings, type Settings } from "./settings";
import { plainTextCipher, SecretStore, type SecretCipher } from "./secrets";
import { RelaySync, relayTokenKey } from "./RelaySync";
import { DocumentWorkers } from "../node/workers/DocumentWorkers";
import { RepoDocuments } from "./documentOps";
import { HostDocuments } from "./HostDocuments";
import type { HostWorkerEvent, HostWorkerInit } from "./documentWorkerProtocol";

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
  /** How often at most a document's library entry (title, words, snippet) is refreshed, in ms (LIBRARY_REFRESH_MS). */
  libraryRefreshMs?: number;
  /** Overrides the display name and colour from settings (tests, first run). */
  user?: Partial<UserProfile>;
  /**
   * Seals relay tokens on disk. Electron passes one built on safeStorage (the OS
   * keychain); without one, tokens are kept in plain text and the settings say so.
   */
  secretCipher?: SecretCipher;
  /**
   * Long documents are loaded, synced and saved in a worker thread (issue 6). A document
   * whose chunks on disk add up to `thresholdBytes` or more goes there when it is first
   * needed; `count: 0` keeps every document on the main thread. `worker` is the worker's
   * program: the desktop build's documentWorker.js (src/main), or by default the source,
   * through tsx (documentWorkerStart.mjs). `newDocuments`: where a document this host
   * does not have yet goes (default: the worker, its length is not known).
   */
  documentWorkers?: { count?: number; thresholdBytes?: number; worker?: URL; newDocuments?: "main" | "worker" };
  /**
   * How windows check that the editor shows the document (renderer/src/editor/integrity.ts):
   * "strict" fails loudly on a mismatch (development and the tests), "repair" re-renders
   * from the document and logs it (the default). WRITER_INTEGRITY_CHECKS overrides it.
   */
  integrityChecks?: IntegrityMode;
  /**
   * Asks the writer, outside the renderer, before a relay is added or pointed at a new
   * address: every document in the library goes to it (issue 18). The desktop app shows
   * a native dialog from the main process (src/main/relayConfirm.ts), so a compromised
   * page cannot send the library to a server of its choosing. Without one (the browser
   * shell, tests) the page is trusted, and the settings say so (`RELAY_TRUST_NOTE`).
   */
  confirmRelay?: (change: RelayChange) => Promise<boolean>;
}

/** A relay change the writer confirms outside the renderer (HostOptions.confirmRelay). */
export interface RelayChange {
  kind: "add" | "move";
  name: string;
  url: string;
  /** The address it had, when it moves. */
  previousUrl?: string;
  /** Documents in the library now: all of them go to the relay. */
  documents: number;
}

/** What the settings say where nothing outside the page confirms relay changes (the browser shell). */
export const RELAY_TRUST_NOTE =
  "In the browser shell this page is trusted: anything running in it can add a relay and send it your documents. The desktop app asks you in a window of its own.";

/** The writer said no to a relay change (HostOptions.confirmRelay). */
export class NotConfirmedError extends Error {
  override readonly name = "NotConfirmedError";
}

/**
 * Documents of at least this many bytes on disk are loaded in the document worker. The
 * relay's default (sync-server/cli.ts): 16 KB of chunks take about 0.1 s to load on this
 * 2-core machine; the paper trace's 135 KB took 0.18 s grouped and 0.57 s one change per
 * keystroke (bench/long-document), during which the host answered no window.
 * WRITER_WORKER_THRESHOLD_BYTES overrides it (the tests route everything with 0).
 */
const WORKER_THRESHOLD_BYTES = 16 * 1024;
/**
 * One worker: a desktop holds a few long documents at a time, and each thread costs its
 * own Repo and Automerge heap; two long documents then wait for each other, but nothing
 * else waits for either.
 */
const WORKER_COUNT = 1;

/**
 * Keystrokes travel to other writers by the broadcast fast path
 * (src/shared/sync/changeBroadcast.ts); sync is the backstop and batches 50 ms of
 * changes per round (bench/propagation: 8 writers' keystrokes arrive in about half a
 * second at the median on a saturated 2-core machine, against 1.9 s with 0 ms).
 */
const HOST_SYNC_DEBOUNCE_MS = 50;
/** Most problems kept for the status view; older ones are in the log. */
const MAX_PROBLEMS = 50;
/** Library metadata (title, snippet, last edit) is refreshed at most this often per document. */
// Every refresh is a library change that each open window receives and re-renders its
// list for, while the writer types: once a second is plenty for a list.
const LIBRARY_REFRESH_MS = 1000;
/** The integrity mode asked for, else WRITER_INTEGRITY_CHECKS, else "repair". */
function integrityMode(asked: IntegrityMode | undefined): IntegrityMode {
  const env = process.env.WRITER_INTEGRITY_CHECKS;
  return asked ?? (env === "strict" || env === "repair" ? env : "repair");
}

/** Documents fetched at once when a relay connects; more would stall the host's loop. */
const LIBRARY_FETCH_CONCURRENCY = 4;
/** How long linking a library waits for it to arrive from a relay. */
const LINK_TIMEOUT_MS = 15_000;

/**
 * The desktop's source of truth, in plain Node: the persistent Repo on crash-safe
 * storage, the library and the settings. Electron (src/main) and the browser shell
 * (src/host/web) wrap it; neither adds behaviour the other lacks.
 */
export class Host {
  readonly repo: Repo;
  #library: Library;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly #storage: RetryingStorage;
  readonly #renderCache: RenderCache;
  /** The heads each document's render cache was last written at, by this host. */
  readonly #cachedHeads = new Map<string, string[]>();
  /** Render-cache writes in flight; close waits for them. */
  readonly #cacheWrites = new Set<Promise<void>>();
  readonly #stack: StorageStack;
  readonly #operations: TrackedStorage;
  readonly #saveDebounceMs: number;
  readonly #settingsFile: string;
  #settings: Settings;
  readonly #secrets: SecretStore;
  readonly #relays: RelaySync;
  readonly #workers: DocumentWorkers;
  /** Every writer document, in whichever thread holds it. */
  readonly #documents: HostDocuments;
  /** Documents of the library being fetched from a relay, so none is asked for twice. */
  readonly #fetching = new Set<string>();
  /** Peers connected through a window's adapter (connect), not through a relay. */
  readonly #windowPeers = new Set<string>();
  #unsubscribeLibrary: () => void = () => undefined;
  readonly #problems: StorageProblem[] = [];
  /** The storages (the main thread's, the document worker's) whose saves are failing now. */
  readonly #failingStorage = new Set<"main" | "worker">();
  /** Documents whose library entry is due for a refresh, with its timer (none once closing). */
  readonly #refreshTimers = new Map<string, ReturnType<typeof setTimeout> | undefined>();
  readonly #libraryRefreshMs: number;
  /** When each document's library entry was last refreshed (for the throttle in documentSaved). */
  readonly #refreshedAt = new Map<string, number>();
  /** When each document due for a refresh last had a change reach the disk. */
  readonly #savedAt = new Map<string, number>();
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Told to every window at bootstrap. */
  readonly integrityChecks: IntegrityMode;
  readonly #confirmRelayChange: HostOptions["confirmRelay"];

  private constructor(args: {
    repo: Repo;
    library: Library;
    logger: Logger;
    dataDir: string;
    stack: StorageStack;
    operations: TrackedStorage;
    saveDebounceMs: number;
    settingsFile: string;
    settings: Settings;
    secrets: SecretStore;
    relays: RelaySync;
    workers: DocumentWorkers;
    documents: HostDocuments;
    renderCache: RenderCache;
    integrityChecks: IntegrityMode;
    libraryRefreshMs: number;
    confirmRelay: HostOptions["confirmRelay"];
  }) {
    this.#libraryRefreshMs = args.libraryRefreshMs;
    this.#confirmRelayChange = args.confirmRelay;
    this.repo = args.repo;
    this.#library = args.library;
    this.logger = args.logger;
    this.dataDir = args.dataDir;
    this.#storage = args.stack.retrying;
    this.#stack = args.stack;
    this.#operations = args.operations;
    this.#saveDebounceMs = args.saveDebounceMs;
    this.#settingsFile = args.settingsFile;
    this.#settings = args.settings;
    this.#secrets = args.secrets;
    this.#relays = args.relays;
    this.#workers = args.workers;
    this.#documents = args.documents;
    this.#renderCache = args.renderCache;
    this.integrityChecks = args.integrityChecks;
    // Each document's cache is checked against the document (and rewritten when its
    // heads differ) as soon as the host has it: a wrong cache is shown at most once.
    this.repo.on("doc-metrics", (event) => {
      if (event.type !== "doc-loaded") return;
      const handle = this.repo.handles[event.documentId];
      handle?.whenReady().then(
        () => this.#documentLoaded(event.documentId),
        () => undefined,
      );
    });
    // Windows ask for the documents they show; nothing is pushed to them. automerge-repo's
    // default announces every document the host holds to every new peer: each window
    // that opened (or reloaded) then received the whole history of every document loaded
    // here, through sync, before its own (a long one: 442 KB, about 0.4 s of the window's
    // thread, and the host's to send it). Relays still get everything announced.
    this.repo.sharePolicy = async (peerId) => !this.#windowPeers.has(peerId);
    this.#watchLibrary();
  }

  get library(): Library {
    return this.#library;
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
    const renames: ((host: Host) => void)[] = [];
    const report = (problem: StorageProblem) => (ref.host ? ref.host.#report(problem) : early.push(problem));

    // The storage's reports, from the main thread's storage and from the document worker's.
    const onCorrupt = (c: { documentId: string; path: string; quarantinedTo: string; reason: string }) => {
      logger.error({ documentId: c.documentId, path: c.path, quarantinedTo: c.quarantinedTo, reason: c.reason }, "corrupt chunk quarantined");
      // Named once the host is up (the library knows titles); a chunk found damaged while
      // opening is named when the host reports what it met on the way.
      const problem: StorageProblem = { kind: "corrupt-chunk", documentUrl: `automerge:${c.documentId}`, message: "", at: Date.now() };
      const describe = (host?: Host) =>
        `Part of ${host ? host.#describeDocument(c.documentId) : `the document automerge:${c.documentId}`} was damaged on disk (${c.reason}). It was set aside in ${c.quarantinedTo}; the rest of it loaded, and a relay that has it restores what was lost.`;
      problem.message = describe(ref.host);
      if (!ref.host) renames.push((host) => (problem.message = describe(host)));
      report(problem);
    };
    const onSaveFailed = (where: "main" | "worker", { key, error, attempt }: { key: StorageKey; error: Error; attempt: number }) => {
      logger.error({ key, err: error, attempt }, "save failed; keeping the change in memory and retrying");
      if (ref.host) ref.host.#failingStorage.add(where);
      if (attempt === 1) {
        report({
          kind: "write-failed",
          documentUrl: key[0] ? `automerge:${key[0]}` : null,
          message: `Could not save to disk: ${describeWriteError(error)}. Your changes are kept and saving is retried.`,
          at: Date.now(),
        });
      }
    };
    const onRecovered = (where: "main" | "worker") => {
      if (ref.host && ref.host.#failingStorage.delete(where) && ref.host.#failingStorage.size === 0) {
        logger.info("saving works again; every pending change is on disk");
      }
    };
    const stack = await StorageStack.open({
      backend: { kind: "files", dir: path.join(dataDir, "documents") },
      onCorrupt,
      onSaveFailed: (failure) => onSaveFailed("main", failure),
      onRecovered: () => onRecovered("main"),
      onSaved: (key) => {
        ref.host?.documentSaved(key);
      },
    });
    const storage = stack.retrying;

    const saveDebounceMs = options.saveDebounceMs ?? 20;
    const operations = new TrackedStorage(storage);
    let repo: Repo | undefined;
    let workers: DocumentWorkers | undefined;
    try {
      const settingsFile = path.join(dataDir, "settings.json");
      const settings = await loadSettings(settingsFile, (message) => logger.error(message));
      if (options.user?.name) settings.user = { ...settings.user, name: options.user.name, confirmed: true };
      if (options.user?.color) settings.user.color = options.user.color;
      const secrets = await SecretStore.open(
        path.join(dataDir, "secrets.json"),
        options.secretCipher ?? plainTextCipher("This copy of Writer has no access to a keychain, so relay tokens are stored unencrypted in its data folder (readable by your user only)."),
        (message) => logger.error(message),
      );
      if (secrets.weakness) logger.info({ backend: secrets.backend }, secrets.weakness);
      const relays = new RelaySync({
        relays: settings.relays,
        secrets,
        logger,
        onConnected: () => ref.host?.fetchLibraryDocuments(),
      });

      const peerId = `host-${randomBytes(6).toString("hex")}` as PeerId;
      const repoRef: { repo?: Repo } = {};
      const thresholdFromEnv = process.env.WRITER_WORKER_THRESHOLD_BYTES;
      workers = new DocumentWorkers({
        count: options.documentWorkers?.count ?? WORKER_COUNT,
        thresholdBytes: options.documentWorkers?.thresholdBytes ?? (thresholdFromEnv && /^\d+$/.test(thresholdFromEnv) ? Number(thresholdFromEnv) : WORKER_THRESHOLD_BYTES),
        sizeOnDisk: (documentId) => stack.backend.sizeOnDisk(documentId),
        // A document this host does not have yet (a shared link, another device's
        // library) arrives from a relay, at whatever length: in the worker.
        newDocuments: options.documentWorkers?.newDocuments ?? "worker",
        worker: options.documentWorkers?.worker ?? new URL("./documentWorkerStart.mjs", import.meta.url),
        workerData: {
          documentsDir: stack.dir,
          dataDir,
          peerId,
          saveDebounceMs,
          syncDebounceMs: HOST_SYNC_DEBOUNCE_MS,
        } satisfies Omit<HostWorkerInit, "index">,
        logger,
        inMain: (documentId) => repoRef.repo?.handles[documentId as DocumentId] !== undefined,
        // Windows ask for what they show; everything is announced to relays (as below).
        isRelayPeer: (id) => !(ref.host && ref.host.#windowPeers.has(id)),
        onEvent: (event) => {
          const e = event as HostWorkerEvent;
          switch (e.t) {
            case "saved":
              return ref.host?.documentSaved(e.key);
            case "loaded":
              return ref.host && ref.host.#documentLoaded(e.documentId);
            case "save-failed":
              return onSaveFailed("worker", { key: e.key, error: Object.assign(new Error(e.message), { code: e.code }), attempt: e.attempt });
            case "recovered":
              return onRecovered("worker");
            case "corrupt":
              return onCorrupt(e);
          }
        },
      });
      // A worker thread costs its own Repo and Automerge heap, and CPU to start: it starts
      // (in the background) when a document is first routed to it. The document the window
      // reopens is routed now, so that a long one has its worker up by the time it is asked for.
      const reopens = settings.lastOpened?.startsWith("automerge:") ? settings.lastOpened.slice("automerge:".length) : undefined;
      if (reopens) await workers.ownerOf(reopens).catch((error: unknown) => logger.warn({ err: error, documentId: reopens }, "could not size the document to reopen"));

      repo = repoRef.repo = new Repo({
        storage: operations,
        network: [workers.wrap(relays.adapter)],
        peerId,
        saveDebounceRate: saveDebounceMs,
        syncDebounceRate: HOST_SYNC_DEBOUNCE_MS,
        resyncAfterMs: RESYNC_AFTER_MS,
      });
      onResync(repo, (e) => logger.warn(e, "sync with a peer stalled; sent everything again"));

      let libraryHandle: DocHandle<LibraryDocument>;
      if (settings.libraryUrl) {
        libraryHandle = await repo.find<LibraryDocument>(settings.libraryUrl as AutomergeUrl);
      } else {
        libraryHandle = repo.create<LibraryDocument>();
        libraryHandle.change(initLibrary);
        settings.libraryUrl = libraryHandle.url;
      }
      await saveSettings(settingsFile, settings);
      const renderCache = new RenderCache(dataDir);
      const documents = new HostDocuments(new RepoDocuments(repo, { renderCache, saves: storage, storage: operations }), workers);
      const library = new Library(repo, libraryHandle, Date.now, documents);
      const host = new Host({ repo, library, logger, dataDir, stack, operations, saveDebounceMs, settingsFile, settings, secrets, relays, workers, documents, renderCache, integrityChecks: integrityMode(options.integrityChecks), libraryRefreshMs: options.libraryRefreshMs ?? LIBRARY_REFRESH_MS, confirmRelay: options.confirmRelay });
      ref.host = host;
      for (const rename of renames) rename(host);
      for (const p of early) host.#report(p);
      logger.info({ dataDir, library: library.url }, "host ready");
      return host;
    } catch (error) {
      // A start that failed (an unreadable library, a settings file that cannot be
      // written) must not leave the directory locked: a retry would be refused.
      await repo?.shutdown().catch(() => undefined);
      await workers?.close().catch(() => undefined);
      await operations.settle(saveDebounceMs + 10);
      await stack.close();
      throw error;
    }
  }

  /** Whether the document worker thread is running (it starts when a long document first needs it). */
  get documentWorkerStarted(): boolean {
    return this.#workers.started;
  }

  get settings(): Readonly<Settings> {
    return this.#settings;
  }

  status(): HostStatus {
    return { storageOk: this.#failingStorage.size === 0, problems: [...this.#problems] };
  }

  /** Lets a renderer (or, later, a relay connection) sync with this host's Repo. */
  connect(adapter: NetworkAdapterInterface): void {
    // The renderer's keystroke broadcasts are taken in here as well as forwarded: on
    // disk within the save debounce, however the renderer's sync is throttled.
    applyChangeBroadcasts(this.repo, adapter, {
      defer: setImmediate,
      onError: (error) => this.logger.warn({ err: error }, "a broadcast change did not apply; sync will bring it"),
    });
    // Before the Repo and the document worker hear of a peer (listeners run in order), so
    // that their share policies know.
    adapter.on("peer-candidate", ({ peerId }) => this.#windowPeers.add(peerId));
    adapter.on("peer-disconnected", ({ peerId }) => this.#windowPeers.delete(peerId));
    this.repo.networkSubsystem.addNetworkAdapter(this.#workers.wrap(adapter as NetworkAdapter));
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
      if (error instanceof DocumentUnavailableError) return { ok: false, error: { code: "unavailable", message: error.message } };
      if (error instanceof RangeError) return { ok: false, error: { code: "invalid-request", message: error.message } };
      if (error instanceof NotConfirmedError) return { ok: false, error: { code: "not-confirmed", message: error.message } };
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
        await this.library.deleteForever(req.url);
        await this.#forgetRenderCache([req.url]);
        return null;
      case "emptyTrash": {
        // Deleted for good means its text is gone from the disk, cache included.
        const trashed = Object.values(this.library.entries()).filter((e) => e.trashedAt !== null).map((e) => e.url);
        const deleted = await this.library.emptyTrash();
        await this.#forgetRenderCache(trashed);
        return { deleted };
      }
      case "search":
        return this.library.search(req.query);
      case "setLastOpened":
        // A shared document still on its way counts: it reopens once it is here.
        if (req.url !== null && !this.library.entries()[req.url.slice("automerge:".length)] && !this.#settings.wanted.includes(req.url)) throw new DocumentNotFoundError(req.url);
        await this.#updateSettings({ lastOpened: req.url });
        return null;
      case "status":
        return this.status();
      case "reconnectNow":
        this.#relays.retryNow();
        return null;
      case "reportDrift":
        // Positions and what happened, never the writer's text: logs get shared.
        this.logger.warn({ url: req.url, at: req.at, after: req.after }, "a window's editor drifted from the document and was re-rendered from it");
        return null;
      case "renderCache":
        return this.renderCache(req.url);
      case "savedDocument":
        return this.savedDocument(req.url);
      case "confirmSaved":
        return { saved: await this.confirmSaved(req.url, req.heads) };
      case "syncStatus":
        return this.#relays.status(
          req.url ? parseAutomergeUrl(req.url as AutomergeUrl).documentId : null,
          await this.#documents.relayConfirmed(this.#relays.connectedStorageId),
        );
      case "getSettings":
        return this.settingsView();
      case "setProfile":
        await this.#updateSettings({ user: { name: req.name, color: req.color, confirmed: true } });
        return null;
      case "addRelay":
        return { id: await this.addRelay(req) };
      case "updateRelay":
        await this.#updateRelay(req);
        return null;
      case "removeRelay":
        await this.#removeRelay(req.id);
        return null;
      case "moveRelay": {
        const relays = [...this.#settings.relays];
        const from = relays.findIndex((r) => r.id === req.id);
        if (from < 0) throw new RangeError("No such relay.");
        const [moved] = relays.splice(from, 1);
        relays.splice(Math.min(req.index, relays.length), 0, moved!);
        await this.#setRelays(relays);
        return null;
      }
      case "importBackup":
        // The copy's new title is the importing writer's change, named so in its history.
        return this.library.importBackup(new Uint8Array(Buffer.from(req.data, "base64")), req.existing ?? "ask", {
          name: this.#settings.user.name,
          color: this.#settings.user.color,
          writer: this.#settings.writerId,
        });
      case "openSharedDocument": {
        const url = checkedUrl(req.url);
        if (this.library.entries()[url.slice("automerge:".length)]) {
          this.#library.addShared(url);
          this.fetchLibraryDocuments();
        } else {
          // Nothing joins the library until the document is here (issue 17: each link a
          // relay did not have left an "Untitled · Empty" entry behind).
          if (!this.#settings.wanted.includes(url)) await this.#updateSettings({ wanted: [...this.#settings.wanted, url].slice(-100) });
          this.#fetchWanted();
        }
        return { url: req.url };
      }
      case "linkLibrary":
        return { libraryUrl: await this.linkLibrary(checkedUrl(req.url)) };
    }
  }

  /**
   * Whether every change named by `heads` is on this computer's disk: flushes the
   * document, then checks that the host has those changes and no save of it is still
   * waiting for a failing disk. The renderer's "Saved" indicator shows only this answer.
   */
  async confirmSaved(url: string, heads: string[]): Promise<boolean> {
    return this.#documents.confirmSaved(url.slice("automerge:".length), heads);
  }

  /**
   * The document's render cache, for the window to show while the document loads. When
   * the host already has the document, the cache is checked against it first (and
   * rewritten when its heads differ), so that only the document's own text is shown.
   */
  async renderCache(url: string): Promise<RenderCacheView | null> {
    const documentId = url.slice("automerge:".length);
    await this.#updateRenderCache(documentId);
    return this.#renderCache.read(documentId);
  }

  /**
   * The document's saved chunks (snapshots, then incrementals: what automerge-repo's own
   * load reads), for the window to load (issue 6). A window that asks the host's Repo for
   * a document it does not have receives the whole history through sync, change by
   * change: for the paper trace that is 442 KB and about 0.6 s of generating and applying
   * (grouped), 1.2 MB and 2.7 s (one change per keystroke), where `Automerge.load` of the
   * saved 135 KB takes 0.18 s and 0.57 s. Read from disk rather than saved from memory:
   * it costs this thread no Automerge work, and whatever is newer (not yet written) comes
   * by the sync that follows. Only documents of the library; null otherwise, or when it
   * is not on this disk, or larger than a backup may be.
   */
  async savedDocument(url: string): Promise<{ base64: string } | null> {
    const documentId = url.slice("automerge:".length);
    if (!this.#library.entries()[documentId]) return null;
    const parts: Uint8Array[] = [];
    let size = 0;
    for (const kind of ["snapshot", "incremental"]) {
      for (const chunk of await this.#storage.loadRange([documentId, kind])) {
        if (!chunk.data) continue;
        parts.push(chunk.data);
        size += chunk.data.length;
        if (size > BACKUP_MAX_BYTES) return null;
      }
    }
    if (parts.length === 0) return null;
    return { base64: Buffer.concat(parts).toString("base64") };
  }

  async #forgetRenderCache(urls: string[]): Promise<void> {
    for (const url of urls) {
      const documentId = url.slice("automerge:".length);
      this.#cachedHeads.delete(documentId);
      await this.#renderCache.remove(documentId).catch((error: unknown) => this.logger.warn({ err: error, documentId }, "could not delete the render cache"));
    }
  }

  /** A document finished loading, in either thread. */
  #documentLoaded(documentId: string): void {
    if (this.#closing || documentId === this.#library.documentId) return;
    this.#queueRenderCacheUpdate(documentId);
  }

  /** Updates a document's render cache in the background; close waits for it. */
  #queueRenderCacheUpdate(documentId: string): void {
    const write = this.#updateRenderCache(documentId).finally(() => this.#cacheWrites.delete(write));
    this.#cacheWrites.add(write);
  }

  /** Rewrites the render cache of a loaded document whose heads moved, where it is loaded. */
  async #updateRenderCache(documentId: string): Promise<void> {
    try {
      // Only listed documents (one deleted for good must not come back as a cache).
      if (!this.library.entries()[documentId]) return;
      const heads = await this.#documents.updateRenderCache(documentId, this.#cachedHeads.get(documentId));
      if (heads) this.#cachedHeads.set(documentId, heads);
    } catch (error) {
      this.logger.warn({ err: error, documentId }, "could not write the render cache");
    }
  }

  settingsView(): SettingsView {
    return {
      user: { name: this.#settings.user.name, color: this.#settings.user.color },
      relays: this.#settings.relays.map((r) => ({ ...r, hasToken: this.#secrets.has(relayTokenKey(r.id)) })),
      libraryUrl: this.#library.url,
      secrets: { backend: this.#secrets.backend, weakness: this.#secrets.weakness },
      relayTrust: this.#confirmRelayChange ? null : RELAY_TRUST_NOTE,
    };
  }

  /** Adds a relay at the end of the list; its token goes to the SecretStore only. */
  async addRelay(relay: { name: string; url: string; token: string | null }): Promise<string> {
    if (this.#settings.relays.some((r) => r.url === relay.url)) throw new RangeError(`${relay.url} is already in your relays.`);
    await this.#confirmRelay({ kind: "add", name: relay.name, url: relay.url });
    const id = randomBytes(8).toString("hex");
    if (relay.token) await this.#secrets.set(relayTokenKey(id), relay.token);
    await this.#setRelays([...this.#settings.relays, { id, name: relay.name, url: relay.url }]);
    return id;
  }

  async #updateRelay(update: { id: string; name?: string; url?: string; token?: string | null }): Promise<void> {
    const relays = this.#settings.relays.map((r) => ({ ...r }));
    const relay = relays.find((r) => r.id === update.id);
    if (!relay) throw new RangeError("No such relay.");
    if (update.url !== undefined && relays.some((r) => r.id !== update.id && r.url === update.url)) throw new RangeError(`${update.url} is already in your relays.`);
    // A token belongs to the relay it was issued for: a new address without a new token
    // drops the old one, or whoever can call this (a page taken over by a hostile
    // document) could send the writer's token to a server of its choosing.
    const moved = update.url !== undefined && update.url !== relay.url;
    if (moved) await this.#confirmRelay({ kind: "move", name: update.name ?? relay.name, url: update.url!, previousUrl: relay.url });
    if (update.name !== undefined) relay.name = update.name;
    if (update.url !== undefined) relay.url = update.url;
    if (update.token === null || (moved && update.token === undefined)) await this.#secrets.delete(relayTokenKey(relay.id));
    else if (update.token !== undefined) await this.#secrets.set(relayTokenKey(relay.id), update.token);
    await this.#setRelays(relays);
  }

  /** Asks the writer outside the renderer, when the app can (HostOptions.confirmRelay); throws if they say no. */
  async #confirmRelay(change: Omit<RelayChange, "documents">): Promise<void> {
    const confirm = this.#confirmRelayChange;
    if (!confirm) return;
    const documents = Object.keys(this.#library.entries()).length;
    if (!(await confirm({ ...change, documents }))) {
      this.logger.info({ url: change.url, kind: change.kind }, "relay change not confirmed by the writer");
      throw new NotConfirmedError(change.kind === "add" ? `${change.name} was not added: you did not confirm it.` : `${change.name} keeps its address: you did not confirm the new one.`);
    }
  }

  async #removeRelay(id: string): Promise<void> {
    if (!this.#settings.relays.some((r) => r.id === id)) throw new RangeError("No such relay.");
    await this.#secrets.delete(relayTokenKey(id));
    await this.#setRelays(this.#settings.relays.filter((r) => r.id !== id));
  }

  async #setRelays(relays: Settings["relays"]): Promise<void> {
    await this.#updateSettings({ relays });
    this.#relays.update(relays);
  }

  /**
   * Makes this device use an existing library (another device's, found through a
   * relay). The documents this device had stay listed: they are added to it.
   */
  async linkLibrary(url: AutomergeUrl): Promise<string> {
    if (url === this.#library.url) return url;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), LINK_TIMEOUT_MS);
    let handle: DocHandle<LibraryDocument>;
    try {
      handle = await this.repo.find<LibraryDocument>(url, { signal: abort.signal });
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
    const linked = new Library(this.repo, handle, Date.now, this.#documents);
    // Not the library itself, if its link was opened as a document's first.
    const adopted = linked.adopt(Object.fromEntries(Object.entries(this.#library.entries()).filter(([, e]) => e.url !== linked.url)));
    this.#unsubscribeLibrary();
    this.#library = linked;
    this.#watchLibrary();
    await this.#updateSettings({ libraryUrl: linked.url });
    this.logger.info({ library: linked.url, adopted }, "linked to an existing library");
    this.fetchLibraryDocuments();
    return linked.url;
  }

  /** New entries (from another device) are fetched so that they sync and open offline. */
  #watchLibrary(): void {
    const handle = this.repo.handles[this.#library.documentId] as DocHandle<LibraryDocument> | undefined;
    if (!handle) return;
    const onChange = () => this.fetchLibraryDocuments();
    handle.on("change", onChange);
    this.#unsubscribeLibrary = () => handle.off("change", onChange);
  }

  /**
   * While a relay is connected, every document of the library is kept loaded so that
   * it syncs (automerge-repo only syncs documents it holds in memory), a few at a time.
   */
  /** Asks for the shared documents still on their way (`Settings.wanted`). */
  #fetchWanted(): void {
    for (const url of this.#settings.wanted) {
      const id = url.slice("automerge:".length);
      if (this.#fetching.has(id)) continue;
      this.#fetching.add(id);
      void this.#documents
        .hold(id)
        .then(() => this.#arrived(id))
        .catch((error: unknown) => this.logger.info({ documentId: id, err: error }, "shared document not here yet"))
        .finally(() => this.#fetching.delete(id));
    }
  }

  /** A wanted document may be here: a Writer document joins the library; anything else is forgotten. */
  async #arrived(documentId: string): Promise<void> {
    const url = this.#settings.wanted.find((u) => u.slice("automerge:".length) === documentId);
    if (!url || this.#closing) return;
    const summary = await this.#documents.loadedSummary(documentId);
    if (summary === undefined) return;
    if (summary) {
      this.#library.addShared(url as AutomergeUrl);
      this.library.refreshSummary(documentId, summary);
    }
    await this.#updateSettings({ wanted: this.#settings.wanted.filter((u) => u !== url) });
  }

  private fetchLibraryDocuments(): void {
    this.#fetchWanted();
    if (this.#closing || this.#relays.adapter.state.status !== "connected") return;
    const missing = Object.keys(this.#library.entries()).filter((id) => !this.#documents.held(id) && !this.#fetching.has(id));
    if (missing.length === 0) return;
    for (const id of missing) this.#fetching.add(id);
    const queue = [...missing];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await this.#documents.hold(id);
          await this.#refresh(id);
        } catch (error) {
          // Not on this relay (yet): it is asked for again on the next connection.
          this.logger.info({ documentId: id, err: error }, "library document not available from the relay");
        } finally {
          this.#fetching.delete(id);
        }
      }
    };
    for (let i = 0; i < Math.min(LIBRARY_FETCH_CONCURRENCY, queue.length); i++) void worker();
  }

  bootstrap(): Bootstrap {
    const s = this.#settings;
    const lastOpened = s.lastOpened && this.library.entries()[s.lastOpened.slice("automerge:".length)]?.trashedAt === null ? s.lastOpened : null;
    return {
      libraryUrl: this.library.url,
      lastOpened,
      user: { name: s.user.name, color: s.user.color },
      nameConfirmed: s.user.confirmed,
      suggestedName: s.user.confirmed ? "" : osFullName(),
      writerId: s.writerId,
      status: this.status(),
      integrityChecks: this.integrityChecks,
    };
  }

  /** Writes everything to disk, stops syncing and releases the data directory. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      // From now on, refreshes are only collected; they run below, before the last flush.
      this.#closing = true;
      this.#relays.stop();
      // Disconnects first, so that no change arrives after the flush, then flushes.
      await this.repo.shutdown();
      // Repo.flush() does not wait for saves automerge-repo started on its own (a
      // throttled save due any moment, a compaction still removing old chunks): wait
      // for them, or they would reach the files after close and fail.
      await this.#operations.settle(this.#saveDebounceMs + 10);
      // Library entries due for a refresh are refreshed now rather than dropped:
      // otherwise an edit made just before quitting never reaches the list.
      const due = [...this.#refreshTimers];
      this.#refreshTimers.clear();
      for (const [, timer] of due) clearTimeout(timer);
      await Promise.all(due.map(([documentId]) => this.#refresh(documentId)));
      if (due.length > 0) {
        await this.repo.flush();
        await this.#operations.settle(this.#saveDebounceMs + 10);
      }
      await Promise.all(this.#cacheWrites);
      // The document worker writes out the long documents and lets go of the files.
      const unsavedInWorkers = await this.#workers.close();
      const unsaved = [...(await this.#stack.close()), ...unsavedInWorkers];
      if (unsaved.length > 0) this.logger.error({ unsaved }, "closing with changes that could not be written to disk");
      this.logger.info("host closed; everything flushed");
    })();
    return this.#closed;
  }

  async #updateSettings(patch: Partial<Settings>): Promise<void> {
    this.#settings = { ...this.#settings, ...patch };
    await saveSettings(this.#settingsFile, this.#settings);
  }

  /** How the writer knows a document: “its title” (and its link), or what it is for. */
  #describeDocument(documentId: string): string {
    if (documentId === this.#library.documentId) return "your library (the list of your documents)";
    const title = this.#library.entries()[documentId]?.title;
    return title ? `“${title}” (automerge:${documentId})` : `an untitled document (automerge:${documentId})`;
  }

  #report(problem: StorageProblem): void {
    this.#problems.push(problem);
    if (this.#problems.length > MAX_PROBLEMS) this.#problems.shift();
  }

  /** A document's chunk reached the disk: its library entry may need new metadata. */
  private documentSaved(key: StorageKey): void {
    const documentId = key[0];
    if (!documentId || key[1] === "sync-state" || documentId === this.library.documentId) return;
    // The entry's last-edit time is when the change reached the disk, not when the
    // refresh ran: refreshes finish in any order (a document worker answers late on a
    // busy machine), and the list is ordered by this time.
    this.#savedAt.set(documentId, Date.now());
    if (this.#settings.wanted.some((u) => u.endsWith(documentId))) void this.#arrived(documentId);
    if (this.#refreshTimers.has(documentId)) return;
    if (this.#closing) {
      this.#refreshTimers.set(documentId, undefined);
      return;
    }
    // The first change after a quiet while shows at once (an import's words, a
    // collaborator's first sentence); later ones at most once per #libraryRefreshMs.
    const wait = Math.max(0, (this.#refreshedAt.get(documentId) ?? -Infinity) + this.#libraryRefreshMs - Date.now());
    const timer = setTimeout(() => {
      // While closing, close() runs the refresh itself, in order with its last flush.
      if (this.#closing) return;
      this.#refreshTimers.delete(documentId);
      this.#refreshedAt.set(documentId, Date.now());
      void this.#refresh(documentId);
    }, wait);
    timer.unref?.();
    this.#refreshTimers.set(documentId, timer);
  }

  /** Brings a loaded document's library entry and render cache up to date (nothing is loaded for it). */
  async #refresh(documentId: string): Promise<void> {
    try {
      const savedAt = this.#savedAt.get(documentId);
      const summary = await this.#documents.loadedSummary(documentId);
      if (summary === undefined) return;
      if (this.#savedAt.get(documentId) === savedAt) this.#savedAt.delete(documentId);
      if (summary) this.library.refreshSummary(documentId, summary, savedAt);
    } catch (error) {
      this.logger.warn({ err: error, documentId }, "could not refresh library entry");
      return;
    }
    // The first paint of its next opening follows the document, at the same pace.
    this.#queueRenderCacheUpdate(documentId);
  }
}

/** A link's checksum is checked before it goes anywhere: a link cut short is the writer's to fix. */
function checkedUrl(url: string): AutomergeUrl {
  if (!isValidAutomergeUrl(url)) throw new RangeError("That link is damaged or cut short; copy it again.");
  return url;
}

/** A document (or library) that neither this disk nor any connected relay has. */
class DocumentUnavailableError extends Error {}

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
