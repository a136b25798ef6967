/**
 * Cluster bench (`npm run bench:cluster`): what a relay cluster costs a keystroke, against
 * one relay alone, with the same clients in the same run.
 *
 *   one relay       writers → relay (its data directory) → writers
 *   three relays    writers → nginx (round robin) → relay ─ NATS ─ relay ← nginx ← writers
 *                   on one PostgreSQL database; the two writers of each document land on
 *                   different relays, so every keystroke crosses relays
 *
 * Each document has two writers, each an automerge-repo client in this process (its sync
 * throttle at 0, as the desktop's); each writer types `--rate` keystrokes a second into
 * its document for `--seconds`. Two paths are timed, keystroke to the other writer:
 *
 *   fast path   the keystroke's broadcast (an ephemeral message, as the editor sends each
 *               keystroke: src/shared/sync/changeBroadcast.ts)
 *   sync        the change itself, by automerge-repo's sync protocol, which the relay
 *               answers only once its copy is stored
 *
 * and the relays' CPU (user + system, from /proc) per keystroke typed. The machine has 2
 * cores: three relays, NATS, PostgreSQL, nginx and the clients share them, so this shows
 * the cost per keystroke and the latency of the extra hop, not scaling (see
 * bench/RESULTS.md for the capacity projected from these figures).
 *
 *   tsx bench/cluster/run.ts [--documents 4] [--seconds 15] [--rate 2] [--json]
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { Repo, type DocHandle, type PeerId } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { startPostgres } from "../../test/support/postgres";
import { startNats } from "../../test/support/nats";
import { startNginx } from "../../test/support/nginx";
import { cpuMs, fmt } from "../common/proc";
import { commitDescription, machineDescription, writeSummary, type Figure } from "../common/results";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CLI = path.join(ROOT, "sync-server", "cli.ts");
/** The extra hop's target: what crossing relays adds to a keystroke, at the median. */
const HOP_TARGET_MS = 5;

const integer = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
};
const options = new Command("bench:cluster")
  .option("--documents <n>", "documents, two writers each", integer, 4)
  .option("--seconds <n>", "seconds of typing per setup", integer, 15)
  .option("--rate <n>", "keystrokes per second per writer", integer, 2)
  .option("--json", "print the summary as JSON")
  .parse()
  .opts<{ documents: number; seconds: number; rate: number; json?: boolean }>();

interface Relay {
  child: ChildProcess;
  url: string;
  port: number;
}

function addToken(dataDir: string, where: string[] = []): string {
  const out = execFileSync(process.execPath, ["--import", "tsx", CLI, "token", "add", "bench", "--data", dataDir, ...where], { encoding: "utf8" });
  const token = out.split(/\s+/).find((w) => /^[A-Za-z0-9_-]{43}$/.test(w));
  if (!token) throw new Error(`no token in: ${out}`);
  return token;
}

async function startRelay(dataDir: string, args: string[]): Promise<Relay> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0", "--data", dataDir, ...args], { env: { ...process.env, RELAY_LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start:\n${output}`)), 60_000);
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
    child.once("exit", (code) => reject(new Error(`relay exited with ${code}:\n${output}`)));
  });
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  child.stdout!.resume();
  child.stderr!.resume();
  return { child, url, port: Number(new URL(url).port) };
}

async function stop(relays: Relay[]): Promise<void> {
  await Promise.all(
    relays.map(async ({ child }) => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** automerge-repo's websocket client, minus its habit of throwing on socket errors. */
class Client extends WebSocketClientAdapter {
  override onError = () => undefined;
}

interface Doc {
  n: number;
}

interface Result {
  fast: number[];
  sync: number[];
  keystrokes: number;
  /** Relay CPU while typing, less what the relays spend idle (timers, health, metrics) in as long. */
  relayCpuMs: number;
  /** What the relays spend idle, per second. */
  idleCpuMsPerS: number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : Number.NaN;
};

/** Types into `documents` documents, two writers each, through `url`, for `seconds`. */
async function type(url: string, token: string, relayPids: number[]): Promise<Result> {
  const clients: Repo[] = [];
  const connect = () => {
    const repo = new Repo({ network: [new Client(`${url}/?token=${token}`, 1000)], peerId: `bench-${clients.length}-${process.pid}` as PeerId, syncDebounceRate: 0 } as never);
    clients.push(repo);
    return repo;
  };
  const pairs: [DocHandle<Doc>, DocHandle<Doc>][] = [];
  for (let d = 0; d < options.documents; d++) {
    const a = connect();
    const b = connect();
    const mine = a.create<Doc>({ n: 0 });
    let theirs: DocHandle<Doc> | undefined;
    for (let attempt = 0; !theirs; attempt++) {
      try {
        theirs = await b.find<Doc>(mine.url);
      } catch (error) {
        if (attempt > 40) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    pairs.push([mine, theirs]);
  }
  const sentAt = new Map<string, number>();
  const fast: number[] = [];
  const sync: number[] = [];
  pairs.forEach(([mine, theirs], d) => {
    theirs.on("ephemeral-message", ({ message }) => {
      const key = `${d}:${(message as { n: number }).n}`;
      const at = sentAt.get(key);
      if (at !== undefined) fast.push(performance.now() - at);
    });
    let seen = 0;
    theirs.on("change", ({ doc }) => {
      const now = performance.now();
      for (let n = seen + 1; n <= doc.n; n++) {
        const at = sentAt.get(`${d}:${n}`);
        if (at !== undefined) sync.push(now - at);
      }
      seen = Math.max(seen, doc.n);
    });
    void mine;
  });
  // Let every connection settle, then measure what the relays spend doing nothing.
  await new Promise((r) => setTimeout(r, 1500));
  const relaysCpu = () => relayPids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const idleStart = relaysCpu();
  const idleMs = 3000;
  await new Promise((r) => setTimeout(r, idleMs));
  const idleCpuMsPerS = (relaysCpu() - idleStart) / (idleMs / 1000);
  const cpuBefore = relaysCpu();
  const typingStarted = performance.now();
  let keystrokes = 0;
  const interval = 1000 / options.rate;
  const until = performance.now() + options.seconds * 1000;
  await Promise.all(
    pairs.map(async ([mine], d) => {
      // Spread the writers' keystrokes over the interval rather than all at once.
      await new Promise((r) => setTimeout(r, (interval * d) / pairs.length));
      for (let n = 1; performance.now() < until; n++) {
        sentAt.set(`${d}:${n}`, performance.now());
        mine.change((doc) => void (doc.n = n));
        mine.broadcast({ n });
        keystrokes++;
        await new Promise((r) => setTimeout(r, interval));
      }
    }),
  );
  // The last keystrokes arrive.
  await new Promise((r) => setTimeout(r, 2000));
  const typingS = (performance.now() - typingStarted) / 1000;
  const relayCpuMs = Math.max(0, relaysCpu() - cpuBefore - idleCpuMsPerS * typingS);
  await Promise.all(clients.map((c) => c.shutdown().catch(() => undefined)));
  return { fast, sync, keystrokes, relayCpuMs, idleCpuMsPerS };
}

const started = Date.now();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cluster-"));
const results: Record<string, Result> = {};

{
  const dir = path.join(work, "single");
  fs.mkdirSync(dir);
  const token = addToken(dir);
  const relay = await startRelay(dir, []);
  results["one relay"] = await type(relay.url, token, [relay.child.pid!]);
  await stop([relay]);
}
{
  const [database, nats] = await Promise.all([startPostgres(), startNats()]);
  const url = await database.database();
  const dirs = [0, 1, 2].map((i) => path.join(work, `cluster-${i}`));
  for (const dir of dirs) fs.mkdirSync(dir);
  // On PostgreSQL the tokens are the cluster's, in its database.
  const token = addToken(dirs[0]!, ["--storage", url]);
  const relays = await Promise.all(dirs.map((dir) => startRelay(dir, ["--storage", url, "--nats", nats.url, "--trust-proxy"])));
  const balancer = await startNginx(relays.map((r) => r.port));
  results["three relays behind nginx"] = await type(balancer.url, token, relays.map((r) => r.child.pid!));
  await stop(relays);
  await nats.stop();
  await database.stop();
}

const one = results["one relay"]!;
const three = results["three relays behind nginx"]!;
const row = (name: string, r: Result) =>
  `${name.padEnd(28)} fast path p50 ${fmt(percentile(r.fast, 50), 1).padStart(6)} ms  p99 ${fmt(percentile(r.fast, 99), 1).padStart(6)} ms   sync p50 ${fmt(percentile(r.sync, 50), 1).padStart(6)} ms  p99 ${fmt(percentile(r.sync, 99), 1).padStart(6)} ms   relay CPU ${fmt(r.relayCpuMs / r.keystrokes, 2)} ms/keystroke (${r.keystrokes} keystrokes; idle ${fmt(r.idleCpuMsPerS, 0)} ms/s)`;
const hopFast = percentile(three.fast, 50) - percentile(one.fast, 50);
const hopSync = percentile(three.sync, 50) - percentile(one.sync, 50);
const figures: Figure[] = [
  { name: "fast path, three relays, p50", value: percentile(three.fast, 50), unit: "ms", baseline: { name: "one relay", value: percentile(one.fast, 50) } },
  { name: "fast path, three relays, p99", value: percentile(three.fast, 99), unit: "ms", baseline: { name: "one relay", value: percentile(one.fast, 99) } },
  { name: "sync, three relays, p50", value: percentile(three.sync, 50), unit: "ms", baseline: { name: "one relay", value: percentile(one.sync, 50) } },
  { name: "sync, three relays, p99", value: percentile(three.sync, 99), unit: "ms", baseline: { name: "one relay", value: percentile(one.sync, 99) } },
  { name: "the extra hop (fast path), p50", value: hopFast, unit: "ms", target: { text: `< ${HOP_TARGET_MS} ms`, met: hopFast < HOP_TARGET_MS } },
  { name: "the extra hop (sync), p50", value: hopSync, unit: "ms" },
  { name: "relay CPU per keystroke, three relays (all together)", value: three.relayCpuMs / three.keystrokes, unit: "ms/keystroke", baseline: { name: "one relay", value: one.relayCpuMs / one.keystrokes } },
];
const command = `npx tsx bench/cluster/run.ts --documents ${options.documents} --seconds ${options.seconds} --rate ${options.rate}`;
await writeSummary(import.meta.dirname, {
  bench: "cluster",
  command,
  commit: commitDescription(ROOT),
  machine: machineDescription(),
  date: new Date().toISOString(),
  durationS: Math.round((Date.now() - started) / 1000),
  figures,
  notes: [
    `${options.documents} documents, two writers each, ${options.rate} keystrokes/s per writer, ${options.seconds} s per setup; in the cluster the two writers of a document are on different relays (nginx round robin).`,
    "The extra hop is the cluster's p50 minus one relay's p50, same clients, same run: nginx, NATS and the second relay; for sync also PostgreSQL instead of files.",
    "Relay CPU is user + system time of every relay process during the typing, less what they spent idle for as long (measured for 3 s before), divided by the keystrokes typed.",
  ],
});
fs.rmSync(work, { recursive: true, force: true });
if (options.json) console.log(JSON.stringify({ figures }, null, 2));
else {
  console.log(row("one relay", one));
  console.log(row("three relays behind nginx", three));
  console.log(`the extra hop: fast path p50 ${fmt(hopFast, 1)} ms (target < ${HOP_TARGET_MS} ms: ${hopFast < HOP_TARGET_MS ? "met" : "FAIL"}), sync p50 ${fmt(hopSync, 1)} ms`);
}
process.exit(0);
