// A relay document worker: a Repo of its own, on the relay's storage, for the documents
// the main thread hands it (src/node/workers/DocumentWorkers.ts). Loading, syncing and
// saving a long document here blocks only this thread; the main thread keeps serving
// every connection and every other document. The connections stay in the main thread: a
// message of this Repo goes there and leaves by the connection of its target peer.
import { Repo } from "@automerge/automerge-repo/slim";
import { StorageNotDurableError, StorageStack } from "../../src/node/storage";
import { PostgresStorageAdapter } from "../../src/node/storage/PostgresStorageAdapter";
import type { StorageActivity } from "../../src/node/workers/protocol";
import { workerRuntime } from "../../src/node/workers/runtime";
import { onResync, RESYNC_AFTER_MS } from "../../src/shared/sync/resync";
import { RelayStorage } from "../RelayStorage";
import { applyClusterChanges, catchUpDocument, storedHeads, catchUpFromStorage, confirmPeerHas, evictDocument, knownHeads } from "../repoDocuments";
import type { RelayWorkerContract } from "./protocol";

const runtime = workerRuntime<RelayWorkerContract>();
const { init, log, relayPeers } = runtime;
const event = runtime.event;

let failing = false;
/** What the storage did since the last report: the main thread adds it to the relay's /metrics (Relay.ts counts its own alike). */
let storageActivity: StorageActivity = { saveSeconds: [], failedSaves: 0, quarantined: 0 };
const stack = StorageStack.underLock({
  backend: init.backend,
  onCorrupt: (c) => {
    if (c.quarantinedTo !== c.path) storageActivity.quarantined++;
    log("error", { documentId: c.documentId, path: c.path, quarantinedTo: c.quarantinedTo, reason: c.reason }, "corrupt chunk quarantined");
  },
  onSaveFailed: ({ key, error, attempt, op }) => {
    failing = true;
    if (op === "save") storageActivity.failedSaves++;
    log("error", { key, err: error, attempt }, "save failed; keeping the change in memory and retrying");
  },
  onRecovered: () => {
    if (!failing) return;
    failing = false;
    log("info", {}, "saving works again; every pending change is on disk");
  },
  onSaved: (key, seconds) => {
    if (key[1] !== "snapshot" && key[1] !== "incremental") return;
    storageActivity.saveSeconds.push(seconds);
    event({ t: "changed", documentId: key[0]! });
    if (init.cluster) {
      const heads = storedHeads(repo, key[0]!);
      if (heads) event({ t: "stored-heads", documentId: key[0]!, heads });
    }
  },
}, init.backend.kind === "postgres" ? PostgresStorageAdapter.connect(init.backend) : undefined);

const retrying = stack.retrying;
const storage = new RelayStorage(retrying, stack.backend);
storage.onDocumentStored = (documentId) => event({ t: "stored", documentId });
storage.onRefused = (documentId) => log("error", { documentId }, "refused to overwrite a document with an empty snapshot");

const repo = new Repo({
  storage,
  network: [runtime.adapter],
  peerId: init.peerId,
  // As the main thread's Repo (Relay.ts): documents are pushed only to relay peers.
  shareConfig: { announce: async (id) => relayPeers.has(id), access: async () => true },
  saveDebounceRate: init.saveDebounceMs,
  syncDebounceRate: init.syncDebounceMs,
  resyncAfterMs: RESYNC_AFTER_MS,
});
onResync(repo, (e) => runtime.resync({ ...e }));

/** The last message for each document, for `evict`'s idle check. */
const activity = new Map<string, number>();
/** Documents a `confirm` is waiting on: not evicted under it. */
const confirming = new Map<string, number>();

await runtime.serve({
  answer: {
    flush: async (documentId) => {
      await repo.flush([documentId as never]);
      // A failed save is held in memory and retried: not on disk, so not "stored".
      if (retrying.hasPending(documentId)) throw new StorageNotDurableError(documentId);
    },
    knownHeads: (documentId, hashes) => knownHeads(repo, documentId, hashes),
    confirm: async (documentId, storageId) => {
      confirming.set(documentId, (confirming.get(documentId) ?? 0) + 1);
      try {
        const connected = () => [...relayPeers.values()].includes(storageId);
        return await confirmPeerHas(repo, documentId, storageId, connected, (id) => activity.set(id, Date.now()));
      } finally {
        const left = (confirming.get(documentId) ?? 1) - 1;
        if (left > 0) confirming.set(documentId, left);
        else confirming.delete(documentId);
      }
    },
    applyChanges: (documentId, changes) => applyClusterChanges(repo, documentId, changes),
    catchUp: async (documentId) => (documentId === undefined ? catchUpFromStorage(repo, storage) : Number(await catchUpDocument(repo, storage, documentId))),
    evict: async (documentId) => {
      if (confirming.has(documentId) || retrying.hasPending(documentId)) return false;
      const last = activity.get(documentId);
      const left = await evictDocument(repo, documentId, () => activity.get(documentId) === last && !confirming.has(documentId));
      if (left) activity.delete(documentId);
      return left;
    },
    close: async () => {
      runtime.stop();
      await repo.flush();
      await storage.settle(init.saveDebounceMs + 20);
      return stack.close();
    },
  },
  stats: () => {
    const storage = storageActivity;
    storageActivity = { saveSeconds: [], failedSaves: 0, quarantined: 0 };
    return { documents: Object.keys(repo.handles).length, pendingSaves: retrying.pendingCount, storage };
  },
  onMessage: (documentId) => activity.set(documentId, Date.now()),
});
