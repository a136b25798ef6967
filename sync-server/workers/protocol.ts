// The messages between the relay's main thread and its document workers (worker.ts).
// Both ends are this codebase, in one process: the shapes are trusted, the automerge-repo
// messages inside them were validated by the main thread when they came off the network.
import type { Message, PeerId, PeerMetadata } from "@automerge/automerge-repo/slim";

/** What a worker is started with (`workerData`). */
export interface WorkerInit {
  index: number;
  /** The relay's documents directory; the main thread holds its lock. */
  documentsDir: string;
  /** The relay's peer ID: every thread answers as the same relay. */
  peerId: PeerId;
  saveDebounceMs: number;
  syncDebounceMs: number;
}

/** Requests the main thread makes of a worker, answered by a `reply` with the same id. */
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

export type ToWorker =
  | { t: "peer"; peerId: PeerId; peerMetadata: PeerMetadata; relay: boolean }
  | { t: "peer-gone"; peerId: PeerId }
  | { t: "message"; message: Message }
  | { t: "call"; id: number; call: WorkerCall };

export type LogLevel = "debug" | "info" | "warn" | "error";

export type FromWorker =
  | { t: "ready" }
  /** A message of the worker's Repo, for the connection of `message.targetId`. */
  | { t: "send"; message: Message }
  | { t: "reply"; id: number; value?: unknown; error?: string }
  /** A document's first data reached the disk. */
  | { t: "stored"; documentId: string }
  /** A snapshot or incremental chunk of a document was saved (for PeerSync). */
  | { t: "changed"; documentId: string }
  | { t: "log"; level: LogLevel; fields: Record<string, unknown>; msg: string }
  | { t: "resync"; fields: Record<string, unknown> }
  /** Sent every second: documents held, saves waiting to be retried. */
  | { t: "stats"; documents: number; pendingSaves: number };
