/**
 * `npm test`: every check and every test the project has, in as little wall time as two
 * cores allow, and one report at the end.
 *
 * First the checks that need no running code (types, lint, unused code) beside the one build that the
 * browser tests and the fault suite share. Then a queue of suites, three processes at a
 * time (TEST_SLOTS; a check still running takes a place, so the first suites start as
 * the checks end), the longest first: many suites spend much of their time waiting on a
 * relay, a timeout or a browser, so three keep two cores busier than two did, and the
 * longest first leaves the short ones to fill in at the end. Within a suite, files run
 * one at a time as vitest.config.ts says. The fault suite and e2e are split into parts
 * of a few minutes each (every file in exactly one part); the fault table is printed
 * once, from all its parts.
 *
 * The worker variants run again, with every document in a worker thread, only the tests
 * whose path that changes: documents loaded, synced, saved and evicted by the relay
 * (RELAY_WORKER_THRESHOLD_BYTES=0) or the host (WRITER_WORKER_THRESHOLD_BYTES=0). Tests
 * of connections, tokens, rendering and the editor alone do not go through that path.
 *
 * Each suite's output goes to test-results/<suite>.log, and is printed in full when the
 * suite fails; the last lines of all name each failed test, its error and its line
 * (failureDigest.ts), for a CI page that keeps only the end. TEST_SLOTS=1 runs
 * everything one suite at a time; `npm test -- WORD…` runs only the suites whose names
 * contain one of the words (and the checks and build).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { mergeRows, renderTable, type RowResult } from "../test/faults/reporter";
import bundlePrograms from "../test/support/programs.setup";
import { failureDigest } from "./failureDigest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const logs = path.join(root, "test-results");

interface Suite {
  name: string;
  command: string[];
  env?: Record<string, string>;
  /** Writes the fault table's rows here (FAULTS_RESULTS). */
  faults?: boolean;
  /** Its place in the queue, which starts the longest first: about how long it takes, in seconds, beside the others in a quiet run of `npm test` (only the order matters). */
  seconds: number;
  /** Runs the build's output (the browser tests, and the fault suite's windows). */
  needsBuild?: boolean;
  /** How many tests it runs, for one that names its tests (`onlyTests`): a test renamed would otherwise drop out unseen. */
  tests?: number;
}

const vitest = (...args: string[]) => ["npx", "vitest", "run", ...args];
const FAULT_REPORTERS = ["--reporter=default", "--reporter=./test/faults/reporter.ts"];
const testFiles = (dir: string) =>
  fs
    .readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => `${dir}/${f}`);
const named = (...names: string[]) => (file: string) => names.some((name) => path.basename(file) === `${name}.test.ts`);

/** The fault suite's files that start relays, in two parts of about the same length; every other file runs in a third part. */
const faultFiles = testFiles("test/faults");
const faultsNetwork = named("network", "trace", "relay-peering", "matrix");
const faultsRelays = named("property", "relay-security", "relay-lifecycle", "relay-disk");
/** The e2e files in two parts, by name (a new file lands in one of them). */
const e2eFiles = testFiles("test/e2e");
const e2eFirst = (file: string) => path.basename(file) < "i";

const relayWorkers = { RELAY_WORKER_THRESHOLD_BYTES: "0" };
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/**
 * A vitest -t pattern for every test but those named: what a worker variant does not
 * change (a refusal at the socket, a relay run with --workers 0) is not run again there.
 */
const allBut = (...names: string[]) => ["-t", `^(?!.*(${names.map(escapeRegExp).join("|")}))`];
const hostWorkers = { WRITER_WORKER_THRESHOLD_BYTES: "0" };
/** A vitest -t pattern for the tests named (the start of each name) and no others. */
const onlyTests = (...names: string[]) => ["-t", `(${names.map(escapeRegExp).join("|")})`];

const checks: Suite[] = [
  // package-lock.json in step with package.json: `npm ci` (release builds, images) refuses otherwise.
  { name: "lock file", command: ["npm", "ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"], seconds: 4 },
  { name: "typecheck", command: ["npx", "tsc", "-b"], seconds: 36 },
  { name: "lint", command: ["npx", "eslint", "."], seconds: 25 },
  // Unused files and exports (knip.json): what nothing uses is removed, not kept.
  { name: "unused", command: ["npx", "knip", "--include", "files,exports", "--no-progress"], seconds: 17 },
  { name: "build", command: ["npx", "electron-vite", "build"], seconds: 7 },
];

const suites: Suite[] = [
  { name: "faults (network, traces, peering)", command: vitest("--project", "faults", ...FAULT_REPORTERS, ...faultFiles.filter(faultsNetwork)), faults: true, seconds: 460 },
  { name: "faults (properties, relays)", command: vitest("--project", "faults", ...FAULT_REPORTERS, ...faultFiles.filter(faultsRelays)), faults: true, seconds: 270 },
  {
    name: "faults (hosts, renderer, soak)",
    command: vitest("--project", "faults", ...FAULT_REPORTERS, ...faultFiles.filter((f) => !faultsNetwork(f) && !faultsRelays(f))),
    faults: true,
    seconds: 355,
    needsBuild: true,
  },
  { name: "unit", command: vitest("--project", "unit"), seconds: 235 },
  { name: "integration", command: vitest("--project", "integration"), seconds: 305 },
  { name: "e2e (a-h)", command: vitest("--project", "e2e", ...e2eFiles.filter(e2eFirst)), seconds: 330, needsBuild: true },
  { name: "e2e (i-z)", command: vitest("--project", "e2e", ...e2eFiles.filter((f) => !e2eFirst(f))), seconds: 375, needsBuild: true },
  // Documents the relay loads, syncs, stores, evicts and hands to its peers.
  {
    name: "integration, relay documents in workers",
    command: vitest(
      "--project",
      "integration",
      "test/integration/sync.test.ts",
      "test/integration/relay-backup.test.ts",
      "test/integration/relay-eviction.test.ts",
      // Tokens refused or revoked: decided at the socket, before any document.
      ...allBut("names a refused token"),
    ),
    env: relayWorkers,
    seconds: 75,
  },
  {
    name: "faults, relay documents in workers",
    // S1, S2: tokens, at the socket; S12 runs its relay with --workers 0, and F14 its own
    // with a threshold of 0 (a flag, which the environment does not override).
    command: vitest("--project", "faults", ...FAULT_REPORTERS, "test/faults/relay-lifecycle.test.ts", "test/faults/relay-peering.test.ts", "test/faults/relay-disk.test.ts", ...allBut("S1: ", "S2: ", "S12: ", "F14: ")),
    env: relayWorkers,
    faults: true,
    seconds: 110,
  },
  // The same, with windows in Chromium, as the app reaches its documents: only what the
  // host-level tests in workers (test/host/workers.test.ts, and "host, documents in
  // workers" below) do not already take through the worker. Those load, edit, save,
  // rename, search, duplicate, delete and import long documents from a window's Repo,
  // follow them in the library and the render cache, and take a shared link's document
  // from a relay; so the library's and the exports' windows, the render cache's first
  // paint and the word count are not run again here. Left for a real window: the saved
  // copy a reopened window starts from and what it types on an older one, a SIGKILL while
  // the worker saves, a relay's changes and a link not on the relay yet reaching a window,
  // a backup merged into a document (only here), and presence through both the window's
  // and the relay's connection. (The fault suite's host- files drive hosts through their
  // Repo, test/support/host-child.ts, which keeps the documents it edits on the main
  // thread: a worker changes nothing there.)
  {
    name: "e2e, host documents in workers",
    command: vitest(
      "--project",
      "e2e",
      // (desktop-worker.test.ts is not among them: its host sets a threshold of 0 itself.)
      ...["open", "crash", "importExport", "sync", "presence"].map((f) => `test/e2e/${f}.test.ts`),
      ...onlyTests(
        "loads the reopened document from the host's saved copy",
        "typing on a cache older than the document is merged",
        "keeps every change older than the save debounce",
        "shows a remote writer's text appear",
        "opens a shared link whose document is not on the relay yet",
        "a backup of a document the library has",
        "works through a relay between two writers",
      ),
    ),
    env: hostWorkers,
    seconds: 95,
    needsBuild: true,
    tests: 7,
  },
  // Of the security rows, those that reach documents: a read-only token's changes (S3),
  // hostile IDs on disk (S7), requests for documents nobody has (S8). S1, S2, S4-S6 end
  // at the socket, before any document.
  {
    name: "faults, relay security in workers",
    command: vitest("--project", "faults", ...FAULT_REPORTERS, "test/faults/relay-security.test.ts", "-t", "S[378]: "),
    env: relayWorkers,
    faults: true,
    seconds: 20,
  },
  {
    name: "faults, host documents in workers",
    command: vitest("--project", "faults", ...FAULT_REPORTERS, "test/faults/renderer-concurrent-edits.test.ts"),
    env: hostWorkers,
    faults: true,
    seconds: 45,
    needsBuild: true,
  },
  // Documents the host loads, syncs with windows and relays, saves, imports and caches.
  // (Not workers.test.ts: every host there is given its threshold, which the environment
  // does not override.)
  {
    name: "host, documents in workers",
    command: vitest("--project", "unit", ...testFiles("test/host").filter((f) => path.basename(f) !== "workers.test.ts")),
    env: hostWorkers,
    seconds: 35,
  },
];

interface Outcome {
  suite: Suite;
  ok: boolean;
  seconds: number;
  /** Processor seconds it used, its processes' and theirs (undefined off Linux). */
  cpu: number | undefined;
  log: string;
  summary: string;
}

/**
 * Processor seconds used so far by this process's finished children, with everything
 * they waited for (Linux's cutime and cstime, in clock ticks of 1/100 s). Read as each
 * suite ends, the growth since the last read is that suite's: children are reaped one
 * by one as they exit. Undefined where /proc is not.
 */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}
let cpuSoFar = childrenCpuSeconds();

const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase();
const faultParts: string[] = [];
const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;

/** The checks and suites running now, and what waits for one of them to end. */
let running = 0;
const ended: (() => void)[] = [];

function run(suite: Suite): Promise<Outcome> {
  running++;
  const log = path.join(logs, `${slug(suite.name)}.log`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...suite.env };
  if (suite.faults) {
    const part = path.join(logs, `${slug(suite.name)}.faults.json`);
    fs.rmSync(part, { force: true });
    faultParts.push(part);
    env.FAULTS_RESULTS = part;
  }
  console.log(`[${elapsed()}] ▶ ${suite.name}`);
  const began = Date.now();
  return new Promise((resolve) => {
    const out = fs.openSync(log, "w");
    const child = spawn(suite.command[0]!, suite.command.slice(1), { cwd: root, env, stdio: ["ignore", out, out] });
    const finish = (exitedOk: boolean) => {
      let ok = exitedOk;
      fs.closeSync(out);
      const seconds = (Date.now() - began) / 1000;
      const cpuNow = childrenCpuSeconds();
      const cpu = cpuNow === undefined || cpuSoFar === undefined ? undefined : cpuNow - cpuSoFar;
      cpuSoFar = cpuNow;
      // Without colours, for the summary (vitest colours its output whatever it is told).
      const text = stripVTControlCharacters(fs.readFileSync(log, "utf8"));
      // vitest's closing lines, or the last line of a check.
      let summary =
        text
          .split("\n")
          .filter((l) => /^\s*(Test Files|Tests)\s/.test(l))
          .map((l) => l.trim().replace(/\s+/g, " "))
          .join("; ") || (ok ? "ok" : (text.trim().split("\n").at(-1) ?? ""));
      // A suite that names its tests ran each of them (vitest's "Tests  7 passed | 9 skipped (16)").
      const ran = Number(/Tests (\d+) passed/.exec(summary)?.[1] ?? 0);
      if (ok && suite.tests !== undefined && ran !== suite.tests) {
        ok = false;
        summary += ` (expected ${suite.tests} tests to run, not ${ran}: is one of the names it runs out of date?)`;
      }
      console.log(`[${elapsed()}] ${ok ? "✓" : "✗"} ${suite.name} (${seconds.toFixed(0)} s): ${summary}`);
      running--;
      for (const wake of ended.splice(0)) wake();
      resolve({ suite, ok, seconds, cpu, log, summary });
    };
    child.once("error", () => finish(false));
    child.once("exit", (code) => finish(code === 0));
  });
}

/**
 * Runs the suites, the longest first, each as soon as fewer than `slots` processes of
 * `npm test` run (checks still running count: the first suites start as the checks
 * end, one by one, not once the longest has); without the build, none that needs it.
 */
async function runQueue(queue: Suite[], slots: number, built: boolean): Promise<Outcome[]> {
  const waiting = queue.filter((s) => built || !s.needsBuild).sort((x, y) => y.seconds - x.seconds);
  const outcomes: Outcome[] = [];
  const slot = async () => {
    for (;;) {
      while (running >= slots) await new Promise<void>((wake) => ended.push(wake));
      // Taken and started in the same turn as the look above: no other slot can pass it meanwhile.
      const suite = waiting.shift();
      if (!suite) return;
      outcomes.push(await run(suite));
    }
  };
  await Promise.all(Array.from({ length: slots }, slot));
  return outcomes;
}

const only = process.argv.slice(2).map((w) => w.toLowerCase());
const chosen = only.length > 0 ? suites.filter((s) => only.some((w) => s.name.toLowerCase().includes(w))) : suites;

fs.mkdirSync(logs, { recursive: true });
const slots = Math.max(1, Number.parseInt(process.env.TEST_SLOTS ?? "3", 10) || 3);
console.log(`npm test: ${checks.length} checks and ${chosen.length} suites, ${slots} at a time (${os.cpus().length} cores); logs in ${path.relative(root, logs)}/`);
// The programs the suites start, bundled once for all of them (each suite's globalSetup
// would bundle them again); a failure here is left to the suites, which report it.
const bundled = bundlePrograms().catch((error: unknown) => {
  console.log(`Bundling the test programs failed; each suite tries again: ${String(error)}`);
  return () => undefined;
});
// The checks all at once (they keep both cores busy for half a minute); the queue once
// the build is done, its suites starting as the checks end (TEST_SLOTS=1: one by one).
let checked: Promise<Outcome[]>;
let buildOutcome: Outcome | undefined;
if (slots === 1) {
  checked = runQueue(checks, 1, true);
  buildOutcome = (await checked).find((o) => o.suite.name === "build");
} else {
  const runs = checks.map(run);
  checked = Promise.all(runs);
  buildOutcome = await runs[checks.findIndex((c) => c.name === "build")];
}
const removeBundles = await bundled;
const suiteOutcomes = await runQueue(chosen, slots, buildOutcome?.ok ?? false);
const outcomes = [...(await checked), ...suiteOutcomes];
removeBundles();

const failed = outcomes.filter((o) => !o.ok);
for (const o of failed) {
  console.log(`\n${"=".repeat(20)} ${o.suite.name} failed: its output (${path.relative(root, o.log)}) ${"=".repeat(20)}\n`);
  process.stdout.write(fs.readFileSync(o.log, "utf8"));
}
const parts = faultParts.filter((p) => fs.existsSync(p)).map((p) => JSON.parse(fs.readFileSync(p, "utf8")) as Record<string, RowResult>);
if (parts.length > 0) console.log(`\nThe failure-mode matrix (../shared/FAILURE-MODES.md), every part of this run:\n\n${renderTable(mergeRows(parts)).text}\n`);
const cpuText = (cpu: number | undefined) => (cpu === undefined ? "" : `${cpu.toFixed(0).padStart(6)} s`);
console.log("suite                                          result  time   processor");
for (const o of outcomes) console.log(`${o.suite.name.padEnd(46)} ${(o.ok ? "ok" : "FAILED").padEnd(7)} ${o.seconds.toFixed(0).padStart(4)} s ${cpuText(o.cpu)}`);
const totalCpu = outcomes.every((o) => o.cpu !== undefined) ? outcomes.reduce((sum, o) => sum + o.cpu!, 0) : undefined;
if (totalCpu !== undefined) console.log(`${"all".padEnd(46)} ${"".padEnd(7)} ${elapsed().padStart(6)} ${cpuText(totalCpu)} (${os.cpus().length} cores)`);
// What failed, in the last lines (a CI page may keep no more): the full logs are above.
for (const o of failed) {
  console.log(`\n${o.suite.name} failed (${path.relative(root, o.log)}):`);
  for (const line of failureDigest(stripVTControlCharacters(fs.readFileSync(o.log, "utf8")))) console.log(line);
}
const missing = checks.length + chosen.length - outcomes.length;
console.log(`\n${failed.length === 0 && missing === 0 ? "All passed" : `${failed.length} failed${missing ? `, ${missing} not run` : ""}`} in ${elapsed()}.`);
process.exit(failed.length === 0 && missing === 0 ? 0 : 1);
