import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from "prom-client";

/**
 * Buckets of the relay's time histograms, in seconds: a save or a sync round on a healthy
 * disk takes a few milliseconds; past 10 s a writer has long been told something is
 * wrong (the +Inf bucket counts those).
 */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Definition {
  help: string;
  /** The label names its samples carry (prom-client refuses any other). */
  labels?: readonly string[];
}

/** The counters: only ever go up, from 0 at start. */
const COUNTERS = {
  relay_connections_total: { help: "Connections accepted since start." },
  relay_rejected_connections_total: { help: "Upgrades refused, by reason.", labels: ["reason"] },
  relay_closed_connections_total: { help: "Connections the relay closed, by reason.", labels: ["reason"] },
  relay_worker_documents_routed_total: { help: "Long documents handed to a document worker when they were loaded." },
  relay_worker_restarts_total: { help: "Document workers that died and were started again." },
  relay_documents_evicted_total: { help: "Documents evicted from memory (idle, or over --max-documents-in-memory)." },
  relay_documents_evicted_over_budget_total: { help: "Documents evicted before they were idle because more than --max-documents-in-memory were in memory." },
  relay_messages_received_total: { help: "Protocol messages received, by type.", labels: ["type"] },
  relay_messages_sent_total: { help: "Protocol messages sent, by type.", labels: ["type"] },
  relay_bytes_received_total: { help: "Bytes of protocol messages received." },
  relay_bytes_sent_total: { help: "Bytes of protocol messages sent." },
  relay_refused_changes_total: { help: "Sync messages and change broadcasts from read-only tokens whose changes were dropped." },
  relay_unavailable_answers_total: { help: "Requests for unknown documents answered at once with doc-unavailable." },
  relay_sync_resyncs_total: { help: "Times sync with a peer had stalled (silent while its heads differed) and was started again." },
  relay_throttled_total: { help: "Times a connection was paused for sending too fast." },
  relay_slowed_total: { help: "Times a connection stopped being read because the relay held more than its byte budget on its behalf." },
  relay_sync_messages_dropped_total: { help: "Sync replies not sent because the copy they spoke for was lost (a document worker died before saving)." },
  relay_ephemeral_refused_total: {
    help: "Ephemeral messages (presence, keystrokes) not forwarded: sent in another connection's author's name, or from too many authors on one connection.",
    labels: ["reason"],
  },
  relay_failed_saves_total: {
    help: "Save attempts the relay's disk refused (full, read-only, failing), on the main thread and in document workers; each is kept in memory and retried, and counted again if the retry fails too.",
  },
  relay_quarantined_chunks_total: {
    help: "Stored chunks that failed their checks (checksum, truncation, header) when read, on the main thread and in document workers, and were moved to quarantine/ in the documents directory.",
  },
  relay_cluster_messages_sent_total: { help: "Messages this relay published to the other relays of its cluster (NATS), by kind: changes, stored, ephemeral.", labels: ["kind"] },
  relay_cluster_messages_received_total: { help: "Messages from the other relays of the cluster, by kind, whether or not this relay held the document.", labels: ["kind"] },
  relay_cluster_catch_ups_total: { help: "Times the relay read its documents in memory from storage again because it had lost the cluster bus." },
} as const satisfies Record<string, Definition>;

/** The gauges: a value as of now, set when it changes or just before each rendering (onCollect). */
const GAUGES = {
  relay_connections: { help: "Live client and peer connections (joined or not)." },
  relay_documents_in_memory: { help: "Documents the relay holds in memory." },
  relay_worker_documents_in_memory: { help: "Long documents each document worker holds in memory (as of its last report, at most 1 s old).", labels: ["worker"] },
  relay_held_bytes: {
    help: "Bytes the relay holds on connections' behalf, by kind: queued (frames not yet handled), waiting (requests for documents not here yet), unsaved (changes not yet on disk).",
    labels: ["kind"],
  },
  relay_pending_upgrades: { help: "TCP connections that have not yet finished their HTTP request or WebSocket upgrade." },
  relay_storage_failing: { help: "1 while a save to the relay's disk keeps failing (its changes are held in memory and retried, and not confirmed to writers), else 0." },
  relay_pending_saves: { help: "Saves waiting for the disk, on the main thread and in document workers." },
  relay_peers_connected: { help: "Relay peers with a live connection." },
  relay_peer_pending_documents: { help: "Documents changed here that relay peers have not confirmed." },
  relay_cluster_connected: { help: "In a relay cluster: 1 while the relay is connected to the cluster bus (NATS), else 0 (and it refuses new connections)." },
} as const satisfies Record<string, Definition>;

/** The histograms, of durations in seconds (SECONDS_BUCKETS). */
const HISTOGRAMS = {
  relay_save_seconds: {
    help:
      "Time one save of a document's changes (a snapshot or incremental chunk) took to reach the relay's disk: from the storage's call until the chunk was written, " +
      "fsynced and renamed into place and its directory fsynced, including any wait behind an earlier operation on the same chunk. On the main thread and in " +
      "document workers (theirs reported once a second). Refused attempts are not here (relay_failed_saves_total); the retry that succeeds is.",
  },
  relay_sync_round_seconds: {
    help:
      'The round a writer waits for "on the relay": from the arrival of a sync message with changes on a connection until the relay sends that connection, ' +
      "for that document, the first sync message that confirms them: one that claims heads including the changes' heads, or was made once a copy holding them " +
      "was being stored. Such a message leaves only once the relay's copy is on disk. Rounds never confirmed (the connection closed first) are not observed.",
  },
} as const satisfies Record<string, Definition>;

type CounterName = keyof typeof COUNTERS;
type GaugeName = keyof typeof GAUGES;
type HistogramName = keyof typeof HISTOGRAMS;
type Labels = Record<string, string>;

/**
 * The process's own metrics (CPU, memory, file descriptors, event-loop lag, GC, heap), one
 * set for the process: prom-client's collectors start a GC observer and an event-loop
 * delay monitor that nothing can stop, so several relays in one process (tests) share
 * them rather than each starting its own. Made on first use: a document worker thread,
 * which never renders metrics, starts none.
 */
let processRegistry: Registry | undefined;

function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The relay's metrics, through prom-client: its counters, gauges and histograms in a
 * registry of its own (several relays can run in one process), rendered with the
 * process's default metrics. Label values are escaped by prom-client as the Prometheus
 * text format wants (backslash, double quote, newline). The names are fixed above, so a
 * misspelt one is a type error rather than a metric nobody reads.
 */
export class Metrics {
  readonly #counters = new Map<CounterName, Counter>();
  readonly #gauges = new Map<GaugeName, Gauge>();
  readonly #histograms = new Map<HistogramName, Histogram>();
  readonly #collectors: (() => void)[] = [];
  /** The relay's metrics and the process's, rendered together. */
  readonly #registry: Registry;

  constructor() {
    const own = new Registry();
    const registers = [own];
    for (const [name, { help, ...rest }] of Object.entries(COUNTERS) as [CounterName, Definition][]) {
      this.#counters.set(name, new Counter({ name, help, labelNames: rest.labels ?? [], registers }));
    }
    for (const [name, { help, ...rest }] of Object.entries(GAUGES) as [GaugeName, Definition][]) {
      this.#gauges.set(name, new Gauge({ name, help, labelNames: rest.labels ?? [], registers }));
    }
    for (const [name, { help, ...rest }] of Object.entries(HISTOGRAMS) as [HistogramName, Definition][]) {
      this.#histograms.set(name, new Histogram({ name, help, labelNames: rest.labels ?? [], buckets: SECONDS_BUCKETS, registers }));
    }
    this.#registry = Registry.merge([own, processMetrics()]);
  }

  /** Adds `by` to a counter. */
  inc(name: CounterName, labels: Labels = {}, by = 1): void {
    this.#counters.get(name)!.inc(labels, by);
  }

  /** Sets a gauge. */
  set(name: GaugeName, value: number, labels: Labels = {}): void {
    this.#gauges.get(name)!.set(labels, value);
  }

  /** Adds one duration, in seconds, to a histogram. */
  observe(name: HistogramName, seconds: number, labels: Labels = {}): void {
    this.#histograms.get(name)!.observe(labels, seconds);
  }

  /** Current value of a counter or gauge, or how many durations a histogram has (tests). */
  async get(name: CounterName | GaugeName | HistogramName, labels: Labels = {}): Promise<number> {
    const metric = this.#counters.get(name as CounterName) ?? this.#gauges.get(name as GaugeName) ?? this.#histograms.get(name as HistogramName)!;
    const { values } = (await metric.get()) as MetricObjectWithValues<MetricValue<string> & { metricName?: string }>;
    const wanted = Object.entries(labels);
    const sample = values.find(
      (v) =>
        (v.metricName === undefined || v.metricName === `${name}_count`) &&
        Object.keys(v.labels).length === wanted.length &&
        wanted.every(([key, value]) => v.labels[key] === value),
    );
    return sample?.value ?? 0;
  }

  /** Runs `collect` before each rendering, to refresh gauges that are read, not counted. */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /** The Prometheus text exposition of every metric, and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    for (const collect of this.#collectors) collect();
    return { text: await this.#registry.metrics(), contentType: this.#registry.contentType };
  }
}
