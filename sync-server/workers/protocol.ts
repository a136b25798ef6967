// The relay's document workers' contract with the relay's main thread (worker.ts, run by
// src/node/workers/DocumentWorkers.ts): what they are started with, answer and report.
// It mirrors the host's (src/host/workers/protocol.ts).
import type { PeerId } from "@automerge/automerge-repo/slim";
import type { StorageBackend } from "../../src/node/storage";
import type { EvictCalls, PoolCalls, WorkerInit } from "../../src/node/workers/protocol";

export interface RelayWorkerInit extends WorkerInit {
  /** The relay's storage: its documents directory (whose lock the main thread holds), or its database. */
  backend: StorageBackend;
  /** The relay's peer ID: every thread answers as the same relay. */
  peerId: PeerId;
  saveDebounceMs: number;
  syncDebounceMs: number;
  /** In a relay cluster: report the heads of every save, for the other relays (`stored-heads` events). */
  cluster: boolean;
}

export type RelayWorkerCalls = PoolCalls &
  EvictCalls & {
    /** Writes the document to disk as it is now (for RelayServerAdapter's `store`); rejects while the disk refuses it. */
    flush: { args: [documentId: string]; result: void };
    /** Which of the hashes the document has. */
    knownHeads: { args: [documentId: string, hashes: string[]]; result: string[] };
    /** PeerSync: load the document and wait until the relay peer has our heads. */
    confirm: { args: [documentId: string, storageId: string]; result: boolean };
    /** A relay cluster: apply changes another relay took in (false if the document is not loaded here). */
    applyChanges: { args: [documentId: string, changes: Uint8Array[]]; result: boolean };
    /** A relay cluster: read the document (undefined: every document in memory) from storage again; how many moved. */
    catchUp: { args: [documentId: string | undefined]; result: number };
  };

export type RelayWorkerEvent =
  /** A document's first data reached the disk. */
  | { t: "stored"; documentId: string }
  /** A snapshot or incremental chunk of a document was saved (for PeerSync). */
  | { t: "changed"; documentId: string }
  /** A relay cluster: the document was stored with these heads, for the other relays. */
  | { t: "stored-heads"; documentId: string; heads: string[] };

export interface RelayWorkerContract {
  init: RelayWorkerInit;
  calls: RelayWorkerCalls;
  event: RelayWorkerEvent;
}
