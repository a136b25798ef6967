// The messages between a process's main thread and its document workers (DocumentWorkers,
// runtime.ts). Both ends are this codebase, in one process: the shapes are trusted, and the
// automerge-repo messages inside them were validated by the main thread when they came
// off the network (or, in the host, from a window's connection). What a worker answers to
// (`call`) and reports (`event`) is the program's own: the relay's and the host's workers
// each define theirs.
import type { Message, PeerId, PeerMetadata } from "@automerge/automerge-repo/slim";

/** What every worker is started with (`workerData`), besides its program's own fields. */
export interface WorkerInit {
  index: number;
}

export type ToWorker =
  /** A peer joined one of the main thread's connections; `relay`: documents are pushed to it. */
  | { t: "peer"; peerId: PeerId; peerMetadata: PeerMetadata; relay: boolean }
  | { t: "peer-gone"; peerId: PeerId }
  | { t: "message"; message: Message }
  | { t: "call"; id: number; call: unknown };

export type LogLevel = "debug" | "info" | "warn" | "error";

export type FromWorker =
  | { t: "ready" }
  /** A message of the worker's Repo, for the connection of `message.targetId`. */
  | { t: "send"; message: Message }
  | { t: "reply"; id: number; value?: unknown; error?: string }
  /** Something the program's main thread wants to hear of (a chunk saved, a document loaded). */
  | { t: "event"; event: unknown }
  | { t: "log"; level: LogLevel; fields: Record<string, unknown>; msg: string }
  | { t: "resync"; fields: Record<string, unknown> }
  /** Sent every second: documents held, saves waiting to be retried. */
  | { t: "stats"; documents: number; pendingSaves: number };
