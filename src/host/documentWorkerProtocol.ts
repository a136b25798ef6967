// What the host's document worker (documentWorker.ts) is started with, answers and
// reports, inside the generic messages of src/node/workers/protocol.ts.
import type { PeerId, StorageKey } from "@automerge/automerge-repo";
import type { WorkerInit } from "../node/workers/protocol";
import type { AuthorInfo } from "../shared/document";

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

/** A call: one of RepoDocuments' operations with its arguments, or `close`. */
export type HostWorkerCall =
  | { op: "loadedSummary" | "plainText" | "delete" | "hold"; args: [documentId: string] }
  | { op: "clone"; args: [documentId: string, title: string] }
  | { op: "rename"; args: [documentId: string, title: string, author?: AuthorInfo] }
  | { op: "confirmSaved"; args: [documentId: string, heads: string[]] }
  | { op: "updateRenderCache"; args: [documentId: string, known: string[] | undefined] }
  | { op: "relayConfirmed"; args: [storageId: string | null] }
  | { op: "import"; args: [bytes: Uint8Array] }
  | { op: "hasChange"; args: [documentId: string, hash: string] }
  | { op: "mergeBackup"; args: [documentId: string, bytes: Uint8Array] }
  | { op: "close"; args: [] };

/** What the worker tells the host (the main thread's storage callbacks, from this thread). */
export type HostWorkerEvent =
  | { t: "saved"; key: StorageKey }
  | { t: "loaded"; documentId: string }
  | { t: "save-failed"; key: StorageKey; message: string; code: string | undefined; attempt: number }
  | { t: "recovered" }
  | { t: "corrupt"; documentId: string; path: string; quarantinedTo: string; reason: string };
