/**
 * Propagation bench (`npm run bench:propagation`): how long a keystroke takes to show
 * in the other writers' renderers when N writers type into one document through one
 * relay, with every hop of the product on the path:
 *
 *   renderer → host → relay → host → renderer
 *
 * Each writer is its own process (client.ts): a real Host and an in-memory renderer
 * Repo on a MessageChannel. The same clients run against our relay (sync-server, with
 * our sync settings on every hop) and against a plain automerge-repo relay
 * (plain-relay.ts, with stock settings on every hop), in the same run. See README.md.
 *
 *   tsx bench/propagation/run.ts [--typists 2,8,32] [--seconds 20] [--rate 6] [--relay ours|plain|both] [--json]
 *
 * Exits 0 whenever it measured (a missed target is a result, printed as FAIL), and
 * non-zero only when the bench could not run.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { wallClock, type ClientReport, type ClientSettings } from "./protocol";
import { freePort } from "../../test/support/ports";
import { children, ClientProcess, stopChild } from "./clientProcess";
import { cpuMs, machineTicks, memoryMiB } from "../common/proc";
import { commitDescription, machineDescription, writeSummary, type Figure, type Series } from "../common/results";

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, "../..");
const OUR_RELAY_CLI = path.join(projectRoot, "sync-server", "cli.ts");
const RENDERER_MAIN = path.join(projectRoot, "src", "renderer", "src", "main.tsx");

/** The issue's targets, for our relay. */
const TARGETS = { p50TwoMs: 5, p99TwoMs: 25, p99ThirtyTwoMs: 100 };
/** automerge-repo's default sync throttle, per document and peer. */
const STOCK_DEBOUNCE_MS = 100;
/** Starting N clients (each compiles and opens a Host) on 2 cores. */
const SETUP_TIMEOUT_MS = 120_000;
/** From "start" to the first keystroke: every client has the message by then. */
const START_DELAY_MS = 1500;

interface Options {
  typists: number[];
  seconds: number;
  rate: number;
  relays: RelayKind[];
  json: boolean;
  graceS: number;
  seed: number;
  rendererDebounce: number;
  hostDebounce: number | null;
  hostSaveDebounce: number | null;
  relayDebounce: number | null;
  adapter: ClientSettings["adapter"];
  fastPath: boolean;
  standIn: boolean;
}

type RelayKind = "ours" | "plain";

interface RelaySetup {
  kind: RelayKind;
  /** What the table calls it. */
  label: string;
  describe: string;
  command: string[];
  settings: ClientSettings;
  relayDebounceMs: number | null;
  /** Extra Node flags for the clients (and already in `command` for the relay). */
  nodeArgs: string[];
}

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

interface ScenarioResult {
  typists: number;
  relay: RelayKind;
  label: string;
  settings: { rendererDebounceMs: number; hostDebounceMs: number | string; hostSaveDebounceMs: number | string; relayDebounceMs: number | string; adapter: string; fastPath: boolean };
  keystrokes: number;
  deliveries: number;
  lost: number;
  latency: Stats;
  /** Where the time goes, per delivery: each segment's distribution. */
  segments: { rendererToHost: Stats; hostToHost: Stats; hostToRenderer: Stats };
  converged: boolean;
  convergence: string;
  relayCpuPct: number;
  relayRssPeakMiB: number;
  relayRssEndMiB: number;
  clientsCpuPct: number;
  machineBusyPct: number;
  /** CPU used by everything but the relay and the clients (other work on the machine, the kernel), % of one core. */
  otherCpuPct: number;
  lateTimers: number;
  /** CPU per keystroke handled: the relay's per keystroke typed; the clients' per keystroke typed or received (each client handles every keystroke once). */
  cpuPerKeystrokeMs: { relay: number; clientPerKeystrokeHandled: number };
  messages: { rendererToHostPerKeystroke: number; hostToRelayPerKeystroke: number; relayToHostPerKeystroke: number };
  windowS: number;
  /** The plain relay's own report of the throttle its DocSynchronizer got (checks "stock"). */
  relayReportedDebounceMs: number | null;
  latencies: number[];
}

// ---------------------------------------------------------------------------------
// Processes: every child is tracked here and killed on any way out.

let tmpRoot: string | undefined;

function killAll(signal: NodeJS.Signals): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}


// ---------------------------------------------------------------------------------
// Statistics.

function stats(values: number[]): Stats {
  if (values.length === 0) return { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: values.reduce((a, b) => a + b, 0) / values.length };
}

// ---------------------------------------------------------------------------------
// Setup of each relay kind.

/** The renderer's syncDebounceRate as the product sets it (src/renderer/src/main.tsx). */
function productRendererDebounce(): number {
  const source = fsSync.readFileSync(RENDERER_MAIN, "utf8");
  const match = /syncDebounceRate:\s*(\d+)/.exec(source);
  if (!match) throw new Error(`could not find syncDebounceRate in ${path.relative(projectRoot, RENDERER_MAIN)}`);
  return Number(match[1]);
}

function relaySetups(options: Options): RelaySetup[] {
  const tsx = [process.execPath, "--import", "tsx"];
  const setups: RelaySetup[] = [];
  for (const kind of options.relays) {
    if (kind === "plain") {
      setups.push({
        kind,
        label: "plain",
        describe: `plain automerge-repo relay (bench/propagation/plain-relay.ts: Repo + WebSocketServerAdapter + NodeFSStorageAdapter, default settings); stock clients: renderer ${STOCK_DEBOUNCE_MS} ms, host ${STOCK_DEBOUNCE_MS} ms`,
        command: [...tsx, path.join(here, "plain-relay.ts")],
        settings: { rendererDebounceMs: STOCK_DEBOUNCE_MS, hostDebounceMs: STOCK_DEBOUNCE_MS, hostSaveDebounceMs: null, adapter: options.adapter, fastPath: false },
        relayDebounceMs: null,
        nodeArgs: [],
      });
    } else {
      const nodeArgs: string[] = [];
      const node = [...tsx, ...nodeArgs];
      const real = !options.standIn && fsSync.existsSync(OUR_RELAY_CLI);
      const debounceArgs = options.relayDebounce === null ? [] : ["--sync-debounce-ms", String(options.relayDebounce)];
      const command = real
        ? [...node, OUR_RELAY_CLI, "--allow-anonymous", ...debounceArgs]
        : [...node, path.join(here, "plain-relay.ts"), "--storage", "writer", "--sync-debounce-ms", String(options.relayDebounce ?? 0)];
      const relayText = real
        ? `sync-server/cli.ts --allow-anonymous${debounceArgs.length ? ` --sync-debounce-ms ${options.relayDebounce}` : " (its default debounce)"}`
        : `STAND-IN for sync-server (not there yet): plain-relay.ts --storage writer --sync-debounce-ms ${options.relayDebounce ?? 0}`;
      setups.push({
        kind,
        label: real ? "ours" : "ours*",
        describe: `${relayText}; clients: ${options.fastPath ? "change broadcast on" : "change broadcast OFF (--no-fast-path)"}, renderer ${options.rendererDebounce} ms, host ${options.hostDebounce ?? "50 (Host.ts)"} ms${options.hostSaveDebounce !== null ? `, host save debounce ${options.hostSaveDebounce} ms` : ""}`,
        command,
        settings: { rendererDebounceMs: options.rendererDebounce, hostDebounceMs: options.hostDebounce, hostSaveDebounceMs: options.hostSaveDebounce, adapter: options.adapter, fastPath: options.fastPath },
        relayDebounceMs: real ? options.relayDebounce : (options.relayDebounce ?? 0),
        nodeArgs,
      });
    }
  }
  return setups;
}

async function startRelay(setup: RelaySetup, dataDir: string): Promise<{ child: ChildProcess; url: string; output: string[] }> {
  const port = await freePort();
  const [cmd, ...commandArgs] = setup.command;
  // BENCH_PROFILE=relay: the relay writes a CPU profile (whole run) to results/ when it exits.
  const args = process.env.BENCH_PROFILE === "relay" ? ["--cpu-prof", "--cpu-prof-dir", path.join(here, "results"), ...commandArgs] : commandArgs;
  const child = spawn(cmd!, [...args, "--port", String(port), "--data", dataDir, "--host", "127.0.0.1"], { cwd: projectRoot, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the relay did not print "listening on ws://" within 30 s:\n${output.join("")}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      const m = /listening on (ws:\/\/[^\s"',]+)/.exec(output.join(""));
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace(/\/$/, ""));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited (${code}) before it was ready:\n${output.join("")}`));
    });
  });
  // Keep reading, so that a chatty relay never blocks on a full pipe.
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  child.stdout!.on("data", (c: Buffer) => output.push(c.toString()));
  child.stderr!.on("data", (c: Buffer) => output.push(c.toString()));
  return { child, url, output };
}

// ---------------------------------------------------------------------------------
// One scenario: N clients, one relay, typing for `seconds`.

async function runScenario(setup: RelaySetup, n: number, options: Options): Promise<ScenarioResult> {
  const dir = await fs.mkdtemp(path.join(tmpRoot!, `${setup.kind}-${n}-`));
  const relay = await startRelay(setup, path.join(dir, "relay"));
  const relayPid = relay.child.pid!;
  const typists = Array.from({ length: n }, (_, i) => `t${i}`);
  const clients = typists.map((t) => new ClientProcess(t, setup.nodeArgs));
  try {
    // Setup: the first client creates the document (in its host, as the app does) and
    // waits until the relay has stored it; then everyone opens it in their renderer.
    clients.forEach((c, i) =>
      c.send({ type: "init", typist: c.typist, typists, dataDir: path.join(dir, c.typist), relayUrl: relay.url, token: null, settings: setup.settings, create: i === 0 }),
    );
    const readies = await Promise.all(clients.map((c) => c.next("ready", SETUP_TIMEOUT_MS)));
    const url = readies[0]!.url!;
    clients.slice(1).forEach((c) => c.send({ type: "join", url }));
    await Promise.all(clients.map((c) => c.next("joined", SETUP_TIMEOUT_MS)));

    // Typing.
    const at = wallClock() + START_DELAY_MS;
    const seedBase = options.seed * 1000 + n;
    clients.forEach((c, i) => c.send({ type: "start", at, seconds: options.seconds, rate: options.rate, seed: seedBase + i }));
    await new Promise((r) => setTimeout(r, Math.max(0, at - wallClock())));
    const cpu0 = cpuMs(relayPid);
    const machine0 = machineTicks();
    const t0 = wallClock();
    const typed = await Promise.all(clients.map((c) => c.next("typed", options.seconds * 1000 + 30_000)));
    const cpu1 = cpuMs(relayPid);
    const machine1 = machineTicks();
    const windowMs = wallClock() - t0;

    // Delivery: everyone waits for every keystroke, up to the grace period.
    const finals = Object.fromEntries(clients.map((c, i) => [c.typist, typed[i]!.last]));
    clients.forEach((c) => c.send({ type: "expect", finals }));
    const graceEnd = Date.now() + options.graceS * 1000;
    await Promise.all(clients.map((c) => c.next("caught-up", Math.max(1, graceEnd - Date.now())).catch(() => undefined)));
    for (const c of clients) if (c.failure) throw c.failure;
    const rss = memoryMiB(relayPid);
    clients.forEach((c) => c.send({ type: "finish" }));
    const reports = (await Promise.all(clients.map((c) => c.next("report", 30_000)))).map((m) => m.report);

    const reported = /DocSynchronizer\.syncDebounceRate = (\d+) ms/.exec(relay.output.join(""));
    return analyse(setup, n, reports, {
      relayReportedDebounceMs: reported ? Number(reported[1]) : null,
      relayCpuPct: ((cpu1 - cpu0) / windowMs) * 100,
      rss,
      machineBusyPct: ((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * 100,
      windowMs,
    });
  } finally {
    // After "finish" a client closes its host (flushing its disk) and exits by itself.
    await Promise.all(clients.map((c) => stopChild(c.child, "SIGTERM", 2000, 8000)));
    await stopChild(relay.child, "SIGTERM", 5000);
    // What the relay and the clients logged (warnings and errors only, by default).
    const logs = path.join(here, "results", "logs");
    await fs.mkdir(logs, { recursive: true });
    await fs.writeFile(path.join(logs, `relay-${setup.kind}-${n}.log`), relay.output.join(""));
    await fs.writeFile(path.join(logs, `clients-${setup.kind}-${n}.log`), clients.map((c) => c.stderr.join("").replace(/^/gm, `${c.typist} `)).join(""));
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function analyse(
  setup: RelaySetup,
  n: number,
  reports: ClientReport[],
  measured: { relayReportedDebounceMs: number | null; relayCpuPct: number; rss: { peak: number; now: number }; machineBusyPct: number; windowMs: number },
): ScenarioResult {
  const latencies: number[] = [];
  const rendererToHost: number[] = [];
  const hostToHost: number[] = [];
  const hostToRenderer: number[] = [];
  let deliveries = 0;
  let lost = 0;
  for (const sender of reports) {
    for (let i = 0; i < sender.sent.length; i++) {
      const sent = sender.sent[i]!;
      const ownHost = sender.ownHostArrival[i];
      if (ownHost != null) rendererToHost.push(ownHost - sent);
      for (const receiver of reports) {
        if (receiver === sender) continue;
        deliveries++;
        const arrived = receiver.rendererArrival[sender.typist]?.[i];
        if (arrived == null) {
          lost++;
          continue;
        }
        latencies.push(arrived - sent);
        const remoteHost = receiver.hostArrival[sender.typist]?.[i];
        if (remoteHost != null) {
          if (ownHost != null) hostToHost.push(remoteHost - ownHost);
          hostToRenderer.push(arrived - remoteHost);
        }
      }
    }
  }

  // Convergence: every renderer and every host ends with the same heads and text.
  const heads = new Set(reports.flatMap((r) => [r.rendererHeads.join(","), r.hostHeads.join(",")]));
  const texts = new Set(reports.map((r) => `${r.textLength}:${r.textHash}`));
  const keystrokes = reports.reduce((a, r) => a + r.sent.length, 0);
  const converged = heads.size === 1 && texts.size === 1 && reports[0]!.textLength === keystrokes;
  const convergence = converged
    ? `${reports.length * 2} replicas, same heads, same ${reports[0]!.textLength}-character text`
    : `${heads.size} distinct heads, ${texts.size} distinct texts (lengths ${[...new Set(reports.map((r) => r.textLength))].join(", ")}; ${keystrokes} keystrokes)`;
  const sum = (f: (r: ClientReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  return {
    typists: n,
    relay: setup.kind,
    label: setup.label,
    settings: {
      rendererDebounceMs: setup.settings.rendererDebounceMs,
      hostDebounceMs: setup.settings.hostDebounceMs ?? "50 (Host.ts)",
      hostSaveDebounceMs: setup.settings.hostSaveDebounceMs ?? "20 (Host.ts)",
      relayDebounceMs: setup.relayDebounceMs ?? (setup.kind === "plain" ? `${STOCK_DEBOUNCE_MS} (stock)` : "relay default"),
      adapter: setup.settings.adapter,
      fastPath: setup.settings.fastPath,
    },
    keystrokes,
    deliveries,
    lost,
    latency: stats(latencies),
    segments: { rendererToHost: stats(rendererToHost), hostToHost: stats(hostToHost), hostToRenderer: stats(hostToRenderer) },
    converged,
    convergence,
    relayCpuPct: measured.relayCpuPct,
    relayRssPeakMiB: measured.rss.peak,
    relayRssEndMiB: measured.rss.now,
    clientsCpuPct: (sum((r) => r.cpuMs) / measured.windowMs) * 100,
    machineBusyPct: measured.machineBusyPct,
    otherCpuPct: Math.max(0, measured.machineBusyPct * os.cpus().length - measured.relayCpuPct - (sum((r) => r.cpuMs) / measured.windowMs) * 100),
    lateTimers: sum((r) => r.lateTimers),
    cpuPerKeystrokeMs: {
      relay: (measured.relayCpuPct / 100) * measured.windowMs / Math.max(1, keystrokes),
      clientPerKeystrokeHandled: sum((r) => r.cpuMs) / Math.max(1, keystrokes * reports.length),
    },
    messages: {
      rendererToHostPerKeystroke: sum((r) => r.rendererMessages.sent) / Math.max(1, keystrokes),
      hostToRelayPerKeystroke: sum((r) => r.relayMessages.sent) / Math.max(1, keystrokes),
      relayToHostPerKeystroke: sum((r) => r.relayMessages.received) / Math.max(1, keystrokes),
    },
    windowS: measured.windowMs / 1000,
    relayReportedDebounceMs: measured.relayReportedDebounceMs,
    latencies: latencies.map((l) => Math.round(l * 100) / 100),
  };
}

// ---------------------------------------------------------------------------------
// Report.

const ms = (v: number, width = 8) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms` : "–").padStart(width);

function table(results: ScenarioResult[]): string[] {
  const lines: string[] = [];
  lines.push(`typists  relay    keys  deliveries      p50      p95      p99      max    lost  converged  relay CPU  relay RSS peak/end  clients CPU  machine busy  other CPU`);
  for (const r of results) {
    const l = r.latency;
    lines.push(
      `${String(r.typists).padStart(7)}  ${r.label.padEnd(6)}${String(r.keystrokes).padStart(6)}${String(r.deliveries).padStart(12)} ${ms(l.p50)} ${ms(l.p95)} ${ms(l.p99)} ${ms(l.max)}${String(r.lost).padStart(8)}  ${(r.converged ? "yes" : "NO").padEnd(9)}` +
        `${`${r.relayCpuPct.toFixed(0)} %`.padStart(10)}${`${r.relayRssPeakMiB.toFixed(0)} / ${r.relayRssEndMiB.toFixed(0)} MiB`.padStart(20)}${`${r.clientsCpuPct.toFixed(0)} %`.padStart(13)}${`${r.machineBusyPct.toFixed(0)} %`.padStart(14)}${`${r.otherCpuPct.toFixed(0)} %`.padStart(11)}`,
    );
  }
  return lines;
}

function whereTable(results: ScenarioResult[]): string[] {
  const lines: string[] = [];
  lines.push(`typists  relay    renderer→host p50/p99   host→relay→host p50/p99   host→renderer p50/p99   msgs/keystroke renderer→host host→relay relay→host   CPU/keystroke relay  client   late timers`);
  for (const r of results) {
    const s = r.segments;
    const pair = (x: Stats) => `${ms(x.p50, 7)} /${ms(x.p99, 7)}`;
    lines.push(
      `${String(r.typists).padStart(7)}  ${r.label.padEnd(6)}  ${pair(s.rendererToHost).padStart(20)}   ${pair(s.hostToHost).padStart(22)}   ${pair(s.hostToRenderer).padStart(20)}   ${r.messages.rendererToHostPerKeystroke.toFixed(2).padStart(28)}${r.messages.hostToRelayPerKeystroke.toFixed(2).padStart(11)}${r.messages.relayToHostPerKeystroke.toFixed(2).padStart(11)}${ms(r.cpuPerKeystrokeMs.relay, 22)}${ms(r.cpuPerKeystrokeMs.clientPerKeystrokeHandled, 9)}${String(r.lateTimers).padStart(14)}`,
    );
  }
  return lines;
}

function verdicts(results: ScenarioResult[]): { lines: string[]; pass: boolean | null } {
  const ours = results.filter((r) => r.relay === "ours");
  const lines: string[] = [];
  let pass: boolean | null = null;
  const check = (what: string, value: number, limit: number) => {
    const ok = value < limit;
    pass = (pass ?? true) && ok;
    lines.push(`  ${what}: ${ms(value, 0)} (< ${limit} ms) ${ok ? "PASS" : "FAIL"}`);
  };
  const two = ours.find((r) => r.typists === 2);
  if (two) {
    check("2 typists, p50", two.latency.p50, TARGETS.p50TwoMs);
    check("2 typists, p99", two.latency.p99, TARGETS.p99TwoMs);
  }
  const many = ours.find((r) => r.typists === 32);
  if (many) check("32 typists, p99", many.latency.p99, TARGETS.p99ThirtyTwoMs);
  for (const r of ours) {
    const ok = r.lost === 0 && r.converged;
    pass = (pass ?? true) && ok;
    lines.push(`  ${r.typists} typists: zero lost deliveries and every replica converged: ${r.lost} lost, ${r.converged ? "converged" : "NOT converged"} ${ok ? "PASS" : "FAIL"}`);
  }
  return { lines, pass };
}

function writerVersion(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: projectRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = git("status", "--porcelain", "--", "src", "sync-server", "bench/propagation");
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? " + uncommitted changes" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

/** At most this many points per latency distribution in the summary: quantiles of the samples. */
const DISTRIBUTION_POINTS = 2000;

/** Evenly spaced order statistics of `values` (the maximum included), as [value, weight] points. */
function quantilePoints(values: number[]): [number, number][] {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length <= DISTRIBUTION_POINTS) return Array.from(sorted, (v): [number, number] => [v, 1]);
  const weight = sorted.length / DISTRIBUTION_POINTS;
  return Array.from({ length: DISTRIBUTION_POINTS }, (_, i): [number, number] => [sorted[Math.min(sorted.length - 1, Math.round((i + 1) * weight) - 1)]!, weight]);
}

/** The suite's view (bench/suite.ts): our relay's figures beside the plain relay's of the same run, and the plots. */
function summaryOf(results: ScenarioResult[], options: Options, failures: string[]): { figures: Figure[]; series: Series[]; notes: string[] } {
  const figures: Figure[] = [];
  const series: Series[] = [];
  const ours = results.filter((r) => r.relay === "ours");
  const plainOf = (n: number) => results.find((r) => r.relay === "plain" && r.typists === n);
  const target = (value: number, limit: number) => ({ text: `< ${limit} ms`, met: value < limit });
  for (const r of ours) {
    const plain = plainOf(r.typists);
    const base = (value: number | undefined) => (value === undefined ? {} : { baseline: { name: "plain automerge-repo relay", value } });
    const n = `${r.typists} typists`;
    figures.push({ name: `${n}, p50`, value: r.latency.p50, unit: "ms", ...base(plain?.latency.p50), ...(r.typists === 2 ? { target: target(r.latency.p50, TARGETS.p50TwoMs) } : {}) });
    figures.push({
      name: `${n}, p99`,
      value: r.latency.p99,
      unit: "ms",
      ...base(plain?.latency.p99),
      ...(r.typists === 2 ? { target: target(r.latency.p99, TARGETS.p99TwoMs) } : r.typists === 32 ? { target: target(r.latency.p99, TARGETS.p99ThirtyTwoMs) } : {}),
    });
    figures.push({
      name: `${n}, lost deliveries (of ${r.deliveries.toLocaleString("en-US")})${r.converged ? "" : ", NOT converged"}`,
      value: r.lost,
      unit: "count",
      ...base(plain?.lost),
      target: { text: "0, every replica converged", met: r.lost === 0 && r.converged },
    });
    figures.push({ name: `${n}, relay CPU per keystroke`, value: r.cpuPerKeystrokeMs.relay, unit: "ms", ...base(plain?.cpuPerKeystrokeMs.relay) });
    figures.push({ name: `${n}, relay RSS peak`, value: r.relayRssPeakMiB, unit: "MiB", ...base(plain?.relayRssPeakMiB) });
  }
  for (const n of options.typists) {
    const lines = results
      .filter((r) => r.typists === n && r.latencies.length > 0)
      .map((r) => ({ name: r.relay === "plain" ? "plain automerge-repo relay" : r.label === "ours" ? "our relay" : "our relay's stand-in (ours*)", points: quantilePoints(r.latencies) }));
    if (lines.length === 0) continue;
    series.push({
      id: `propagation-latency-${n}`,
      title: `Keystroke to the other writers' renderers, ${n} typists × ${options.rate} keys/s`,
      x: { label: "keystroke to remote renderer (ms)" },
      y: { label: "deliveries" },
      kind: "distribution",
      lines,
    });
  }
  const line = (relay: RelayKind, name: string, pick: (s: Stats) => number) => ({
    name,
    points: results.filter((r) => r.relay === relay && r.latency.n > 0).map((r): [number, number] => [r.typists, pick(r.latency)]),
  });
  const byTypists = [line("ours", "our relay", (s) => s.p99), line("plain", "plain automerge-repo relay", (s) => s.p99)].filter((l) => l.points.length > 0);
  const targets = ([[2, TARGETS.p99TwoMs], [32, TARGETS.p99ThirtyTwoMs]] as [number, number][]).filter(([n]) => options.typists.includes(n));
  if (targets.length > 0) byTypists.push({ name: `target: p99 ${targets.map(([n, ms]) => `< ${ms} ms at ${n}`).join(", ")} typists`, points: targets });
  if (options.typists.length > 1 && byTypists.length > 0) {
    series.push({ id: "propagation-p99-by-typists", title: `p99 keystroke to remote renderer against typists (${options.rate} keys/s each)`, x: { label: "typists (log scale)", log: true }, y: { label: "p99 to remote renderer (ms)" }, kind: "line", lines: byTypists });
  }
  const busy = results.map((r) => r.machineBusyPct);
  return {
    figures,
    series,
    notes: [
      `${options.typists.join(", ")} typists × ${options.rate} keys/s for ${options.seconds} s each, grace ${options.graceS} s; every typist is a real host process with its own renderer Repo, all on this machine's ${os.cpus().length} cores with the relay: past a few typists the clients saturate it (machine busy ${Math.round(Math.min(...busy))}–${Math.round(Math.max(...busy))} %).`,
      "Baseline: plain-relay.ts (automerge-repo Repo + WebSocketServerAdapter + NodeFSStorageAdapter, stock settings) with stock clients (100 ms sync throttle, no change broadcast), run right after ours for each number of typists.",
      ...failures.map((f) => `**Not measured**: ${f}.`),
    ],
  };
}

// ---------------------------------------------------------------------------------

function parseOptions(): Options {
  const int = (min: number) => (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer >= ${min}`);
    return n;
  };
  const list = (value: string) => {
    const ns = value.split(",").map((v) => Number(v.trim()));
    if (ns.some((n) => !Number.isInteger(n) || n < 2)) throw new InvalidArgumentError("must be a comma-separated list of integers >= 2");
    return ns;
  };
  const program = new Command()
    .name("npm run bench:propagation --")
    .description("Keystroke-to-remote-copy latency with N writers typing into one document through one relay: our relay and settings beside a plain automerge-repo relay with stock settings.")
    .option("--typists <list>", "numbers of typists, one scenario each", list, [2, 8, 32])
    .option("--seconds <n>", "typing time per scenario", int(1), 20)
    .option("--rate <n>", "characters per second per typist", int(1), 6)
    .option("--relay <which>", "ours, plain or both", "both")
    .option("--json", "print the results as JSON on stdout instead of the tables", false)
    .option("--grace <s>", "how long after typing a keystroke may still arrive", int(0), 5)
    .option("--seed <n>", "seed for typing times and positions", int(0), 1)
    .option("--renderer-debounce <ms>", "ours: the renderer's syncDebounceRate (default: the value in src/renderer/src/main.tsx)", int(0))
    .option("--host-debounce <ms>", "ours: override the host's syncDebounceRate (default: Host.ts's own)", int(0))
    .option("--host-save-debounce <ms>", "ours: Host.open's saveDebounceMs (default: Host.ts's own, 20)", int(0))
    .option("--relay-debounce <ms>", "ours: the relay's --sync-debounce-ms (default: the relay's own; the stand-in's 0)", int(0))
    .option("--adapter <kind>", "how hosts reach the relay: settings (added to the host's relay list, as a writer does: RelayClientAdapter) or websocket (WebSocketClientAdapter via host.connect)", "settings")
    .option("--no-fast-path", "ours: renderers do not broadcast changes beside sync (src/shared/sync/changeBroadcast.ts), to measure the sync protocol alone")
    .option("--stand-in", "ours: use the stand-in relay even if sync-server/cli.ts exists", false);
  program.parse();
  const o = program.opts<{
    typists: number[];
    seconds: number;
    rate: number;
    relay: string;
    json: boolean;
    grace: number;
    seed: number;
    rendererDebounce?: number;
    hostDebounce?: number;
    hostSaveDebounce?: number;
    relayDebounce?: number;
    adapter: string;
    fastPath: boolean;
    standIn: boolean;
  }>();
  const relays: RelayKind[] = o.relay === "both" ? ["ours", "plain"] : o.relay === "ours" || o.relay === "plain" ? [o.relay] : [];
  if (relays.length === 0) throw new InvalidArgumentError("--relay must be ours, plain or both");
  const adapter = o.adapter;
  if (adapter !== "websocket" && adapter !== "settings") throw new InvalidArgumentError("--adapter must be settings or websocket");
  const options: Options = {
    typists: o.typists,
    seconds: o.seconds,
    rate: o.rate,
    relays,
    json: o.json,
    graceS: o.grace,
    seed: o.seed,
    rendererDebounce: o.rendererDebounce ?? productRendererDebounce(),
    hostDebounce: o.hostDebounce ?? null,
    hostSaveDebounce: o.hostSaveDebounce ?? null,
    relayDebounce: o.relayDebounce ?? null,
    adapter,
    fastPath: o.fastPath,
    standIn: o.standIn,
  };
  return options;
}

/** Resolves false when a scenario could not finish (the others were measured). */
async function main(): Promise<boolean> {
  const options = parseOptions();
  const started = new Date();
  tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), "writer-bench-propagation-"));
  const setups = relaySetups(options);
  const version = writerVersion();
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model.trim() ?? "unknown", memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version };
  log(`propagation bench: ${options.typists.join(", ")} typists × ${options.rate} keys/s for ${options.seconds} s, grace ${options.graceS} s; Writer ${version}; ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`);
  for (const s of setups) log(`  ${s.label.padEnd(6)} ${s.describe}; hosts reach it ${s.settings.adapter === "websocket" ? "with a WebSocketClientAdapter (host.connect)" : "from their relay settings (RelayClientAdapter)"}`);

  const results: ScenarioResult[] = [];
  /** Scenarios that could not finish: the others' figures are kept, and the bench exits 1. */
  const failures: string[] = [];
  // Both relays per size, one after the other, so that they meet the same machine.
  for (const n of options.typists) {
    for (const setup of setups) {
      log(`running: ${n} typists, relay ${setup.label} ...`);
      let r: ScenarioResult;
      try {
        r = await runScenario(setup, n, options);
      } catch (error) {
        const message = (error as Error).message.split("\n")[0]!;
        log(`  ${n} typists, ${setup.label}: could not finish: ${message}`);
        failures.push(`${n} typists, ${setup.label}: could not finish (${message})`);
        continue;
      }
      log(
        `  ${n} typists, ${setup.label}: p50 ${ms(r.latency.p50, 0)}, p99 ${ms(r.latency.p99, 0)}, max ${ms(r.latency.max, 0)}, lost ${r.lost}/${r.deliveries}, ${r.converged ? "converged" : "NOT CONVERGED: " + r.convergence}; relay CPU ${r.relayCpuPct.toFixed(0)} %, machine ${r.machineBusyPct.toFixed(0)} % busy`,
      );
      results.push(r);
    }
  }

  if (results.length === 0) throw new Error(failures.join("; "));
  const verdict = verdicts(results);
  const out = path.join(here, "results", "latest.json");
  const json = {
    bench: "propagation",
    date: started.toISOString(),
    durationS: Math.round((Date.now() - started.getTime()) / 1000),
    command: `tsx bench/propagation/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
    writerVersion: version,
    machine,
    method: {
      typists: options.typists,
      seconds: options.seconds,
      rate: options.rate,
      graceS: options.graceS,
      seed: options.seed,
      relays: setups.map((s) => ({ kind: s.kind, label: s.label, describe: s.describe })),
      latency: "send = wall clock just before the sender's renderer handle.change; arrival = the first 'change' event of a receiver's renderer handle whose clock shows that keystroke",
    },
    targets: TARGETS,
    pass: verdict.pass,
    failures,
    results,
  };
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, JSON.stringify(json) + "\n");
  const summary = await writeSummary(here, {
    bench: "propagation",
    command: `npx tsx bench/propagation/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
    commit: commitDescription(projectRoot),
    machine: machineDescription(),
    date: json.date,
    durationS: json.durationS,
    ...summaryOf(results, options, failures),
  });
  log(`summary: ${path.relative(process.cwd(), summary)}`);

  if (options.json) {
    process.stdout.write(JSON.stringify({ ...json, results: results.map(({ latencies: _l, ...r }) => r) }, null, 2) + "\n");
    return failures.length === 0;
  }
  const print = (line = "") => process.stdout.write(`${line}\n`);
  print();
  print(`propagation bench — ${options.rate} keystrokes/s per typist for ${options.seconds} s into one document through one relay; keystroke (sender's renderer) to remote copy (every other renderer)`);
  print(`Writer ${version}; ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}; ${new Date().toISOString()}`);
  for (const s of setups) print(`  ${s.label.padEnd(6)} ${s.describe}`);
  const stock = [...new Set(results.filter((r) => r.relay === "plain").map((r) => r.relayReportedDebounceMs))];
  if (stock.length > 0) print(`  (the plain relay reported DocSynchronizer.syncDebounceRate = ${stock.map((v) => v ?? "nothing").join(", ")} ms: ${stock.length === 1 && stock[0] === STOCK_DEBOUNCE_MS ? "stock, as intended" : "NOT the stock 100 ms"})`);
  print();
  for (const line of table(results)) print(line);
  print();
  print("where the time goes (per delivery; host→relay→host includes both websocket hops and the relay):");
  for (const line of whereTable(results)) print(line);
  print();
  print("late timers: keystrokes typed more than 50 ms after their time (the typist's event loop was busy). CPU/keystroke: the relay's CPU per keystroke typed; a client's per keystroke it typed or received.");
  print("CPU: % of one core over the typing window (relay: /proc utime+stime; clients: all N processes together); machine busy: % of all cores; other CPU: the rest, % of one core (other work on the machine shows up here).");
  print();
  print(`targets (our relay): ${verdict.pass === null ? "none measured" : verdict.pass ? "PASS" : "FAIL"}`);
  for (const line of verdict.lines) print(line);
  for (const f of failures) print(`  ${f}`);
  print();
  print(`results: ${path.relative(process.cwd(), out)}`);
  return failures.length === 0;
}

function cleanupSync(): void {
  killAll("SIGKILL");
  if (tmpRoot) fsSync.rmSync(tmpRoot, { recursive: true, force: true });
  tmpRoot = undefined;
}

process.on("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`interrupted (${signal}); stopping every child`);
    cleanupSync();
    process.exit(130);
  });
}

main().then(
  async (complete) => {
    if (tmpRoot) await fs.rm(tmpRoot, { recursive: true, force: true }).catch(() => undefined);
    process.exit(complete ? 0 : 1);
  },
  (error: unknown) => {
    log(`propagation bench could not run: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
