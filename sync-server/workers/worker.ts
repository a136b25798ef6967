// A relay document worker: a Repo of its own, on the relay's storage, for the documents
// the main thread hands it (DocumentWorkers.ts). Loading, syncing and saving a long
// document here blocks only this thread; the main thread keeps serving every connection
// and every other document. The connections stay in the main thread: a message of this
// Repo goes there (`send`) and leaves by the connection of its target peer.
import { parentPort, workerData } from "node:worker_threads";
import { NetworkAdapter, Repo, type Message, type PeerId, type PeerMetadata } from "@automerge/automerge-repo/slim";
import { FileStorageAdapter, RetryingStorage } from "../../src/node/storage";
import { onResync, RESYNC_AFTER_MS } from "../../src/shared/sync/resync";
import { RelayStorage } from "../RelayStorage";
import { confirmPeerHas, evictDocument, knownHeads } from "../repoDocuments";
import type { FromWorker, LogLevel, ToWorker, WorkerCall, WorkerInit } from "./protocol";

const port = parentPort;
if (!port) throw new Error("sync-server/workers/worker.ts runs as a worker thread of the relay");
const init = workerData as WorkerInit;
const post = (message: FromWorker) => port.postMessage(message);
const log = (level: LogLevel, fields: Record<string, unknown>, msg: string) => {
  const err = fields.err;
  if (err instanceof Error) fields = { ...fields, err: { message: err.message, stack: err.stack } };
  post({ t: "log", level, fields, msg });
};

/** The connections of the main thread, as this Repo sees them. */
class MainThreadAdapter extends NetworkAdapter {
  #ready!: () => void;
  readonly attached = new Promise<void>((resolve) => (this.#ready = resolve));
  isReady(): boolean {
    return true;
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId;
    this.peerMetadata = peerMetadata ?? {};
    this.#ready();
  }
  send(message: Message): void {
    post({ t: "send", message });
  }
  disconnect(): void {
    // The connections belong to the main thread.
  }
  receive(message: Message): void {
    this.emit("message", message);
  }
  peerJoined(peerId: PeerId, peerMetadata: PeerMetadata): void {
    this.emit("peer-candidate", { peerId, peerMetadata });
  }
  peerLeft(peerId: PeerId): void {
    this.emit("peer-disconnected", { peerId });
  }
}

// As in cli.ts: automerge-repo starts promises it never awaits; one that fails must not
// take the worker, and every long document in it, down.
process.on("unhandledRejection", (reason) => log("error", { err: reason }, "unhandled rejection in a document worker"));

const files = FileStorageAdapter.openUnderLock(init.documentsDir, {
  onCorrupt: (c) => log("error", { documentId: c.documentId, path: c.path, quarantinedTo: c.quarantinedTo, reason: c.reason }, "corrupt chunk quarantined"),
});
let failing = false;
const retrying = new RetryingStorage(files, {
  onSaveFailed: ({ key, error, attempt }) => {
    failing = true;
    log("error", { key, err: error, attempt }, "save failed; keeping the change in memory and retrying");
  },
  onRecovered: () => {
    if (!failing) return;
    failing = false;
    log("info", {}, "saving works again; every pending change is on disk");
  },
  onSaved: (key) => {
    if (key[1] === "snapshot" || key[1] === "incremental") post({ t: "changed", documentId: key[0]! });
  },
});
const storage = new RelayStorage(retrying, files.dir);
storage.onDocumentStored = (documentId) => post({ t: "stored", documentId });
storage.onRefused = (documentId) => log("error", { documentId }, "refused to overwrite a document with an empty snapshot");

/** Relay peers connected now: their peer ID and storage ID. */
const relayPeers = new Map<PeerId, string | undefined>();
const adapter = new MainThreadAdapter();
const repo = new Repo({
  storage,
  network: [adapter],
  peerId: init.peerId,
  // As the main thread's Repo (Relay.ts): documents are pushed only to relay peers.
  shareConfig: { announce: async (id) => relayPeers.has(id), access: async () => true },
  saveDebounceRate: init.saveDebounceMs,
  syncDebounceRate: init.syncDebounceMs,
  resyncAfterMs: RESYNC_AFTER_MS,
});
onResync(repo, (e) => post({ t: "resync", fields: { ...e } }));

/** The last message for each document, for `evict`'s idle check. */
const activity = new Map<string, number>();
/** Documents a `confirm` is waiting on: not evicted under it. */
const confirming = new Map<string, number>();

async function answer(call: WorkerCall): Promise<unknown> {
  switch (call.op) {
    case "flush":
      await repo.flush([call.documentId as never]);
      return undefined;
    case "knownHeads":
      return knownHeads(repo, call.documentId, call.hashes);
    case "confirm": {
      const { documentId, storageId } = call;
      confirming.set(documentId, (confirming.get(documentId) ?? 0) + 1);
      try {
        const connected = () => [...relayPeers.values()].includes(storageId);
        return await confirmPeerHas(repo, documentId, storageId, connected, (id) => activity.set(id, Date.now()));
      } finally {
        const left = (confirming.get(documentId) ?? 1) - 1;
        if (left > 0) confirming.set(documentId, left);
        else confirming.delete(documentId);
      }
    }
    case "evict": {
      const { documentId } = call;
      if (confirming.has(documentId) || retrying.hasPending(documentId)) return false;
      const last = activity.get(documentId);
      const left = await evictDocument(repo, documentId, () => activity.get(documentId) === last && !confirming.has(documentId));
      if (left) activity.delete(documentId);
      return left;
    }
    case "close": {
      clearInterval(stats);
      await repo.flush();
      await storage.settle(init.saveDebounceMs + 20);
      await retrying.retryNow();
      const unsaved = retrying.close();
      await files.close();
      return unsaved;
    }
  }
}

port.on("message", (message: ToWorker) => {
  switch (message.t) {
    case "peer":
      if (message.relay) relayPeers.set(message.peerId, message.peerMetadata.storageId);
      adapter.peerJoined(message.peerId, message.peerMetadata);
      return;
    case "peer-gone":
      relayPeers.delete(message.peerId);
      adapter.peerLeft(message.peerId);
      return;
    case "message": {
      const documentId = (message.message as { documentId?: string }).documentId;
      if (documentId !== undefined) activity.set(documentId, Date.now());
      adapter.receive(message.message);
      return;
    }
    case "call":
      answer(message.call).then(
        (value) => post({ t: "reply", id: message.id, value }),
        (error: unknown) => post({ t: "reply", id: message.id, error: error instanceof Error ? error.message : String(error) }),
      );
      return;
  }
});

const stats = setInterval(() => post({ t: "stats", documents: Object.keys(repo.handles).length, pendingSaves: retrying.pendingCount }), 1000);
stats.unref();
await adapter.attached;
post({ t: "ready" });
