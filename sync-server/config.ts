/**
 * The relay's settings: one table, from which come the command line's flags, the
 * environment variables, the configuration file's keys, their validation (zod, as for
 * everything else that comes from outside) and their defaults.
 *
 * Precedence, highest first: a flag, its environment variable, the configuration file
 * (`--config relay.toml` or `.json`, or RELAY_CONFIG), the default. A key the file does
 * not know is refused by name rather than ignored: a misspelt limit that silently kept
 * its default is the kind of mistake a self-hoster finds out about in production.
 *
 * Secrets do not belong on a command line, where every user of the machine sees them in
 * the process list: peer and metrics tokens come from files (`--peer-token-file`,
 * `--metrics-token-file`), or from systemd's credentials (`LoadCredential=peer-token:…`
 * puts the file in $CREDENTIALS_DIRECTORY, where the relay looks for it by name).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import * as z from "zod";
// The limits alone: the protocol barrel loads Automerge, which a token command never needs.
import * as limits from "../src/node/protocol/limits";

const int = (min: number) =>
  z
    .number({ error: `expected an integer >= ${min}` })
    .int({ error: `expected an integer >= ${min}` })
    .min(min, { error: `expected an integer >= ${min}` })
    .max(Number.MAX_SAFE_INTEGER, { error: "too large" });
const text = z.string({ error: "expected a string" }).min(1, { error: "must not be empty" });
const flag = z.boolean({ error: "expected true or false" });
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

interface Setting {
  /** The flag without its dashes; also the key in the configuration file (unless `key`). */
  flag: string;
  /** The configuration file's key, where it differs from the flag (`peers` for `--peer`). */
  key?: string;
  env: string;
  help: string;
  kind: "int" | "string" | "bool" | "list";
  schema: z.ZodType;
  /** The value when nothing sets it (absent: unset). */
  default?: unknown;
  /** How --help shows a default that is computed. */
  defaultHelp?: string;
  /** The flag's argument name in --help. */
  arg?: string;
}

/** Every setting of `relay` (the server; the token commands take only --data). */
export const SETTINGS: readonly Setting[] = [
  { flag: "port", env: "RELAY_PORT", kind: "int", schema: int(0).max(65_535, { error: "expected a port, 0 to 65535" }), default: 8787, help: "port to listen on (0: any free port)", arg: "n" },
  { flag: "host", env: "RELAY_HOST", kind: "string", schema: text, default: "127.0.0.1", help: "address to listen on; put a TLS proxy in front for anything but loopback", arg: "host" },
  { flag: "data", env: "RELAY_DATA_DIR", kind: "string", schema: text, help: "data directory (documents, tokens, peers.json)", arg: "dir" },
  {
    flag: "storage",
    env: "RELAY_STORAGE",
    kind: "string",
    schema: z.string().regex(/^(files|postgres(ql)?:\/\/\S+)$/, { error: 'expected "files" or a postgres:// URL' }),
    default: "files",
    help: 'where documents are kept: "files" (in the data directory) or postgres://user@host/db for a relay cluster (put a password in the configuration file or PGPASSWORD, not on the command line)',
    arg: "where",
  },
  {
    flag: "nats",
    env: "RELAY_NATS",
    kind: "string",
    schema: z.string().regex(/^(nats|tls):\/\/\S+$/, { error: "expected nats://host:4222 (several: comma-separated)" }),
    help: "a relay cluster's bus, nats://host:4222 (with --storage postgres://...): writers on every relay of the cluster see each other's changes at once",
    arg: "url",
  },
  { flag: "peer", key: "peers", env: "RELAY_PEERS", kind: "list", schema: z.array(z.string().regex(/^wss?:\/\/\S+$/, { error: "expected ws:// or wss:// URLs" }), { error: "expected a list of ws:// or wss:// URLs" }), help: "another relay to replicate with, ws(s)://host:port/ (repeatable; RELAY_PEERS: comma-separated); its token from --peer-token-file", arg: "url" },
  { flag: "peer-token-file", env: "RELAY_PEER_TOKEN_FILE", kind: "string", schema: text, help: "file holding the token for peers whose URL has none (default: $CREDENTIALS_DIRECTORY/peer-token when systemd provides it)", arg: "file" },
  { flag: "peer-token", env: "RELAY_PEER_TOKEN", kind: "string", schema: text, help: "the peer token itself: visible in the process list, prefer --peer-token-file", arg: "token" },
  { flag: "peer-backoff-max-ms", env: "RELAY_PEER_BACKOFF_MAX_MS", kind: "int", schema: int(100), default: 30_000, help: "longest pause between attempts to reach a peer relay", arg: "ms" },
  { flag: "allow-anonymous", env: "RELAY_ALLOW_ANONYMOUS", kind: "bool", schema: flag, default: false, help: "accept connections without a token (local development only!)" },
  { flag: "trust-proxy", env: "RELAY_TRUST_PROXY", kind: "bool", schema: flag, default: false, help: "the relay is behind a reverse proxy: take clients' addresses (for logs and limits) from the last X-Forwarded-For entry" },
  { flag: "log-level", env: "RELAY_LOG_LEVEL", kind: "string", schema: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(", ")}` }), default: "info", help: "fatal, error, warn, info, debug or trace", arg: "level" },
  { flag: "metrics-host", env: "RELAY_METRICS_HOST", kind: "string", schema: text, help: "serve /metrics on this address only, not on the relay's port (with --metrics-port; default 127.0.0.1)", arg: "host" },
  { flag: "metrics-port", env: "RELAY_METRICS_PORT", kind: "int", schema: int(0).max(65_535, { error: "expected a port, 0 to 65535" }), help: "serve /metrics on this port only, not on the relay's port", arg: "n" },
  { flag: "metrics-token-file", env: "RELAY_METRICS_TOKEN_FILE", kind: "string", schema: text, help: "/metrics requires Authorization: Bearer <the token in this file> (default: $CREDENTIALS_DIRECTORY/metrics-token when systemd provides it)", arg: "file" },
  { flag: "sync-debounce-ms", env: "RELAY_SYNC_DEBOUNCE_MS", kind: "int", schema: int(0), default: 50, help: "how long sync may gather changes for a peer before it sends them (keystrokes are forwarded at once anyway; automerge-repo's default is 100)", arg: "ms" },
  { flag: "save-debounce-ms", env: "RELAY_SAVE_DEBOUNCE_MS", kind: "int", schema: int(0), default: 50, help: "how long a change may wait before it is written to disk", arg: "ms" },
  { flag: "idle-evict-ms", env: "RELAY_IDLE_EVICT_MS", kind: "int", schema: int(100), default: 300_000, help: "documents without traffic for this long leave memory (they stay on disk)", arg: "ms" },
  { flag: "max-documents-in-memory", env: "RELAY_MAX_DOCUMENTS_IN_MEMORY", kind: "int", schema: int(1), default: 200, help: "past this many documents in memory, the least recently used leave before they are idle (they stay on disk)", arg: "n" },
  { flag: "max-message-bytes", env: "RELAY_MAX_MESSAGE_BYTES", kind: "int", schema: int(1024), default: limits.MAX_FRAME_BYTES, help: "largest WebSocket frame accepted", arg: "n" },
  { flag: "max-messages-per-second", env: "RELAY_MAX_MESSAGES_PER_SECOND", kind: "int", schema: int(1), default: limits.MESSAGES_PER_SECOND, help: "sustained messages per second per connection", arg: "n" },
  { flag: "message-burst", env: "RELAY_MESSAGE_BURST", kind: "int", schema: int(1), default: limits.MESSAGE_BURST, help: "messages a connection may send at once before the rate applies", arg: "n" },
  { flag: "max-documents-per-connection", env: "RELAY_MAX_DOCUMENTS_PER_CONNECTION", kind: "int", schema: int(1), default: limits.MAX_DOCUMENTS_PER_CONNECTION, help: "distinct documents one connection may sync", arg: "n" },
  { flag: "join-timeout-ms", env: "RELAY_JOIN_TIMEOUT_MS", kind: "int", schema: int(100), default: limits.JOIN_TIMEOUT_MS, help: "connections that send no valid join in this time are closed", arg: "ms" },
  {
    flag: "workers",
    env: "RELAY_WORKERS",
    kind: "int",
    schema: int(0),
    default: Math.max(1, Math.min(4, os.availableParallelism() - 1)),
    defaultHelp: "cores - 1, between 1 and 4",
    help: "worker threads that load, sync and save long documents, so that nobody waits while one loads (0: all on one thread)",
    arg: "n",
  },
  { flag: "worker-threshold-bytes", env: "RELAY_WORKER_THRESHOLD_BYTES", kind: "int", schema: int(0), default: 16_384, help: "a document of at least this many bytes on disk is loaded in a worker (16384: about 0.1 s of loading)", arg: "n" },
  { flag: "max-connections", env: "RELAY_MAX_CONNECTIONS", kind: "int", schema: int(1), default: limits.MAX_CONNECTIONS, help: "live connections; beyond it upgrades get HTTP 503", arg: "n" },
  { flag: "max-connections-per-token", env: "RELAY_MAX_CONNECTIONS_PER_TOKEN", kind: "int", schema: int(1), default: limits.MAX_CONNECTIONS_PER_TOKEN, help: "live connections one token may hold; beyond it its upgrades get HTTP 429", arg: "n" },
  { flag: "idle-timeout-ms", env: "RELAY_IDLE_TIMEOUT_MS", kind: "int", schema: int(100), default: limits.IDLE_TIMEOUT_MS, help: "a connection that sends no message for this long is closed (relay peers excepted); desktops reconnect when they have something to say", arg: "ms" },
  {
    flag: "max-held-bytes-per-connection",
    env: "RELAY_MAX_HELD_BYTES_PER_CONNECTION",
    kind: "int",
    schema: int(1024),
    default: limits.MAX_HELD_BYTES_PER_CONNECTION,
    help: "bytes the relay may hold for one connection (frames not yet handled, requests waiting for a document, changes not yet on disk); beyond it the connection is slowed, then closed",
    arg: "n",
  },
  { flag: "max-held-bytes", env: "RELAY_MAX_HELD_BYTES", kind: "int", schema: int(1024), default: limits.MAX_HELD_BYTES, help: "bytes the relay may hold for all connections together", arg: "n" },
  { flag: "max-pending-upgrades", env: "RELAY_MAX_PENDING_UPGRADES", kind: "int", schema: int(1), default: limits.MAX_PENDING_UPGRADES, help: "connections that have not finished their HTTP request; beyond it the oldest is dropped", arg: "n" },
  { flag: "request-timeout-ms", env: "RELAY_REQUEST_TIMEOUT_MS", kind: "int", schema: int(100), default: limits.REQUEST_TIMEOUT_MS, help: "time a connection has to send its whole HTTP request or upgrade", arg: "ms" },
];

/** The settings as the relay uses them, once every source has had its say. */
export interface RelaySettings {
  port: number;
  host: string;
  data?: string;
  storage: string;
  nats?: string;
  peers: string[];
  peerToken?: string;
  peerBackoffMaxMs: number;
  allowAnonymous: boolean;
  trustProxy: boolean;
  logLevel: (typeof LOG_LEVELS)[number];
  metricsHost?: string;
  metricsPort?: number;
  metricsToken?: string;
  syncDebounceMs: number;
  saveDebounceMs: number;
  idleEvictMs: number;
  maxDocumentsInMemory: number;
  maxMessageBytes: number;
  maxMessagesPerSecond: number;
  messageBurst: number;
  maxDocumentsPerConnection: number;
  joinTimeoutMs: number;
  workers: number;
  workerThresholdBytes: number;
  maxConnections: number;
  maxConnectionsPerToken: number;
  idleTimeoutMs: number;
  maxHeldBytesPerConnection: number;
  maxHeldBytes: number;
  maxPendingUpgrades: number;
  requestTimeoutMs: number;
}

/** Settings that cannot be used, every problem at once, each with where it came from. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`the relay's settings are not valid:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

/** `max-held-bytes` → `maxHeldBytes` (commander's attribute names). */
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The configuration file's schema: every key optional, unknown keys refused by name. */
const FILE_SCHEMA = z.strictObject(Object.fromEntries(SETTINGS.map((s) => [s.key ?? s.flag, s.schema.optional()])));

/** Parses one string value of a setting (a flag's argument or an environment variable). */
function fromString(setting: Setting, raw: string): z.ZodSafeParseResult<unknown> {
  switch (setting.kind) {
    case "int":
      return setting.schema.safeParse(raw.trim() === "" ? Number.NaN : Number(raw));
    case "bool": {
      const value = raw.trim().toLowerCase();
      if (/^(1|true|yes|on)$/.test(value)) return setting.schema.safeParse(true);
      if (/^(|0|false|no|off)$/.test(value)) return setting.schema.safeParse(false);
      return setting.schema.safeParse(raw);
    }
    case "list":
      return setting.schema.safeParse(raw.split(",").map((p) => p.trim()).filter(Boolean));
    case "string":
      return setting.schema.safeParse(raw);
  }
}

/** Parses a flag's argument; throws the message commander shows. */
export function parseArgument(setting: Setting, raw: string): unknown {
  const parsed = fromString(setting, raw);
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? "not valid");
  return parsed.data;
}

/** Reads and validates a configuration file: TOML by its `.toml` name, JSON by `.json`. */
export function readConfigFile(file: string): Record<string, unknown> {
  const ext = path.extname(file).toLowerCase();
  if (ext !== ".toml" && ext !== ".json") throw new SettingsError([`${file}: a configuration file is .toml or .json`]);
  let textContent: string;
  try {
    textContent = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new SettingsError([`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`]);
  }
  let raw: unknown;
  try {
    raw = ext === ".toml" ? parseToml(textContent) : JSON.parse(textContent);
  } catch (error) {
    throw new SettingsError([`${file}: not valid ${ext === ".toml" ? "TOML" : "JSON"}: ${(error as Error).message.split("\n")[0]}`]);
  }
  const parsed = FILE_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    throw new SettingsError(
      parsed.error.issues.map((issue) => {
        if (issue.code === "unrecognized_keys") return `${file}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}${hint(issue.keys[0]!)}`;
        if (issue.path.length === 0) return `${file}: expected a table of settings`;
        return `${file}: ${issue.path.join(".")}: ${issue.message}`;
      }),
    );
  }
  // Paths in the file are relative to the file, wherever the relay is started from.
  const base = path.dirname(path.resolve(file));
  const values: Record<string, unknown> = { ...parsed.data };
  for (const key of ["data", "peer-token-file", "metrics-token-file"]) {
    if (typeof values[key] === "string") values[key] = path.resolve(base, values[key]);
  }
  return values;
}

/** " (did you mean "max-connections"?)" for a key one or two edits away from a real one. */
function hint(key: string): string {
  const known = SETTINGS.map((s) => s.key ?? s.flag);
  const near = known.find((k) => editDistance(k, key) <= 2);
  return near ? ` (did you mean "${near}"?)` : "";
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

export interface SettingsSources {
  /** Values given as flags (already parsed by parseArgument), by commander attribute name. */
  flags: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  /** The configuration file to read, if any (--config, else RELAY_CONFIG). */
  configFile?: string;
}

/**
 * Every setting from its strongest source: flag, environment, configuration file,
 * default. Secrets named by files are read here. Throws SettingsError listing every
 * problem.
 */
export function resolveSettings(sources: SettingsSources): RelaySettings {
  const problems: string[] = [];
  const configFile = sources.configFile ?? (sources.env.RELAY_CONFIG?.trim() || undefined);
  let file: Record<string, unknown> = {};
  if (configFile) {
    try {
      file = readConfigFile(configFile);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      problems.push(...error.problems);
    }
  }
  const values: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const attribute = camel(setting.flag);
    const key = setting.key ?? setting.flag;
    const fromEnv = sources.env[setting.env];
    let value: unknown;
    if (sources.flags[attribute] !== undefined) value = sources.flags[attribute];
    else if (fromEnv !== undefined && fromEnv !== "") {
      const parsed = fromString(setting, fromEnv);
      if (parsed.success) value = parsed.data;
      else problems.push(`${setting.env}=${JSON.stringify(fromEnv)}: ${parsed.error.issues[0]?.message ?? "not valid"}`);
    } else if (file[key] !== undefined) value = file[key];
    else value = setting.default;
    values[setting.key ? camel(setting.key) : attribute] = value;
  }
  values.peers ??= [];
  // Secrets: from the files named, else from systemd's credentials directory.
  const credentials = sources.env.CREDENTIALS_DIRECTORY;
  const secret = (named: unknown, credential: string, what: string): string | undefined => {
    const file = typeof named === "string" ? named : credentials && fs.existsSync(path.join(credentials, credential)) ? path.join(credentials, credential) : undefined;
    if (!file) return undefined;
    try {
      const value = fs.readFileSync(file, "utf8").trim();
      if (value === "" || /\s/.test(value)) problems.push(`${what} ${file}: expected one token on one line`);
      return value;
    } catch (error) {
      problems.push(`${what} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return undefined;
    }
  };
  const peerTokenFromFile = secret(values.peerTokenFile, "peer-token", "peer token file");
  if (peerTokenFromFile !== undefined && values.peerToken !== undefined) problems.push("--peer-token and --peer-token-file both given: use the file");
  values.peerToken ??= peerTokenFromFile;
  values.metricsToken = secret(values.metricsTokenFile, "metrics-token", "metrics token file");
  if (values.nats !== undefined && values.storage === "files") problems.push("--nats needs --storage postgres://...: the relays of a cluster share their storage");
  if (values.metricsHost !== undefined && values.metricsPort === undefined) problems.push("--metrics-host needs --metrics-port: /metrics moves to its own listener only with a port");
  delete values.peerTokenFile;
  delete values.metricsTokenFile;
  if (problems.length > 0) throw new SettingsError(problems);
  return values as unknown as RelaySettings;
}
