/**
 * `npm test`: every check and every test the project has, in as little wall time as two
 * cores allow, and one report at the end.
 *
 * First the checks that need no running code (types, lint, unused code) beside the one build that the
 * browser tests and the fault suite share. Then two lanes side by side, each running its
 * suites one after another: one for the suites that start real relay and host processes,
 * one for those that drive Chromium. Within a suite, files run one at a time as
 * vitest.config.ts says. The fault suite is split across the lanes (every file in one of
 * them; see FAULT_LANE) and its table is printed once, from both parts.
 *
 * The worker variants run again, with every document in a worker thread, only the tests
 * whose path that changes: documents loaded, synced, saved and evicted by the relay
 * (RELAY_WORKER_THRESHOLD_BYTES=0) or the host (WRITER_WORKER_THRESHOLD_BYTES=0). Tests
 * of connections, tokens, rendering and the editor alone do not go through that path.
 *
 * Each suite's output goes to test-results/<suite>.log, and is printed in full when the
 * suite fails. TEST_LANES=1 runs everything one suite at a time; `npm test -- WORD…` runs
 * only the suites whose names contain one of the words (and the checks and build).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import { mergeRows, renderTable, type RowResult } from "../test/faults/reporter";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const logs = path.join(root, "test-results");

interface Suite {
  name: string;
  command: string[];
  env?: Record<string, string>;
  /** Writes the fault table's rows here (FAULTS_RESULTS). */
  faults?: boolean;
}

const vitest = (...args: string[]) => ["npx", "vitest", "run", ...args];
const FAULT_REPORTERS = ["--reporter=default", "--reporter=./test/faults/reporter.ts"];

/** Fault-suite files that run in the processes lane; every other one runs in the browser lane. */
const FAULT_LANE_PROCESSES = ["network", "relay-lifecycle", "relay-peering", "relay-security", "relay-disk", "property", "trace", "matrix"];
const faultFiles = fs
  .readdirSync(path.join(root, "test/faults"))
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => `test/faults/${f}`);
const inProcessesLane = (file: string) => FAULT_LANE_PROCESSES.some((name) => path.basename(file) === `${name}.test.ts`);

const relayWorkers = { RELAY_WORKER_THRESHOLD_BYTES: "0" };
/**
 * A vitest -t pattern for every test but those named: what a worker variant does not
 * change (a refusal at the socket, a relay run with --workers 0) is not run again there.
 */
const allBut = (...names: string[]) => ["-t", `^(?!.*(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")}))`];
const hostWorkers = { WRITER_WORKER_THRESHOLD_BYTES: "0" };

const checks: Suite[] = [
  // package-lock.json in step with package.json: `npm ci` (release builds, images) refuses otherwise.
  { name: "lock file", command: ["npm", "ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"] },
  { name: "typecheck", command: ["npx", "tsc", "-b"] },
  { name: "lint", command: ["npx", "eslint", "."] },
  // Unused files and exports (knip.json): what nothing uses is removed, not kept.
  { name: "unused", command: ["npx", "knip", "--include", "files,exports", "--no-progress"] },
  { name: "build", command: ["npx", "electron-vite", "build"] },
];

const lanes: Suite[][] = [
  [
    { name: "faults (relays, network, properties)", command: vitest("--project", "faults", ...FAULT_REPORTERS, ...faultFiles.filter(inProcessesLane)), faults: true },
    { name: "unit", command: vitest("--project", "unit") },
    { name: "integration", command: vitest("--project", "integration") },
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
    },
    {
      name: "faults, relay documents in workers",
      // S1, S2: tokens, at the socket; S12 runs its relay with --workers 0.
      command: vitest("--project", "faults", ...FAULT_REPORTERS, "test/faults/relay-lifecycle.test.ts", "test/faults/relay-peering.test.ts", "test/faults/relay-disk.test.ts", ...allBut("S1: ", "S2: ", "S12: ")),
      env: relayWorkers,
      faults: true,
    },
  ],
  [
    { name: "e2e", command: vitest("--project", "e2e") },
    // The same, with windows in Chromium, as the app reaches its documents. (The fault
    // suite's host- files drive hosts through their Repo, test/support/host-child.ts,
    // which keeps the documents it edits on the main thread: a worker changes nothing there.)
    {
      name: "e2e, host documents in workers",
      command: vitest(
        "--project",
        "e2e",
        ...["open", "crash", "library", "importExport", "sync", "presence", "desktop-worker"].map((f) => `test/e2e/${f}.test.ts`),
        // What no document is part of: a relay's refusal, the shell's own door, printing
        // the page, and a race in the page between two clicks.
        ...allBut("says why a relay refuses", "refuses anyone without the token", "prints (the browser's Save as PDF)", "keeps the document the writer opened while another"),
      ),
      env: hostWorkers,
    },
    // Of the security rows, those that reach documents: a read-only token's changes (S3),
    // hostile IDs on disk (S7), requests for documents nobody has (S8). S1, S2, S4-S6 end
    // at the socket, before any document.
    {
      name: "faults, relay security in workers",
      command: vitest("--project", "faults", ...FAULT_REPORTERS, "test/faults/relay-security.test.ts", "-t", "S[378]: "),
      env: relayWorkers,
      faults: true,
    },
    {
      name: "faults, host documents in workers",
      command: vitest("--project", "faults", ...FAULT_REPORTERS, "test/faults/renderer-concurrent-edits.test.ts"),
      env: hostWorkers,
      faults: true,
    },
    // Documents the host loads, syncs with windows and relays, saves, imports and caches.
    { name: "host, documents in workers", command: vitest("--project", "unit", "test/host/"), env: hostWorkers },
    { name: "faults (hosts, renderer, soak)", command: vitest("--project", "faults", ...FAULT_REPORTERS, ...faultFiles.filter((f) => !inProcessesLane(f))), faults: true },
  ],
];

interface Outcome {
  suite: Suite;
  ok: boolean;
  seconds: number;
  log: string;
  summary: string;
}

const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase();
const faultParts: string[] = [];
const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;

function run(suite: Suite): Promise<Outcome> {
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
    const finish = (ok: boolean) => {
      fs.closeSync(out);
      const seconds = (Date.now() - began) / 1000;
      // Without colours, for the summary (vitest colours its output whatever it is told).
      const text = stripVTControlCharacters(fs.readFileSync(log, "utf8"));
      // vitest's closing lines, or the last line of a check.
      const summary =
        text
          .split("\n")
          .filter((l) => /^\s*(Test Files|Tests)\s/.test(l))
          .map((l) => l.trim().replace(/\s+/g, " "))
          .join("; ") || (ok ? "ok" : (text.trim().split("\n").at(-1) ?? ""));
      console.log(`[${elapsed()}] ${ok ? "✓" : "✗"} ${suite.name} (${seconds.toFixed(0)} s): ${summary}`);
      resolve({ suite, ok, seconds, log, summary });
    };
    child.once("error", () => finish(false));
    child.once("exit", (code) => finish(code === 0));
  });
}

async function runLane(suites: Suite[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const suite of suites) outcomes.push(await run(suite));
  return outcomes;
}

const only = process.argv.slice(2).map((w) => w.toLowerCase());
if (only.length > 0) for (const lane of lanes) lane.splice(0, lane.length, ...lane.filter((s) => only.some((w) => s.name.toLowerCase().includes(w))));

fs.mkdirSync(logs, { recursive: true });
const sequential = process.env.TEST_LANES === "1";
console.log(`npm test: ${checks.length} checks, then ${lanes.length} lanes of suites (${os.cpus().length} cores${sequential ? ", one suite at a time" : ""}); logs in ${path.relative(root, logs)}/`);
const outcomes: Outcome[] = [];
if (sequential) {
  outcomes.push(...(await runLane([...checks, ...lanes.flat()])));
} else {
  outcomes.push(...(await Promise.all(checks.map(run))));
  // The browser tests and the fault suite run the build: no lane starts without it.
  if (outcomes.find((o) => o.suite.name === "build")?.ok) outcomes.push(...(await Promise.all(lanes.map(runLane))).flat());
}

const failed = outcomes.filter((o) => !o.ok);
for (const o of failed) {
  console.log(`\n${"=".repeat(20)} ${o.suite.name} failed: its output (${path.relative(root, o.log)}) ${"=".repeat(20)}\n`);
  process.stdout.write(fs.readFileSync(o.log, "utf8"));
}
const parts = faultParts.filter((p) => fs.existsSync(p)).map((p) => JSON.parse(fs.readFileSync(p, "utf8")) as Record<string, RowResult>);
if (parts.length > 0) console.log(`\nThe failure-mode matrix (../shared/FAILURE-MODES.md), every part of this run:\n\n${renderTable(mergeRows(parts)).text}\n`);
console.log("suite                                          result  time");
for (const o of outcomes) console.log(`${o.suite.name.padEnd(46)} ${(o.ok ? "ok" : "FAILED").padEnd(7)} ${o.seconds.toFixed(0).padStart(4)} s`);
const missing = checks.length + lanes.flat().length - outcomes.length;
console.log(`\n${failed.length === 0 && missing === 0 ? "All passed" : `${failed.length} failed${missing ? `, ${missing} not run` : ""}`} in ${elapsed()}.`);
process.exit(failed.length === 0 && missing === 0 ? 0 : 1);
