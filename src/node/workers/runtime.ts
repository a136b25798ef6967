// The worker's side of DocumentWorkers, shared by the relay's and the host's document
// workers: the main thread's connections as a network adapter for the worker's Repo,
// logging and events through the main thread, and the loop that answers its calls.
import { parentPort, workerData } from "node:worker_threads";
import { NetworkAdapter, type Message, type PeerId, type PeerMetadata } from "@automerge/automerge-repo/slim";
import type { CallHandlers, FromWorker, LogLevel, ToWorker, WorkerContract, WorkerStats } from "./protocol";

/** The connections of the main thread, as this thread's Repo sees them. */
class MainThreadAdapter extends NetworkAdapter {
  #ready!: () => void;
  readonly attached = new Promise<void>((resolve) => (this.#ready = resolve));
  readonly #post: (message: FromWorker) => void;

  constructor(post: (message: FromWorker) => void) {
    super();
    this.#post = post;
  }
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
    this.#post({ t: "send", message });
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

export interface WorkerRuntime<C extends WorkerContract> {
  init: C["init"];
  /** Give it to the worker's Repo as its only network adapter. */
  adapter: MainThreadAdapter;
  /** Relay peers connected now (documents are pushed to them): peer ID → storage ID. */
  relayPeers: Map<PeerId, string | undefined>;
  log(level: LogLevel, fields: Record<string, unknown>, msg: string): void;
  /** Tells the main thread something (DocumentWorkersOptions.onEvent). */
  event(event: C["event"]): void;
  /** A stalled sync this thread's Repo restarted (src/shared/sync/resync.ts). */
  resync(fields: Record<string, unknown>): void;
  /**
   * Answers the main thread's calls, each with its handler in `answer`, and reports `stats` every second; resolves
   * once the Repo has attached `adapter` and the main thread has been told the worker is
   * ready. `onMessage` hears of each message for a document before the Repo does.
   */
  serve(options: { answer: CallHandlers<C>; stats(): WorkerStats; onMessage?(documentId: string): void }): Promise<void>;
  /** Stops the stats (before the last call, `close`). */
  stop(): void;
}

export function workerRuntime<C extends WorkerContract>(): WorkerRuntime<C> {
  const port = parentPort;
  if (!port) throw new Error("a document worker runs as a worker thread (DocumentWorkers)");
  const post = (message: FromWorker) => port.postMessage(message);
  const log = (level: LogLevel, fields: Record<string, unknown>, msg: string) => {
    const err = fields.err;
    if (err instanceof Error) fields = { ...fields, err: { message: err.message, stack: err.stack } };
    post({ t: "log", level, fields, msg });
  };
  // automerge-repo starts promises it never awaits; one that fails must not take the
  // worker, and every long document in it, down.
  process.on("unhandledRejection", (reason) => log("error", { err: reason }, "unhandled rejection in a document worker"));
  const adapter = new MainThreadAdapter(post);
  const relayPeers = new Map<PeerId, string | undefined>();
  let stats: ReturnType<typeof setInterval> | undefined;
  return {
    init: workerData as C["init"],
    adapter,
    relayPeers,
    log,
    event: (event) => post({ t: "event", event }),
    resync: (fields) => post({ t: "resync", fields }),
    async serve({ answer, stats: count, onMessage }) {
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
            if (documentId !== undefined) onMessage?.(documentId);
            adapter.receive(message.message);
            return;
          }
          case "call": {
            const handler = (answer as Record<string, ((...args: unknown[]) => unknown) | undefined>)[message.op];
            const reply = handler ? Promise.resolve().then(() => handler(...message.args)) : Promise.reject(new Error(`no such call: ${message.op}`));
            reply.then(
              (value) => post({ t: "reply", id: message.id, value }),
              (error: unknown) => post({ t: "reply", id: message.id, error: error instanceof Error ? error.message : String(error) }),
            );
            return;
          }
        }
      });
      stats = setInterval(() => post({ t: "stats", ...count() }), 1000);
      stats.unref();
      await adapter.attached;
      post({ t: "ready" });
    },
    stop: () => clearInterval(stats),
  };
}
