/**
 * A relay's part in a relay cluster: what it tells the other relays, and what it does
 * with what they tell it (NatsBus has the subjects and the reasons for core NATS).
 *
 * Out, three kinds of message:
 * - `changes`: the changes in a sync message from one of this relay's writers, the
 *   moment it arrives (before this relay stores them: the others store them too, so a
 *   writer on another relay is not held up by this relay's save debounce);
 * - `stored`: after every save of a document (any thread), its heads: what is in the
 *   shared storage now;
 * - `ephemeral`: its writers' presence and keystroke broadcasts, as they come.
 *
 * In:
 * - `changes` are applied to the copy in memory, in the thread that holds it (those it
 *   has already are skipped); the Repo syncs them to this relay's writers, and confirms
 *   them to those writers only once this relay's own copy is stored, as always;
 * - `stored`: a document not in memory here needs nothing, except that a request for
 *   it that this relay answered "unavailable" is replayed (it exists now); a copy in
 *   memory that lacks any of those heads missed something (a message lost, or too large
 *   to send) and reads the document from storage again;
 * - `ephemeral` goes to this relay's writers of the document, if it is in memory here.
 *
 * Messages of one document are handled in order, one at a time. After the bus was lost,
 * every document in memory is read from storage again (catchUp).
 */
import { cbor, type Message } from "@automerge/automerge-repo/slim";
import type { Logger } from "pino";
import type { Metrics } from "../metrics";
import type { RelayDocuments } from "../RelayDocuments";
import type { RelayServerAdapter } from "../RelayServerAdapter";
import type { RelayStorage } from "../RelayStorage";
import type { BusHandlers, BusKind, NatsBus } from "./NatsBus";
import { SerialByKey } from "../../src/shared/serialByKey";

/** Heads are SHA-256 hashes in hex. */
const HEAD = /^[0-9a-f]{64}$/;
/** Room left in a NATS message for the envelope. */
const ENVELOPE_BYTES = 1024;

export interface ClusterFanoutOptions {
  documents: RelayDocuments;
  storage: RelayStorage;
  adapter: RelayServerAdapter;
  logger: Logger;
  metrics: Metrics;
  /** The bus came or went: the relay admits writers only while it is connected. */
  onStatus(connected: boolean): void;
}

export class ClusterFanout {
  readonly #options: ClusterFanoutOptions;
  #bus: NatsBus | undefined;
  /** Applying chunks, in order, per document: a chunk must not overtake the one before it. */
  readonly #queues = new SerialByKey();

  constructor(options: ClusterFanoutOptions) {
    this.#options = options;
  }

  /** The bus's handlers; `attach` the bus once it is open. */
  readonly handlers: BusHandlers = {
    message: (documentId, kind, payload) => this.#received(documentId, kind, payload),
    reconnected: () => void this.catchUp(),
    statusChanged: (connected) => {
      this.#options.metrics.set("relay_cluster_connected", connected ? 1 : 0);
      this.#options.onStatus(connected);
    },
  };

  attach(bus: NatsBus): void {
    this.#bus = bus;
    this.#options.metrics.set("relay_cluster_connected", 1);
  }

  get connected(): boolean {
    return this.#bus?.connected ?? false;
  }

  /** A writer of this relay sent these changes (RelayServerAdapter, before they are stored). */
  accepted(documentId: string, changes: Uint8Array[]): void {
    const bus = this.#bus;
    if (!bus) return;
    const bytes = changes.reduce((sum, c) => sum + c.byteLength, 0);
    // Too large for one NATS message: the `stored` notice after the save covers it.
    if (bytes > bus.maxPayload - ENVELOPE_BYTES) return;
    bus.publish(documentId, "changes", cbor.encode({ c: changes }));
    this.#options.metrics.inc("relay_cluster_messages_sent_total", { kind: "changes" });
  }

  /** This relay (any thread) stored the document; its copy had these heads. */
  stored(documentId: string, heads: string[]): void {
    const bus = this.#bus;
    if (!bus) return;
    bus.publish(documentId, "stored", cbor.encode({ h: heads }));
    this.#options.metrics.inc("relay_cluster_messages_sent_total", { kind: "stored" });
  }

  /** An ephemeral message one of this relay's writers sent. */
  ephemeral(message: Message & { documentId: string }): void {
    const bus = this.#bus;
    if (!bus) return;
    bus.publish(message.documentId, "ephemeral", cbor.encode(message));
    this.#options.metrics.inc("relay_cluster_messages_sent_total", { kind: "ephemeral" });
  }

  /** Reads every document in memory from storage again (after the bus came back). */
  async catchUp(): Promise<void> {
    const { documents, logger, metrics } = this.#options;
    metrics.inc("relay_cluster_catch_ups_total");
    try {
      const moved = await documents.catchUp();
      logger.info({ moved }, "caught up from storage after losing the cluster bus");
    } catch (error) {
      logger.error({ err: error }, "could not catch up from storage");
    }
  }

  async close(): Promise<void> {
    const bus = this.#bus;
    this.#bus = undefined;
    await bus?.close();
  }

  #received(documentId: string, kind: BusKind, payload: Uint8Array): void {
    const { metrics } = this.#options;
    metrics.inc("relay_cluster_messages_received_total", { kind });
    if (kind === "ephemeral") return this.#ephemeral(documentId, payload);
    // (#changes and #stored log their own failures and never reject.)
    void this.#queues.run(documentId, () => (kind === "changes" ? this.#changes(documentId, payload) : this.#stored(documentId, payload)));
  }

  async #changes(documentId: string, payload: Uint8Array): Promise<void> {
    const { documents, logger } = this.#options;
    if (!documents.isInMemory(documentId)) return;
    const envelope = decode(payload) as { c?: unknown } | undefined;
    const changes = envelope?.c;
    if (!Array.isArray(changes) || changes.length === 0 || !changes.every((c) => c instanceof Uint8Array)) {
      return void logger.warn({ documentId }, "cluster: a changes message of the wrong shape");
    }
    try {
      await documents.applyChanges(documentId, changes as Uint8Array[]);
    } catch (error) {
      // Not fatal: the `stored` notice that follows makes this relay read it from storage.
      logger.error({ err: error, documentId }, "cluster: could not apply another relay's changes");
    }
  }

  async #stored(documentId: string, payload: Uint8Array): Promise<void> {
    const { documents, adapter, logger } = this.#options;
    const envelope = decode(payload) as { h?: unknown } | undefined;
    const heads = envelope?.h;
    if (!Array.isArray(heads) || heads.length > 1024 || !heads.every((h) => typeof h === "string" && HEAD.test(h))) {
      return void logger.warn({ documentId }, "cluster: a stored message of the wrong shape");
    }
    try {
      if (!documents.isInMemory(documentId)) {
        // A request this relay answered "unavailable" can be answered now.
        adapter.documentStored(documentId);
        return;
      }
      const known = await documents.knownHeads(documentId, heads as string[]);
      if (known.length < heads.length) await documents.catchUp(documentId);
    } catch (error) {
      logger.error({ err: error, documentId }, "cluster: could not catch up with another relay's save");
    }
  }

  #ephemeral(documentId: string, payload: Uint8Array): void {
    const { documents, adapter } = this.#options;
    // Never load a document for someone's cursor.
    if (!documents.isInMemory(documentId)) return;
    let message: Record<string, unknown>;
    try {
      message = cbor.decode(payload) as Record<string, unknown>;
    } catch {
      return;
    }
    // The relay that sent it checked its writer's message (RelayServerAdapter); this one
    // checks that it is what it says, for this document, before its writers get it.
    if (message.type !== "ephemeral" || message.documentId !== documentId || typeof message.senderId !== "string" || !(message.data instanceof Uint8Array)) return;
    adapter.deliverFromCluster(message as unknown as Message);
  }
}

function decode(payload: Uint8Array): unknown {
  try {
    return cbor.decode(payload);
  } catch {
    return undefined;
  }
}
