/**
 * A relay's part in a relay cluster: what it tells the other relays, and what it does
 * with what they tell it (NatsBus has the subjects and the reasons for core NATS).
 *
 * Out: every chunk this relay (any of its threads) stores, right after it is in the
 * shared storage: automerge-repo writes a writer's changes as an incremental chunk, and a
 * new or compacted document as a snapshot, so this is exactly "accepted". Small
 * incremental chunks go whole; snapshots (whole documents, written now and then) and
 * chunks too large for NATS go by their key, and the relays holding the document read
 * them from storage. Ephemeral messages its writers send go out as they come.
 *
 * In: a chunk is applied to the copy in memory, in the thread that holds it, and the
 * Repo syncs it to this relay's writers; the Repo then saves its copy, which is the same
 * chunk under the same key (named by the hash of its content) and is not sent out again.
 * A document not in memory here needs nothing, except that a request for it this relay
 * answered "unavailable" is replayed (it exists now). An ephemeral message goes to this
 * relay's writers of the document if it is in memory here.
 *
 * After the bus was lost, every document in memory is read from storage again (catchUp):
 * storage has everything the others stored meanwhile.
 */
import { cbor, type Message } from "@automerge/automerge-repo/slim";
import type { Logger } from "pino";
import type { Metrics } from "../metrics";
import type { RelayDocuments } from "../RelayDocuments";
import type { RelayServerAdapter } from "../RelayServerAdapter";
import type { RelayStorage } from "../RelayStorage";
import type { BusHandlers, BusKind, NatsBus } from "./NatsBus";

/** Chunk hashes received from the bus, remembered so that their saves here are not sent back (bounded). */
const RECENT_CHUNKS = 10_000;
/** Room left in a NATS message for the envelope. */
const ENVELOPE_BYTES = 1024;
const CHUNK_HASH = /^[0-9a-f]{64}$/;

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
  readonly #recent = new Set<string>();
  /** Applying chunks, in order, per document: a chunk must not overtake the one before it. */
  readonly #queues = new Map<string, Promise<void>>();

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

  /** A chunk of `documentId` is in the shared storage now (any thread of this relay stored it). */
  chunkStored(documentId: string, kind: string, hash: string, data: Uint8Array): void {
    const bus = this.#bus;
    if (!bus || !CHUNK_HASH.test(hash) || (kind !== "incremental" && kind !== "snapshot")) return;
    // Applied from the bus and saved again here: the relay that sent it has told everyone.
    if (this.#recent.delete(hash)) return;
    const whole = kind === "incremental" && data.byteLength <= bus.maxPayload - ENVELOPE_BYTES;
    bus.publish(documentId, "changes", cbor.encode(whole ? { k: kind, h: hash, d: data } : { k: kind, h: hash }));
    this.#options.metrics.inc("relay_cluster_messages_sent_total", { kind: "changes" });
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
    if (kind === "changes") {
      const previous = this.#queues.get(documentId) ?? Promise.resolve();
      const next = previous.then(() => this.#changes(documentId, payload));
      this.#queues.set(documentId, next);
      void next.finally(() => {
        if (this.#queues.get(documentId) === next) this.#queues.delete(documentId);
      });
    } else if (kind === "ephemeral") {
      this.#ephemeral(documentId, payload);
    }
  }

  async #changes(documentId: string, payload: Uint8Array): Promise<void> {
    const { documents, storage, adapter, logger } = this.#options;
    let envelope: { k?: unknown; h?: unknown; d?: unknown };
    try {
      envelope = cbor.decode(payload) as { k?: unknown; h?: unknown; d?: unknown };
    } catch {
      return void logger.warn({ documentId }, "cluster: a changes message that is not CBOR");
    }
    const { h: hash, k: kind } = envelope;
    if (typeof hash !== "string" || !CHUNK_HASH.test(hash) || (kind !== "incremental" && kind !== "snapshot") || (envelope.d !== undefined && !(envelope.d instanceof Uint8Array))) {
      return void logger.warn({ documentId }, "cluster: a changes message of the wrong shape");
    }
    try {
      if (!documents.isInMemory(documentId)) {
        // Nothing to apply; a request this relay answered "unavailable" can be answered now.
        adapter.documentStored(documentId);
        return;
      }
      const data = (envelope.d as Uint8Array | undefined) ?? (await storage.load([documentId, kind, hash]));
      if (!data) return void logger.warn({ documentId, hash }, "cluster: a chunk announced by another relay is not in storage");
      this.#remember(hash);
      if (!(await documents.applyChunk(documentId, data))) this.#recent.delete(hash);
    } catch (error) {
      // Not fatal: the next catch-up or the writers' own sync brings it.
      logger.error({ err: error, documentId }, "cluster: could not apply another relay's changes");
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

  #remember(hash: string): void {
    if (this.#recent.size >= RECENT_CHUNKS) this.#recent.delete(this.#recent.values().next().value!);
    this.#recent.add(hash);
  }
}
