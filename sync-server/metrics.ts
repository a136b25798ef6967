/** A counter or gauge family: one value per label set. */
interface Family {
  help: string;
  type: "counter" | "gauge";
  values: Map<string, number>;
}

/**
 * The relay's metrics, rendered as Prometheus text. Small on purpose: a few counters
 * and gauges with bounded label sets (message types, close reasons), no dependency.
 */
export class Metrics {
  readonly #families = new Map<string, Family>();
  readonly #collectors: (() => void)[] = [];
  readonly #startSeconds = Date.now() / 1000;

  constructor() {
    this.#define("relay_connections", "gauge", "Live client and peer connections (joined or not).");
    this.#define("relay_connections_total", "counter", "Connections accepted since start.");
    this.#define("relay_rejected_connections_total", "counter", "Upgrades refused, by reason.");
    this.#define("relay_closed_connections_total", "counter", "Connections the relay closed, by reason.");
    this.#define("relay_documents_in_memory", "gauge", "Documents the relay holds in memory.");
    this.#define("relay_worker_documents_in_memory", "gauge", "Long documents each document worker holds in memory (as of its last report, at most 1 s old).");
    this.#define("relay_worker_documents_routed_total", "counter", "Long documents handed to a document worker when they were loaded.");
    this.#define("relay_worker_restarts_total", "counter", "Document workers that died and were started again.");
    this.#define("relay_documents_evicted_total", "counter", "Documents evicted from memory (idle, or over --max-documents-in-memory).");
    this.#define("relay_documents_evicted_over_budget_total", "counter", "Documents evicted before they were idle because more than --max-documents-in-memory were in memory.");
    this.#define("relay_messages_received_total", "counter", "Protocol messages received, by type.");
    this.#define("relay_messages_sent_total", "counter", "Protocol messages sent, by type.");
    this.#define("relay_bytes_received_total", "counter", "Bytes of protocol messages received.");
    this.#define("relay_bytes_sent_total", "counter", "Bytes of protocol messages sent.");
    this.#define("relay_refused_changes_total", "counter", "Sync messages and change broadcasts from read-only tokens whose changes were dropped.");
    this.#define("relay_unavailable_answers_total", "counter", "Requests for unknown documents answered at once with doc-unavailable.");
    this.#define("relay_sync_resyncs_total", "counter", "Times sync with a peer had stalled (silent while its heads differed) and was started again.");
    this.#define("relay_throttled_total", "counter", "Times a connection was paused for sending too fast.");
    this.#define("relay_slowed_total", "counter", "Times a connection stopped being read because the relay held more than its byte budget on its behalf.");
    this.#define("relay_held_bytes", "gauge", "Bytes the relay holds on connections' behalf, by kind: queued (frames not yet handled), waiting (requests for documents not here yet), unsaved (changes not yet on disk).");
    this.#define("relay_pending_upgrades", "gauge", "TCP connections that have not yet finished their HTTP request or WebSocket upgrade.");
    this.#define("relay_storage_failing", "gauge", "1 while a save to the relay's disk keeps failing (its changes are held in memory and retried, and not confirmed to writers), else 0.");
    this.#define("relay_pending_saves", "gauge", "Saves waiting for the disk, on the main thread and in document workers.");
    this.#define("relay_sync_messages_dropped_total", "counter", "Sync replies not sent because the copy they spoke for was lost (a document worker died before saving).");
    this.#define("relay_ephemeral_refused_total", "counter", "Ephemeral messages (presence, keystrokes) not forwarded: sent in another connection's author's name, or from too many authors on one connection.");
    this.#define("relay_peers_connected", "gauge", "Relay peers with a live connection.");
    this.#define("relay_peer_pending_documents", "gauge", "Documents changed here that relay peers have not confirmed.");
    this.#define("process_resident_memory_bytes", "gauge", "Resident set size of the relay process.");
    this.#define("process_heap_used_bytes", "gauge", "V8 heap in use.");
    this.#define("process_cpu_seconds_total", "counter", "User and system CPU time.");
    this.#define("process_start_time_seconds", "gauge", "Start time of the process, Unix seconds.");
  }

  /** Adds `by` to a counter. */
  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const family = this.#family(name);
    const key = labelKey(labels);
    family.values.set(key, (family.values.get(key) ?? 0) + by);
  }

  /** Sets a gauge. */
  set(name: string, value: number, labels: Record<string, string> = {}): void {
    this.#family(name).values.set(labelKey(labels), value);
  }

  /** Current value (tests, health). */
  get(name: string, labels: Record<string, string> = {}): number {
    return this.#family(name).values.get(labelKey(labels)) ?? 0;
  }

  /** Runs `collect` before each rendering, to refresh gauges that are read, not counted. */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    for (const collect of this.#collectors) collect();
    const usage = process.cpuUsage();
    const memory = process.memoryUsage();
    this.set("process_resident_memory_bytes", memory.rss);
    this.set("process_heap_used_bytes", memory.heapUsed);
    this.#family("process_cpu_seconds_total").values.set("", (usage.user + usage.system) / 1e6);
    this.set("process_start_time_seconds", this.#startSeconds);
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      if (family.values.size === 0) lines.push(`${name} 0`);
      for (const [key, value] of family.values) lines.push(`${name}${key} ${value}`);
    }
    return lines.join("\n") + "\n";
  }

  #define(name: string, type: Family["type"], help: string): void {
    this.#families.set(name, { help, type, values: new Map() });
  }

  #family(name: string): Family {
    const family = this.#families.get(name);
    if (!family) throw new RangeError(`Unknown metric ${name}`);
    return family;
  }
}

function labelKey(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/[\\"\n]/g, "_")}"`).join(",")}}`;
}
