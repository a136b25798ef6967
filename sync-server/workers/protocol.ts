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
  /** In a relay cluster: report every chunk stored, for the other relays (`chunk` events). */
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
    /** A relay cluster: apply changes another relay stored (false if the document is not loaded here). */
    applyChunk: { args: [documentId: string, data: Uint8Array]; result: boolean };
    /** A relay cluster: read every document in memory from storage again (after the bus was lost); how many moved. */
    catchUp: { args: []; result: number };
  };

export type RelayWorkerEvent =
  /** A document's first data reached the disk. */
  | { t: "stored"; documentId: string }
  /** A snapshot or incremental chunk of a document was saved (for PeerSync). */
  | { t: "changed"; documentId: string }
  /** A relay cluster: a snapshot or incremental chunk reached the shared storage, for the other relays. */
  | { t: "chunk"; documentId: string; kind: string; hash: string; data: Uint8Array };

export interface RelayWorkerContract {
  init: RelayWorkerInit;
  calls: RelayWorkerCalls;
  event: RelayWorkerEvent;
}
