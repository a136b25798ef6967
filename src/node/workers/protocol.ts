// The messages between a process's main thread and its document workers (DocumentWorkers,
// runtime.ts). Both ends are this codebase, in one process: the shapes are trusted, and the
// automerge-repo messages inside them were validated by the main thread when they came
// off the network (or, in the host, from a window's connection). What a worker answers to
// (`call`) and reports (`event`) is its program's own contract (WorkerContract): the
// relay's in sync-server/workers/protocol.ts, the host's in src/host/workers/protocol.ts.
import type { Message, PeerId, PeerMetadata, StorageKey } from "@automerge/automerge-repo/slim";

/** What every worker is started with (`workerData`), besides its program's own fields. */
export interface WorkerInit {
  index: number;
}

/**
 * One call a worker answers: the arguments it takes and what it replies. (A program's
 * map of calls is a `type`, not an `interface`: only a type alias has the index
 * signature `WorkerContract` asks for.)
 */
export interface CallSpec {
  args: unknown[];
  result: unknown;
}

/**
 * The calls every worker answers, because the pool makes them: `close` writes
 * everything out and releases the files, replying with the keys that could not be saved.
 */
export type PoolCalls = {
  close: { args: []; result: StorageKey[] };
};

/** The calls a pool that evicts idle documents (DocumentWorkers.evictIdle) makes too. */
export type EvictCalls = {
  /** Drops the document from memory if it is idle; replies whether it left. */
  evict: { args: [documentId: string]; result: boolean };
};

/** A worker program's contract with its main thread. */
export interface WorkerContract {
  init: WorkerInit;
  calls: PoolCalls & Record<string, CallSpec>;
  event: unknown;
}

export type CallName<C extends WorkerContract> = keyof C["calls"] & string;
export type CallArgs<C extends WorkerContract, K extends CallName<C>> = C["calls"][K]["args"];
export type CallResult<C extends WorkerContract, K extends CallName<C>> = C["calls"][K]["result"];

/** How a worker program answers each of its calls. */
export type CallHandlers<C extends WorkerContract> = {
  [K in CallName<C>]: (...args: CallArgs<C, K>) => Promise<CallResult<C, K>> | CallResult<C, K>;
};

export type ToWorker =
  /** A peer joined one of the main thread's connections; `relay`: documents are pushed to it. */
  | { t: "peer"; peerId: PeerId; peerMetadata: PeerMetadata; relay: boolean }
  | { t: "peer-gone"; peerId: PeerId }
  | { t: "message"; message: Message }
  | { t: "call"; id: number; op: string; args: unknown[] };

export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * What a worker's storage did since its last report, for the main thread to add to its
 * own (the relay's /metrics): each a count or list of what happened in that second only.
 */
export interface StorageActivity {
  /** Seconds each save of a document's changes took to reach the disk. */
  saveSeconds: number[];
  /** Save attempts the disk refused. */
  failedSaves: number;
  /** Corrupt chunks moved to quarantine. */
  quarantined: number;
}

/** A worker's report, every second: documents held, saves waiting to be retried, and what its storage did (if it says). */
export interface WorkerStats {
  documents: number;
  pendingSaves: number;
  storage?: StorageActivity;
}

export type FromWorker =
  | { t: "ready" }
  /** A message of the worker's Repo, for the connection of `message.targetId`. */
  | { t: "send"; message: Message }
  | { t: "reply"; id: number; value?: unknown; error?: string }
  /** Something the program's main thread wants to hear of (a chunk saved, a document loaded). */
  | { t: "event"; event: unknown }
  | { t: "log"; level: LogLevel; fields: Record<string, unknown>; msg: string }
  | { t: "resync"; fields: Record<string, unknown> }
  /** Sent every second (WorkerStats). */
  | ({ t: "stats" } & WorkerStats);
