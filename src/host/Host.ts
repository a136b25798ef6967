import path from "node:path";
import { randomBytes } from "node:crypto";
import { Repo, type AutomergeUrl, type DocHandle, type DocumentId, type NetworkAdapter, type NetworkAdapterInterface, type PeerId, type StorageKey } from "@automerge/automerge-repo";
import pino, { type Logger } from "pino";
import type { HostMethod, HostResponse, HostStatus, IntegrityMode, UserProfile } from "../shared/api";
import type { LibraryDocument } from "../shared/library";
import { applyChangeBroadcasts } from "../shared/sync/changeBroadcast";
import { onResync, RESYNC_AFTER_MS } from "../shared/sync/resync";
import { makeDirectory } from "../node/atomicFile";
import { StorageStack, TrackedStorage } from "../node/storage";
import { DocumentWorkers } from "../node/workers/DocumentWorkers";
import { RenderCache } from "./RenderCache";
import { initLibrary, Library } from "./Library";
import { loadSettings, SettingsFile, type Settings } from "./settings";
import { plainTextCipher, SecretStore, type SecretCipher } from "./secrets";
import { RelaySync } from "./RelaySync";
import { RepoDocuments } from "./documentOps";
import { HostDocuments } from "./HostDocuments";
import { HostApi, hostHandlers } from "./HostApi";
import { LibraryFollower } from "./LibraryFollower";
import { LibraryRefreshes } from "./LibraryRefreshes";
import { RelaySettings, type ConfirmRelay } from "./RelaySettings";
import { RenderCacheUpdates } from "./RenderCacheUpdates";
import { StorageProblems } from "./StorageProblems";
import type { HostWorkerContract } from "./workers/protocol";

export interface HostOptions {
  /** Where documents and settings live; created if missing. */
  dataDir: string;
  logger?: Logger;
  /**
   * How long a change may wait before it is written to disk, in ms. automerge-repo's
   * default is 100; with the renderer's sync hop in front of it a change would take up
   * to twice that to reach the disk, so the host writes sooner.
   */
  saveDebounceMs?: number;
  /** How often at most a document's library entry (title, words, snippet) is refreshed, in ms (LIBRARY_REFRESH_MS). */
  libraryRefreshMs?: number;
  /** How often, at most, a changing document's render cache is rewritten (RenderCacheUpdates; 30 s). For benches that compress time. */
  renderCacheRewriteMs?: number;
  /** Overrides the display name and colour from settings (tests, first run). */
  user?: Partial<UserProfile>;
  /**
   * Seals relay tokens on disk. Electron passes one built on safeStorage (the OS
   * keychain); without one, tokens are kept in plain text and the settings say so.
   */
  secretCipher?: SecretCipher;
  /**
   * Long documents are loaded, synced and saved in a worker thread. A document whose
   * chunks on disk add up to `thresholdBytes` or more goes there when it is first
   * needed; `count: 0` keeps every document on the main thread. `worker` is the worker's
   * program: the desktop build's documentWorker.js (src/main), or by default the source,
   * through tsx (workers/start.mjs). `newDocuments`: where a document this host
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
   * address: every document in the library goes to it. The desktop app shows a native
   * dialog from the main process (src/main/relayConfirm.ts), so a compromised page
   * cannot send the library to a server of its choosing. Without one (the browser
   * shell, tests) the page is trusted, and the settings say so (`RELAY_TRUST_NOTE`).
   */
  confirmRelay?: ConfirmRelay;
}

/**
 * Documents of at least this many bytes on disk are loaded in the document worker: a
 * long document takes a noticeable part of a second to load, during which the host's
 * main thread would answer no window (bench/long-document has the figures).
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
 * changes per round, which keeps a saturated machine from spending itself on rounds.
 */
const HOST_SYNC_DEBOUNCE_MS = 50;
/** Library metadata (title, snippet, last edit) is refreshed at most this often per document. */
const LIBRARY_REFRESH_MS = 1000;

/** The integrity mode asked for, else WRITER_INTEGRITY_CHECKS, else "repair". */
function integrityMode(asked: IntegrityMode | undefined): IntegrityMode {
  const env = process.env.WRITER_INTEGRITY_CHECKS;
  return asked ?? (env === "strict" || env === "repair" ? env : "repair");
}

function workerThreshold(asked: number | undefined): number {
  const env = process.env.WRITER_WORKER_THRESHOLD_BYTES;
  return asked ?? (env && /^\d+$/.test(env) ? Number(env) : WORKER_THRESHOLD_BYTES);
}

/** The parts a running host owns, each with one job. */
interface HostParts {
  repo: Repo;
  stack: StorageStack;
  operations: TrackedStorage;
  workers: DocumentWorkers<HostWorkerContract>;
  relays: RelaySync;
  follower: LibraryFollower;
  refreshes: LibraryRefreshes;
  renderCache: RenderCacheUpdates;
  problems: StorageProblems;
  settings: SettingsFile;
  api: HostApi;
  saveDebounceMs: number;
}

/**
 * The desktop's source of truth, in plain Node: the persistent Repo on crash-safe
 * storage, the library and the settings. Electron (src/main) and the browser shell
 * (src/host/web) wrap it; neither adds behaviour the other lacks. `open` wires the
 * parts; each job is a part of its own:
 *
 * - HostApi: the renderer's requests, validated, one handler per method;
 * - HostDocuments: every document, in whichever thread holds it;
 * - LibraryFollower: the library this device uses, its documents kept syncing;
 * - LibraryRefreshes: library entries following their documents' saves;
 * - RenderCacheUpdates: each document's first-paint cache following the document;
 * - RelaySettings and RelaySync: the writer's relays, and syncing through them;
 * - StorageProblems: what the writer is told about the disk.
 */
export class Host {
  readonly repo: Repo;
  readonly logger: Logger;
  readonly dataDir: string;
  /** Told to every window at bootstrap. */
  readonly integrityChecks: IntegrityMode;
  readonly #parts: HostParts;
  /** Peers connected through a window's adapter (connect), not through a relay. */
  readonly #windowPeers: Set<string>;
  #closed: Promise<void> | undefined;

  private constructor(parts: HostParts, windowPeers: Set<string>, args: { logger: Logger; dataDir: string; integrityChecks: IntegrityMode }) {
    this.#parts = parts;
    this.#windowPeers = windowPeers;
    this.repo = parts.repo;
    this.logger = args.logger;
    this.dataDir = args.dataDir;
    this.integrityChecks = args.integrityChecks;
  }

  /**
   * Opens the data directory (taking its single-writer lock), loads or creates the
   * library, and returns a running host. Throws DirectoryLockedError when another
   * instance already uses the directory.
   */
  static async open(options: HostOptions): Promise<Host> {
    const logger = options.logger ?? pino({ level: process.env.WRITER_LOG_LEVEL ?? "info" }, pino.destination(2));
    const dataDir = path.resolve(options.dataDir);
    await makeDirectory(dataDir, 0o700);
    const problems = new StorageProblems(logger);
    // Saves and loads are reported by the storage and the document worker from the start;
    // the parts that follow them exist once the host does.
    const follow: { saved?: (documentId: string) => void; loaded?: (documentId: string) => void; connected?: () => void } = {};
    const saved = (key: StorageKey) => {
      const documentId = key[0];
      if (documentId && key[1] !== "sync-state") follow.saved?.(documentId);
    };
    const stack = await StorageStack.open({
      backend: { kind: "files", dir: path.join(dataDir, "documents") },
      onCorrupt: (report) => problems.corrupt(report),
      onSaveFailed: (failure) => problems.saveFailed("main", failure),
      onRecovered: () => problems.recovered("main"),
      onSaved: saved,
    });
    const saveDebounceMs = options.saveDebounceMs ?? 20;
    const operations = new TrackedStorage(stack.retrying);
    let repo: Repo | undefined;
    let workers: DocumentWorkers<HostWorkerContract> | undefined;
    try {
      const settingsPath = path.join(dataDir, "settings.json");
      const loaded = await loadSettings(settingsPath, (message) => logger.error(message));
      if (options.user?.name) loaded.user = { ...loaded.user, name: options.user.name, confirmed: true };
      if (options.user?.color) loaded.user.color = options.user.color;
      const secrets = await SecretStore.open(
        path.join(dataDir, "secrets.json"),
        options.secretCipher ?? plainTextCipher("This copy of Writer has no access to a keychain, so relay tokens are stored unencrypted in its data folder (readable by your user only)."),
        (message) => logger.error(message),
      );
      if (secrets.weakness) logger.info({ backend: secrets.backend }, secrets.weakness);
      // Relays may connect while the library loads; its documents are fetched once it has.
      const relays = new RelaySync({ relays: loaded.relays, secrets, logger, onConnected: () => follow.connected?.() });

      const peerId = `host-${randomBytes(6).toString("hex")}` as PeerId;
      const windowPeers = new Set<string>();
      workers = new DocumentWorkers<HostWorkerContract>({
        count: options.documentWorkers?.count ?? WORKER_COUNT,
        thresholdBytes: workerThreshold(options.documentWorkers?.thresholdBytes),
        sizeOnDisk: (documentId) => stack.backend.sizeOnDisk(documentId),
        // A document this host does not have yet (a shared link, another device's
        // library) arrives from a relay, at whatever length: in the worker.
        newDocuments: options.documentWorkers?.newDocuments ?? "worker",
        worker: options.documentWorkers?.worker ?? new URL("./workers/start.mjs", import.meta.url),
        workerData: { documentsDir: path.join(dataDir, "documents"), dataDir, peerId, saveDebounceMs, syncDebounceMs: HOST_SYNC_DEBOUNCE_MS },
        logger,
        inMain: (documentId) => repo?.handles[documentId as DocumentId] !== undefined,
        // Windows ask for what they show; everything is announced to relays (as below).
        isRelayPeer: (id) => !windowPeers.has(id),
        onEvent: (e) => {
          switch (e.t) {
            case "saved":
              return saved(e.key);
            case "loaded":
              return follow.loaded?.(e.documentId);
            case "save-failed":
              return problems.saveFailed("worker", { key: e.key, error: Object.assign(new Error(e.message), { code: e.code }), attempt: e.attempt });
            case "recovered":
              return problems.recovered("worker");
            case "corrupt":
              return problems.corrupt(e);
          }
        },
      });
      // A worker thread costs its own Repo and Automerge heap, and CPU to start: it starts
      // (in the background) when a document is first routed to it. The document the window
      // reopens is routed now, so that a long one has its worker up by the time it is asked for.
      const reopens = loaded.lastOpened?.startsWith("automerge:") ? loaded.lastOpened.slice("automerge:".length) : undefined;
      if (reopens) await workers.ownerOf(reopens).catch((error: unknown) => logger.warn({ err: error, documentId: reopens }, "could not size the document to reopen"));

      repo = new Repo({
        storage: operations,
        network: [workers.wrap(relays.adapter)],
        peerId,
        saveDebounceRate: saveDebounceMs,
        syncDebounceRate: HOST_SYNC_DEBOUNCE_MS,
        resyncAfterMs: RESYNC_AFTER_MS,
      });
      onResync(repo, (e) => logger.warn(e, "sync with a peer stalled; sent everything again"));
      // Windows ask for the documents they show; nothing is pushed to them. automerge-repo's
      // default announces every document the host holds to every new peer: each window
      // that opened (or reloaded) would receive the whole history of every document loaded
      // here, through sync, before its own. Relays still get everything announced.
      repo.sharePolicy = async (peerId) => !windowPeers.has(peerId);

      let libraryHandle: DocHandle<LibraryDocument>;
      if (loaded.libraryUrl) {
        libraryHandle = await repo.find<LibraryDocument>(loaded.libraryUrl as AutomergeUrl);
      } else {
        libraryHandle = repo.create<LibraryDocument>();
        libraryHandle.change(initLibrary);
        loaded.libraryUrl = libraryHandle.url;
      }
      const settings = new SettingsFile(settingsPath, loaded);
      await settings.update({});

      const cache = new RenderCache(dataDir);
      const documents = new HostDocuments(new RepoDocuments(repo, { renderCache: cache, saves: stack.retrying, storage: operations }), workers);
      const library = new Library(repo, libraryHandle, Date.now, documents);
      const current = () => follower.library;
      const renderCache = new RenderCacheUpdates({ cache, documents, listed: (id) => current().entries()[id] !== undefined, logger, rewriteMs: options.renderCacheRewriteMs });
      const refreshes = new LibraryRefreshes({ documents, library: current, renderCache, everyMs: options.libraryRefreshMs ?? LIBRARY_REFRESH_MS, logger });
      const follower: LibraryFollower = new LibraryFollower({ repo, library, documents, settings, relays, refreshes, logger });
      const relaySettings = new RelaySettings({ settings, secrets, sync: relays, documentCount: () => Object.keys(current().entries()).length, confirm: options.confirmRelay, logger });
      const integrityChecks = integrityMode(options.integrityChecks);
      const status = () => problems.status();
      const api = new HostApi(hostHandlers({ follower, documents, settings, relaySettings, relays, renderCache, storage: stack.retrying, status, integrityChecks, logger }), logger);

      follow.saved = (documentId) => {
        if (documentId === current().documentId) return;
        follower.saved(documentId);
        refreshes.saved(documentId);
      };
      follow.loaded = (documentId) => renderCache.loaded(documentId);
      follow.connected = () => follower.fetchDocuments();
      // Each document's cache is checked against the document (and rewritten when its
      // heads differ) as soon as the host has it: a wrong cache is shown at most once.
      repo.on("doc-metrics", (event) => {
        if (event.type !== "doc-loaded") return;
        repo?.handles[event.documentId]?.whenReady().then(
          () => follow.loaded?.(event.documentId),
          () => undefined,
        );
      });
      problems.nameDocuments((documentId) => describeDocument(current(), documentId));

      const parts: HostParts = { repo, stack, operations, workers, relays, follower, refreshes, renderCache, problems, settings, api, saveDebounceMs };
      logger.info({ dataDir, library: library.url }, "host ready");
      return new Host(parts, windowPeers, { logger, dataDir, integrityChecks });
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

  get library(): Library {
    return this.#parts.follower.library;
  }

  /** Whether the document worker thread is running (it starts when a long document first needs it). */
  get documentWorkerStarted(): boolean {
    return this.#parts.workers.started;
  }

  get settings(): Readonly<Settings> {
    return this.#parts.settings.current;
  }

  status(): HostStatus {
    return this.#parts.problems.status();
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
    this.repo.networkSubsystem.addNetworkAdapter(this.#parts.workers.wrap(adapter as NetworkAdapter));
  }

  /**
   * Handles one request from the renderer. The payload is untrusted: it is validated
   * against the shared contract first, and errors come back as values.
   */
  handle(payload: unknown): Promise<HostResponse<HostMethod>> {
    return this.#parts.api.handle(payload);
  }

  /** Writes everything to disk, stops syncing and releases the data directory. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const { repo, stack, operations, workers, relays, follower, refreshes, renderCache, saveDebounceMs } = this.#parts;
      // From now on, refreshes are only collected; they run below, before the last flush.
      refreshes.stop();
      follower.stop();
      renderCache.stopFollowingLoads();
      relays.stop();
      // Disconnects first, so that no change arrives after the flush, then flushes.
      await repo.shutdown();
      // Repo.flush() does not wait for saves automerge-repo started on its own (a
      // throttled save due any moment, a compaction still removing old chunks): wait
      // for them, or they would reach the files after close and fail.
      await operations.settle(saveDebounceMs + 10);
      if (await refreshes.refreshDue()) {
        await repo.flush();
        await operations.settle(saveDebounceMs + 10);
      }
      await renderCache.settle();
      // The document worker writes out the long documents and lets go of the files.
      const unsavedInWorkers = await workers.close();
      const unsaved = [...(await stack.close()), ...unsavedInWorkers];
      if (unsaved.length > 0) this.logger.error({ unsaved }, "closing with changes that could not be written to disk");
      this.logger.info("host closed; everything flushed");
    })();
    return this.#closed;
  }
}

/** How the writer knows a document: “its title” (and its link), or what it is for. */
function describeDocument(library: Library, documentId: string): string {
  if (documentId === library.documentId) return "your library (the list of your documents)";
  const title = library.entries()[documentId]?.title;
  return title ? `“${title}” (automerge:${documentId})` : `an untitled document (automerge:${documentId})`;
}
