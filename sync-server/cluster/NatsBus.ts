/**
 * The relays of a cluster tell each other about documents through NATS (core NATS: see
 * "Why not JetStream" below). Three kinds of message per document, on subjects
 * `writer.doc.<documentId>.<kind>`:
 *
 * - `changes`: the Automerge changes a relay just took in from one of its writers, so
 *   that the other relays holding the document apply them at once and sync them to their
 *   own writers (milliseconds, not a storage round trip);
 * - `stored`: a relay wrote the document to the shared storage, with its heads: a relay
 *   whose copy lacks any of them (it missed a `changes` message, or the changes were too
 *   large to send) reads the document from storage; a request waiting for a document
 *   nobody had is answered now;
 * - `ephemeral`: presence and the keystroke fast path, forwarded to the relay's writers
 *   of that document.
 *
 * Why not JetStream: the shared storage (PostgreSQL) is the durable log already. What a
 * relay misses while it is cut off from NATS or restarting, it reads from storage when it
 * is back (ClusterFanout.catchUp, on every reconnect), and the sync protocol brings its
 * writers up to date from there. A JetStream stream would keep a second copy of every
 * change and add a replay path whose gaps would still need the storage path anyway.
 * Nothing is ever caught up by polling on a timer: only on reconnect and on `stored`.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";

export type BusKind = "changes" | "stored" | "ephemeral";

/** What a relay does with the cluster's messages. */
export interface BusHandlers {
  message(documentId: string, kind: BusKind, payload: Uint8Array): void;
  /** The connection came back after a loss: anything may have been missed meanwhile. */
  reconnected(): void;
  /** Connected or not, for /healthz and what the relay admits. */
  statusChanged(connected: boolean): void;
}

const SUBJECT_PREFIX = "writer.doc";
const KINDS = new Set<string>(["changes", "stored", "ephemeral"]);
/** Document IDs are base58 (automerge-repo): safe as one subject token. */
const DOCUMENT_ID = /^[1-9A-HJ-NP-Za-km-z]{1,64}$/;

export interface NatsBusOptions {
  /** `nats://host:4222` (several, comma-separated, for a NATS cluster). */
  servers: string;
  /** This relay, for NATS's monitoring (connz). */
  name: string;
  logger: Logger;
  handlers: BusHandlers;
}

export class NatsBus {
  readonly #connection: NatsConnection;
  readonly #subscription: Subscription;
  readonly #logger: Logger;
  #connected = true;
  #closed = false;

  private constructor(connection: NatsConnection, options: NatsBusOptions) {
    this.#connection = connection;
    this.#logger = options.logger;
    const { handlers } = options;
    // Every document's messages, filtered here by whether this relay holds the document
    // (cheap: the subject says which). A subscription per document would spare the
    // relay other documents' messages; see sync-server/README.md, "Running a cluster".
    this.#subscription = connection.subscribe(`${SUBJECT_PREFIX}.*.*`, {
      callback: (error, message) => {
        if (error) return void this.#logger.error({ err: error }, "cluster bus subscription failed");
        const [, , documentId, kind] = message.subject.split(".");
        if (!documentId || !DOCUMENT_ID.test(documentId) || !kind || !KINDS.has(kind)) return;
        try {
          handlers.message(documentId, kind as BusKind, message.data);
        } catch (handlerError) {
          this.#logger.error({ err: handlerError, documentId, kind }, "a cluster message could not be handled");
        }
      },
    });
    void this.#watch(handlers);
  }

  /** Follows the connection's state: lost, and back (then the relay catches up). */
  async #watch(handlers: BusHandlers): Promise<void> {
    for await (const status of this.#connection.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        this.#logger.warn({ server: status.server }, "cluster bus (NATS) lost; reconnecting");
        handlers.statusChanged(false);
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.#logger.info({ server: status.server }, "cluster bus (NATS) back; catching up from storage");
        handlers.statusChanged(true);
        handlers.reconnected();
      }
    }
  }

  /** Connects (failing after a few seconds if NATS cannot be reached at all: a relay does not start without its cluster). */
  static async open(options: NatsBusOptions): Promise<NatsBus> {
    // Loaded here, not with the relay: a relay without a cluster never needs it, and it
    // was a seventh of every relay's start (about 0.2 s of processor time).
    const { connect } = await import("@nats-io/transport-node");
    const connection = await connect({
      servers: options.servers.split(",").map((s) => s.trim()),
      name: options.name,
      // Our own messages are not delivered back to us: nothing to apply twice.
      noEcho: true,
      // Keep trying for as long as the relay runs; a loss is reported, not fatal.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 250,
      timeout: 5_000,
      // A silent loss (a cut cable) is noticed within ~6 s.
      pingInterval: 2_000,
      maxPingOut: 3,
    });
    return new NatsBus(connection, options);
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  /** Publishes; while disconnected the client buffers (bounded), and reconnect catches up anyway. */
  publish(documentId: string, kind: BusKind, payload: Uint8Array): void {
    if (this.#closed || !DOCUMENT_ID.test(documentId)) return;
    try {
      this.#connection.publish(`${SUBJECT_PREFIX}.${documentId}.${kind}`, payload);
    } catch (error) {
      // Too large, or the connection closed: the `stored` path covers it.
      this.#logger.warn({ err: error, documentId, kind }, "could not publish to the cluster bus");
    }
  }

  /** The largest payload the NATS server takes (its max_payload, 1 MiB by default). */
  get maxPayload(): number {
    return this.#connection.info?.max_payload ?? 1024 * 1024;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscription.unsubscribe();
    // Sends what is buffered, then closes.
    await this.#connection.drain().catch(() => undefined);
  }
}
