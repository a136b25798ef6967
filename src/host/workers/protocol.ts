// The host's document worker's contract with the host's main thread (worker.ts, run by
// src/node/workers/DocumentWorkers.ts): what it is started with, answers and reports.
// It mirrors the relay's (sync-server/workers/protocol.ts).
import type { PeerId, StorageId, StorageKey } from "@automerge/automerge-repo";
import type { PoolCalls, WorkerInit } from "../../node/workers/protocol";
import type { AuthorInfo } from "../../shared/document";
import type { DocumentSummary, Imported } from "../documentOps";

export interface HostWorkerInit extends WorkerInit {
  /** The host's documents directory; the main thread holds its lock. */
  documentsDir: string;
  /** The host's data directory (render caches). */
  dataDir: string;
  /** The host's peer ID: every thread answers as the same host. */
  peerId: PeerId;
  saveDebounceMs: number;
  syncDebounceMs: number;
}

/** RepoDocuments' operations (documentOps.ts), run in the thread that holds the document. */
export type HostWorkerCalls = PoolCalls & {
  loadedSummary: { args: [documentId: string]; result: DocumentSummary | null | undefined };
  plainText: { args: [documentId: string]; result: string };
  delete: { args: [documentId: string]; result: void };
  hold: { args: [documentId: string]; result: void };
  clone: { args: [documentId: string, title: string]; result: string };
  rename: { args: [documentId: string, title: string, author?: AuthorInfo]; result: void };
  confirmSaved: { args: [documentId: string, heads: string[]]; result: boolean };
  updateRenderCache: { args: [documentId: string, known: string[] | undefined]; result: string[] | null };
  relayConfirmed: { args: [storageId: StorageId | null]; result: [string, boolean][] };
  import: { args: [bytes: Uint8Array]; result: Imported };
  hasChange: { args: [documentId: string, hash: string]; result: boolean };
  mergeBackup: { args: [documentId: string, bytes: Uint8Array]; result: Imported };
};

/** What the worker tells the host (the main thread's storage callbacks, from this thread). */
export type HostWorkerEvent =
  | { t: "saved"; key: StorageKey }
  | { t: "loaded"; documentId: string }
  | { t: "save-failed"; key: StorageKey; message: string; code: string | undefined; attempt: number }
  | { t: "recovered" }
  | { t: "corrupt"; documentId: string; path: string; quarantinedTo: string; reason: string };

export interface HostWorkerContract {
  init: HostWorkerInit;
  calls: HostWorkerCalls;
  event: HostWorkerEvent;
}
