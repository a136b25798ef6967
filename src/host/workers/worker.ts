// The host's document worker: a Repo of its own, on the host's storage, for
// the long documents the main thread hands it (src/node/workers/DocumentWorkers.ts).
// Loading, syncing and saving a novel-length history here blocks only this thread; the
// host's main thread keeps answering every window, syncing every other document and
// keeping the library. The windows' and relays' connections stay in the main thread.
import { Repo } from "@automerge/automerge-repo";
import { StorageStack, TrackedStorage } from "../../node/storage";
import { workerRuntime } from "../../node/workers/runtime";
import { applyChangeBroadcasts, type MessageSource } from "../../shared/sync/changeBroadcast";
import { onResync, RESYNC_AFTER_MS } from "../../shared/sync/resync";
import { RepoDocuments } from "../documentOps";
import { RenderCache } from "../RenderCache";
import type { HostWorkerContract } from "./protocol";

const runtime = workerRuntime<HostWorkerContract>();
const { init, relayPeers } = runtime;
const event = runtime.event;

const stack = StorageStack.underLock({
  backend: { kind: "files", dir: init.documentsDir },
  onCorrupt: (c) => event({ t: "corrupt", documentId: c.documentId, path: c.path, quarantinedTo: c.quarantinedTo, reason: c.reason }),
  onSaveFailed: ({ key, error, attempt }) => {
    const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
    event({ t: "save-failed", key, message: error.message, code, attempt });
  },
  onRecovered: () => event({ t: "recovered" }),
  onSaved: (key) => event({ t: "saved", key }),
});
const retrying = stack.retrying;
const storage = new TrackedStorage(retrying);

const repo = new Repo({
  storage,
  network: [runtime.adapter],
  peerId: init.peerId,
  // As the main thread's Repo (Host.ts): windows ask for what they show; relays get
  // every document announced.
  sharePolicy: async (peerId) => relayPeers.has(peerId),
  saveDebounceRate: init.saveDebounceMs,
  syncDebounceRate: init.syncDebounceMs,
  resyncAfterMs: RESYNC_AFTER_MS,
});
onResync(repo, (e) => runtime.resync({ ...e }));
repo.on("doc-metrics", (e) => {
  if (e.type === "doc-loaded") event({ t: "loaded", documentId: e.documentId });
});

// A window's keystroke broadcasts are taken in here as on the main thread (Host.connect):
// on disk within the save debounce. Only windows' (relays' are forwarded, not applied).
// (Applied for as long as the worker lives: nothing turns it off.)
const fromWindows: MessageSource = {
  on: (_, listener) => runtime.adapter.on("message", (m) => !relayPeers.has(m.senderId) && listener(m)),
  off: () => undefined,
};
applyChangeBroadcasts(repo, fromWindows, { defer: setImmediate, onError: (error) => runtime.log("warn", { err: error }, "a broadcast change did not apply; sync will bring it") });

const documents = new RepoDocuments(repo, { renderCache: new RenderCache(init.dataDir), saves: retrying, storage });

await runtime.serve({
  answer: {
    loadedSummary: (documentId) => documents.loadedSummary(documentId),
    plainText: (documentId) => documents.plainText(documentId),
    delete: (documentId) => documents.delete(documentId),
    hold: (documentId) => documents.hold(documentId),
    rename: (documentId, title, author) => documents.rename(documentId, title, author),
    clone: (documentId, title) => documents.clone(documentId, title),
    confirmSaved: (documentId, heads) => documents.confirmSaved(documentId, heads),
    updateRenderCache: (documentId, known) => documents.updateRenderCache(documentId, known),
    import: (bytes) => documents.import(bytes),
    hasChange: (documentId, hash) => documents.hasChange(documentId, hash),
    mergeBackup: (documentId, bytes) => documents.mergeBackup(documentId, bytes),
    relayConfirmed: (storageId) => documents.relayConfirmed(storageId),
    close: async () => {
      runtime.stop();
      await repo.shutdown();
      await storage.settle(init.saveDebounceMs + 10);
      return stack.close();
    },
  },
  stats: () => ({ documents: Object.keys(repo.handles).length, pendingSaves: retrying.pendingCount }),
});
