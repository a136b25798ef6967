// Starts real relay processes through the relay's CLI, for integration tests and
// benchmarks, and gives clients to talk to them.
import { afterEach } from "vitest";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { Repo, cbor, type PeerId } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import WebSocket from "ws";
export { freePort } from "./ports";
export { eventually } from "./wait";
import { TokenStore } from "../../sync-server/tokens";
import { afterEveryFile } from "./fileEnd";
import { programArgs } from "./programs";
import { eventually } from "./wait";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const run = promisify(execFile);

export interface StartRelayOptions {
  /** Created in the temp directory if omitted. */
  dataDir?: string;
  /** 0 (default) lets the relay pick a free port. */
  port?: number;
  /** `--peer` URLs. */
  peers?: string[];
  env?: Record<string, string>;
  /** More CLI arguments, e.g. `["--allow-anonymous"]`. */
  args?: string[];
  /** Arguments for node itself, before the relay's (e.g. `["--import", probe]`). */
  nodeArgs?: string[];
  /** How long to wait for the listening line (default 30 s). */
  timeoutMs?: number;
  /** A relay that computes for long (a trace replay): keeps V8's optimising compiler (programs.ts). */
  longRunning?: boolean;
}

export interface RunningRelay {
  /** `ws://127.0.0.1:PORT` */
  url: string;
  port: number;
  dataDir: string;
  /** The relay's own node process (not an npm wrapper): signals reach it. */
  pid: number;
  /** SIGTERM; resolves with the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Everything the relay printed so far (JSON log lines). */
  logs(): string;
  /** Whether the process has exited. */
  exited(): boolean;
}

const running = new Set<ChildProcess>();
const killRunning = () => {
  for (const child of running) child.kill("SIGKILL");
};
process.once("exit", killRunning);
// A relay a test file left running (one that never started, say) would keep a core busy
// for the rest of the run, in the process the next files share.
afterEveryFile(killRunning);


/** Temp directories made by this test file; removed after it (KEEP_TEST_DIRS=1 keeps them). */
const madeDirs: string[] = [];
afterEveryFile(() => {
  if (process.env.KEEP_TEST_DIRS) return;
  for (const dir of madeDirs.splice(0)) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Still in use (a mount a test left behind): leave it to the OS's temp cleanup.
    }
  }
});

/** A fresh temp directory for a relay or a host (under the OS temp dir), removed after the test file. */
export function tempDir(prefix = "relay-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** Starts a relay through its CLI and resolves once it prints that it is listening. */
export async function startRelay(options: StartRelayOptions = {}): Promise<RunningRelay> {
  const dataDir = options.dataDir ?? tempDir();
  const args = [...(options.nodeArgs ?? []), ...programArgs("relay", { longRunning: options.longRunning }), "--port", String(options.port ?? 0), "--host", "127.0.0.1", "--data", dataDir];
  for (const peer of options.peers ?? []) args.push("--peer", peer);
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, RELAY_LOG_LEVEL: "debug", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let output = "";
  const exit = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  let exited = false;
  void exit.then(() => (exited = true));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left behind: a relay stuck at start may be spinning.
      child.kill("SIGKILL");
      reject(new Error(`relay did not start in time:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (ws:\/\/[^\s"',]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    pid: child.pid!,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      return exit;
    },
    async kill() {
      if (!exited) child.kill("SIGKILL");
      await exit;
    },
    logs: () => output,
    exited: () => exited,
  };
}

/**
 * Relays and client Repos for one test file, stopped after each test whatever its
 * outcome: the clients first (a shutdown that throws because its socket is gone is
 * fine), then the relays (SIGKILL).
 */
export function useRelays(): {
  relay(options?: StartRelayOptions): Promise<RunningRelay>;
  client(url: string, token: string | null, peerId?: string): Repo;
  /** Stops this relay or Repo after the test too (one started some other way). */
  keep<T extends RunningRelay | Repo>(thing: T): T;
} {
  const relays: RunningRelay[] = [];
  const repos: Repo[] = [];
  afterEach(async (context) => {
    // A failed test shows what its relays said last: the why of a failure seen only on a
    // busy machine, and the CI page keeps the test's output.
    if (context.task.result?.state === "fail") {
      for (const r of relays) console.error(`relay on ${r.url} (${r.exited() ? "exited" : "running"}), its last log lines:\n${r.logs().split("\n").slice(-25).join("\n")}`);
    }
    for (const repo of repos.splice(0)) {
      try {
        // Throws (even synchronously, from the stock adapter's asserts) when the test
        // already shut it down or its socket is gone: nothing left to wait for then.
        await repo.shutdown();
      } catch {
        // See above.
      }
    }
    await Promise.all(relays.splice(0).map((r) => r.kill()));
  });
  const keep = <T extends RunningRelay | Repo>(thing: T): T => {
    if ("dataDir" in thing) relays.push(thing);
    else repos.push(thing as Repo);
    return thing;
  };
  return {
    relay: async (options = {}) => keep(await startRelay(options)),
    client: (url, token, peerId) => keep(clientRepo(url, token, peerId)),
    keep,
  };
}

/**
 * Creates a token and returns it. `where` is the relay's data folder, or with `storage:
 * true` its database's URL (a cluster's tokens), or with `cli: true` either, through the
 * relay's CLI. A data folder's token is written by the relay's own token file code
 * (TokenStore, what `relay token add` runs) in this process: the suite makes some 160
 * tokens, and a CLI process for each was about 50 s of processor time a run. The CLI
 * itself is tested by relay-tokens.test.ts, and through it wherever `cli` is given.
 */
export async function addToken(where: string, name: string, options: { readOnly?: boolean; relay?: boolean; storage?: boolean; cli?: boolean } = {}): Promise<string> {
  if (!options.storage && !options.cli) {
    if (options.readOnly && options.relay) throw new Error("a token is read-only or a relay's, not both");
    return new TokenStore(where).add(name, options.readOnly ? "read-only" : options.relay ? "relay" : "full");
  }
  const args = [...programArgs("relay"), "token", "add", name, options.storage ? "--storage" : "--data", where];
  if (options.readOnly) args.push("--read-only");
  if (options.relay) args.push("--relay");
  const { stdout } = await run(process.execPath, args, { cwd: PROJECT_ROOT });
  const token = stdout.split(/\s+/).find((word) => /^[A-Za-z0-9_-]{43}$/.test(word));
  if (!token) throw new Error(`no token in: ${stdout}`);
  return token;
}

/** Revokes a token with the relay's CLI (a separate process, as an operator would). */
export async function revokeToken(dataDir: string, name: string): Promise<void> {
  await run(process.execPath, [...programArgs("relay"), "token", "revoke", name, "--data", dataDir], { cwd: PROJECT_ROOT });
}

/**
 * automerge-repo's stock websocket client, minus one thing: its error handler throws on
 * anything but ECONNREFUSED (a reset while a relay restarts would crash the test run).
 */
class TolerantClientAdapter extends WebSocketClientAdapter {
  override onError = () => undefined;

  override disconnect(): void {
    // Closing a socket that is still connecting (a retry under way) makes `ws` emit an
    // error after the stock adapter removed its listeners: an uncaught exception.
    (this.socket as unknown as { on?: (event: string, listener: () => void) => void } | undefined)?.on?.("error", () => undefined);
    super.disconnect();
  }
}

/** A Repo without storage that syncs with the relay at `url` through the stock client. */
export function clientRepo(url: string, token: string | null, peerId?: string): Repo {
  const address = token === null ? url : `${url}/?token=${encodeURIComponent(token)}`;
  return new Repo({ network: [new TolerantClientAdapter(address, 500)], peerId: peerId as PeerId | undefined });
}


/** A raw protocol connection, for speaking (and misspeaking) the wire protocol by hand. */
export interface RawConnection {
  socket: WebSocket;
  /** The relay's peer ID, once joined (target of every message to it). */
  relayPeerId: string;
  /** Decoded messages received so far. */
  messages: Record<string, unknown>[];
  /** Sends a value CBOR-encoded, or raw bytes as they are. */
  send(value: unknown): void;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first message of `type`. */
  next(type: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Opens a raw connection; `status` is the HTTP status when the upgrade is refused. */
export async function rawConnect(url: string, token: string | null, options: { join?: string } = {}): Promise<RawConnection> {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  const socket = new WebSocket(url, { headers, maxPayload: 1 << 30 });
  const messages: Record<string, unknown>[] = [];
  const waiters: { type: string; resolve: (m: Record<string, unknown>) => void }[] = [];
  socket.on("message", (data) => {
    const message = cbor.decode(new Uint8Array(data as Buffer)) as Record<string, unknown>;
    messages.push(message);
    for (const w of [...waiters]) {
      if (w.type === message.type) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    socket.once("error", reject);
  });
  const connection: RawConnection = {
    socket,
    relayPeerId: "",
    messages,
    closed,
    send(value) {
      socket.send(value instanceof Uint8Array ? value : cbor.encode(value));
    },
    next(type, timeoutMs = 5000) {
      const seen = messages.find((m) => m.type === type);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${type}" message in ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ type, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
  };
  if (options.join !== undefined) {
    connection.send({ type: "join", senderId: options.join, peerMetadata: {}, supportedProtocolVersions: ["1"] });
    connection.relayPeerId = String((await connection.next("peer")).senderId);
  }
  return connection;
}

/** The HTTP status of an upgrade attempt (101 when accepted). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    socket.once("open", () => {
      socket.close();
      resolve(101);
    });
    socket.once("error", () => resolve(0));
  });
}

/** Reads `/metrics` and returns the value of one metric (labels as written), or 0. */
export async function metric(relayUrl: string, name: string, labels = ""): Promise<number> {
  return (await metrics(relayUrl))(name, labels);
}

/**
 * Reads `/metrics` once, for metrics compared with each other: the relay may save or
 * count something between two reads.
 */
export async function metrics(relayUrl: string): Promise<(name: string, labels?: string) => number> {
  const lines = (await (await fetch(`${relayUrl.replace(/^ws/, "http")}/metrics`)).text()).split("\n");
  return (name, labels = "") => {
    const line = lines.find((l) => l.startsWith(`${name}${labels} `));
    return line ? Number(line.split(" ")[1]) : 0;
  };
}

/** The prototype probe (prototypeProbe.mjs), for `nodeArgs`. */
export const PROTOTYPE_PROBE = ["--import", path.join(PROJECT_ROOT, "test/support/prototypeProbe.mjs")];

/**
 * Asks a process started with PROTOTYPE_PROBE what was added to its built-in prototypes:
 * `{ added: { Object?: [...], ... }, polluted }`, both empty when nothing was.
 */
export async function prototypesOf(pid: number, logs: () => string): Promise<{ added: Record<string, string[]>; polluted: unknown }> {
  const before = logs().length;
  process.kill(pid, "SIGUSR2");
  const line = await eventually(() => /PROTOTYPES (\{.*\})/.exec(logs().slice(before))?.[1], 10_000, 50);
  return JSON.parse(line!) as { added: Record<string, string[]>; polluted: unknown };
}

/** Every file under `dir`, relative, recursively. */
export function listFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(path.relative(dir, full));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return files.sort();
}

/** Chunk files of documents (snapshot, incremental, sync-state) in a relay's data dir. */
export function documentFiles(dataDir: string): string[] {
  return listFiles(path.join(dataDir, "documents")).filter((f) => f.endsWith(".chunk") && !f.includes("storage-adapter-id") && !f.startsWith("quarantine"));
}

/** Waits until a relay has stored each of `documentIds` on its disk (a chunk under the document's folder). */
export async function storedOnDisk(dataDir: string, documentIds: string[], timeoutMs = 20_000): Promise<void> {
  await eventually(() => {
    const files = documentFiles(dataDir);
    return documentIds.every((id) => files.some((f) => f.includes(`${id}/`)));
  }, timeoutMs, 100);
}
