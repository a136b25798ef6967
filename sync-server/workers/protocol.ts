// What the relay's document workers (worker.ts) are started with, answer and report,
// inside the generic messages of src/node/workers/protocol.ts.
import type { PeerId } from "@automerge/automerge-repo/slim";
import type { WorkerInit } from "../../src/node/workers/protocol";

export interface RelayWorkerInit extends WorkerInit {
  /** The relay's documents directory; the main thread holds its lock. */
  documentsDir: string;
  /** The relay's peer ID: every thread answers as the same relay. */
  peerId: PeerId;
  saveDebounceMs: number;
  syncDebounceMs: number;
}

/** Requests the main thread makes of a worker. */
export type WorkerCall =
  /** Writes the document to disk as it is now (for RelayServerAdapter's `store`). */
  | { op: "flush"; documentId: string }
  /** Which of the hashes the document has. */
  | { op: "knownHeads"; documentId: string; hashes: string[] }
  /** PeerSync: load the document and wait until the relay peer has our heads. */
  | { op: "confirm"; documentId: string; storageId: string }
  /** Drop the document from memory if it is idle; replies whether it left. */
  | { op: "evict"; documentId: string }
  /** Write everything, release the files; replies with the keys that could not be saved. */
  | { op: "close" };

export type WorkerEvent =
  /** A document's first data reached the disk. */
  | { t: "stored"; documentId: string }
  /** A snapshot or incremental chunk of a document was saved (for PeerSync). */
  | { t: "changed"; documentId: string };
