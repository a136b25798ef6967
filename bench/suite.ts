/**
 * The benchmark suite (`npm run bench`): runs every benchmark one after another (never
 * side by side: they measure time), each with bounded options and a timeout, then reads
 * the summary each one wrote (bench/<dir>/results/summary.json, bench/common/results.ts)
 * and writes bench/RESULTS.md, with its plots in bench/plots/*.svg.
 *
 *   npm run bench [-- --only typing,propagation] [-- --skip long-document] [-- --list]
 *
 * A benchmark that fails, times out or is not there is listed as such in RESULTS.md.
 * Benchmarks are not tests: a missed target is a result (FAIL in the table), and the
 * suite exits non-zero only when a benchmark could not run (crashed or timed out).
 */
import { spawn } from "node:child_process";
import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { commitDescription, machineDescription, type Figure, type Summary } from "./common/results";
import { renderSvg } from "./common/plot";

const benchRoot = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(benchRoot, "..");

interface BenchEntry {
  /** What `--only` and `--skip` call it, and its heading in RESULTS.md. */
  name: string;
  /** Its folder under bench/, where it writes results/summary.json. */
  dir: string;
  /** The script and its arguments, run with `node --import tsx` from the project root. */
  args: string[];
  /** Killed after this long (SIGTERM, then SIGKILL to its whole process group). */
  timeoutS: number;
  /** It serves the built renderer (out/renderer): the suite runs `npm run build` first. */
  needsBuild?: boolean;
  /** One line for RESULTS.md: what it measures and against what. */
  about: string;
}

/**
 * Every benchmark, in the order they run, with options that keep the whole suite under
 * 20 minutes on the 2-core machine. Add a benchmark here; its run.ts writes the summary.
 */
const BENCHES: BenchEntry[] = [
  {
    name: "typing",
    dir: "typing",
    args: ["bench/typing/run.ts", "--keys", "300"],
    timeoutS: 6 * 60,
    needsBuild: true,
    about: "keystroke to paint in a 104,852-character document in Chromium, Writer beside a plain ProseMirror editor holding the same text",
  },
  {
    name: "long-document",
    dir: "long-document",
    // --reuse: the two documents the last full run typed (results/*.automerge); typing the
    // whole trace again takes 4–6 minutes here. Without them it types the trace.
    args: ["bench/long-document/run.ts", "--reuse", "--opens", "3"],
    timeoutS: 10 * 60,
    needsBuild: true,
    about: "the automerge-paper trace (259,778 keystrokes) as Writer stores it, opened in the app, beside bare Automerge.load of the same document and the same trace stored one change per keystroke",
  },
  {
    name: "propagation",
    dir: "propagation",
    args: ["bench/propagation/run.ts", "--typists", "2,8,32", "--seconds", "10", "--relay", "both"],
    timeoutS: 9 * 60,
    about: "keystroke to every other writer's renderer through one relay, N writers each a real host process, our relay beside a plain automerge-repo relay with stock settings",
  },
  {
    name: "relay-memory",
    dir: "relay-memory",
    // 1,500 documents, the relay's default budget: about a minute.
    args: ["bench/relay-memory/run.ts"],
    timeoutS: 3 * 60,
    about: "the relay's resident memory while small documents pass through it one after another, and after they have left memory",
  },
  {
    name: "automerge-cost",
    dir: "automerge-cost",
    args: ["bench/automerge-cost/run.ts", "--rounds", "1", "--changes", "100"],
    timeoutS: 3 * 60,
    about: "bare Automerge's own cost per keystroke (local change, applying received changes, sync, load) against document length: the floor under every other figure",
  },
  {
    name: "relay-capacity",
    dir: "relay-capacity",
    // The targets' steps (64 typists on one document, 500 writers over 100 documents) and a few below.
    args: ["bench/relay-capacity/run.ts", "--one-document", "8,32,64", "--many", "100,500", "--seconds", "5"],
    timeoutS: 4 * 60,
    about: "how many typists one relay, pinned to one core, serves before keystroke-to-other-writers p99 passes 100 ms: on one document and spread over many",
  },
  {
    name: "cluster",
    dir: "cluster",
    args: ["bench/cluster/run.ts", "--documents", "4", "--seconds", "15", "--rate", "2"],
    timeoutS: 4 * 60,
    about: "keystroke to the other writer and relay CPU per keystroke with three relays on PostgreSQL and NATS behind nginx, beside one relay alone, same clients, same run",
  },
  {
    name: "trace-replay",
    dir: "trace-replay",
    args: ["bench/trace-replay/run.ts"],
    timeoutS: 4 * 60,
    about: "the automerge-paper trace replayed through Writer's editor and host, beside bare Automerge replaying the same edits: time, memory, bytes on disk, reopening",
  },
  {
    name: "offline-merge",
    dir: "offline-merge",
    args: ["bench/offline-merge/run.ts", "--edits", "5000"],
    timeoutS: 3 * 60,
    about: "two writers who typed offline coming back and merging through a relay, beside bare Automerge merging the same changes",
  },
  {
    name: "bytes-written",
    dir: "bytes-written",
    // Half an hour of typing on the writer's clock (54 s of real time).
    args: ["bench/bytes-written/run.ts", "--seconds", "1800"],
    timeoutS: 3 * 60,
    about: "bytes written to disk while a writer types, beside the naive design of an HTML snapshot every 30 seconds",
  },
  {
    name: "cold-open",
    dir: "cold-open",
    args: ["bench/cold-open/run.ts", "--rounds", "3"],
    timeoutS: 3 * 60,
    about: "a new device opening the paper document that only a relay has, beside a plain automerge-repo Repo fetching it and bare Automerge.load",
  },
];

const BUILD_TIMEOUT_S = 5 * 60;
/** After SIGTERM a benchmark has this long to clean up before its process group is killed. */
const GRACE_MS = 15_000;

type Status = "ok" | "failed" | "timed out" | "not present" | "skipped" | "not run: build failed";

interface BenchRun {
  entry: BenchEntry;
  status: Status;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  wallS: number;
  log?: string;
  summary?: Summary;
  /** Why the summary is missing or could not be read. */
  summaryProblem?: string;
  /** The last lines of its output when it failed. */
  tail?: string[];
  /** Not run now (`--only`, `--skip`): the run of an earlier `npm run bench`, at this date. */
  earlier?: string;
}

/** What the suite keeps of a run (bench/results/suite/<name>.run.json), for a later `--only`. */
type RunRecord = Pick<BenchRun, "status" | "exitCode" | "signal" | "wallS" | "tail"> & { date: string };

const logDir = path.join(benchRoot, "results", "suite");
const plotDir = path.join(benchRoot, "plots");
const resultsFile = path.join(benchRoot, "RESULTS.md");

let current: { pid: number } | undefined;
let interrupted = false;

/** Runs a command in its own process group, output to the terminal and to `logFile`, bounded by `timeoutS`. */
async function runBounded(label: string, command: string, args: string[], timeoutS: number, logFile: string, env: Record<string, string> = {}): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; timedOut: boolean; wallS: number; tail: string[] }> {
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  const log = fsSync.createWriteStream(logFile);
  const started = Date.now();
  const child = spawn(command, args, { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, NO_COLOR: "1", ...env } });
  current = { pid: child.pid! };
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    // eslint-disable-next-line no-control-regex -- colour codes out of the tail that RESULTS.md shows
    for (const line of chunk.toString().replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").split("\n")) if (line.trim()) tail.push(line);
    if (tail.length > 400) tail.splice(0, tail.length - 400);
  };
  child.stdout!.on("data", (chunk: Buffer) => {
    process.stdout.write(chunk);
    keep(chunk);
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    process.stderr.write(chunk);
    keep(chunk);
  });
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`\n[suite] ${label}: no result within ${timeoutS} s; stopping it (SIGTERM, then SIGKILL)`);
    signalGroup(child.pid!, "SIGTERM", false);
    killTimer = setTimeout(() => signalGroup(child.pid!, "SIGKILL", true), GRACE_MS);
  }, timeoutS * 1000);
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once("exit", (code, sig) => resolve([code, sig])));
  clearTimeout(timer);
  // Whatever it left behind in its group (relays, browsers) goes with it.
  signalGroup(child.pid!, "SIGKILL", true);
  clearTimeout(killTimer);
  current = undefined;
  await new Promise<void>((resolve) => log.end(resolve));
  return { exitCode, signal, timedOut, wallS: (Date.now() - started) / 1000, tail };
}

/** Signals the benchmark (its process group when `group`); it may be gone already. */
function signalGroup(pid: number, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, signal);
  } catch {
    // Gone.
  }
}

function isSummary(value: unknown): value is Summary {
  const v = value as Summary;
  return typeof v === "object" && v !== null && Array.isArray(v.figures) && v.figures.every((f) => typeof f?.name === "string" && typeof f.value === "number");
}

/** A benchmark left out by `--only` or `--skip`: its last run by the suite, if any, marked as earlier. */
async function earlierRun(entry: BenchEntry): Promise<BenchRun> {
  const read = async (file: string): Promise<unknown> => {
    try {
      return JSON.parse(await fs.readFile(path.join(logDir, file), "utf8"));
    } catch {
      return undefined;
    }
  };
  const record = (await read(`${entry.name}.run.json`)) as RunRecord | undefined;
  const summary = await read(`${entry.name}.summary.json`);
  if (record) {
    return { entry, ...record, earlier: record.date, ...(isSummary(summary) ? { summary } : { summaryProblem: "it wrote no summary" }) };
  }
  // A summary without its record: it ran and wrote it; the exit is not known.
  if (isSummary(summary)) return { entry, status: "ok", exitCode: null, signal: null, wallS: summary.durationS, earlier: summary.date, summary };
  return { entry, status: "skipped", exitCode: null, signal: null, wallS: 0 };
}

async function runBench(entry: BenchEntry): Promise<BenchRun> {
  const script = path.join(projectRoot, entry.args[0]!);
  if (!fsSync.existsSync(script)) return { entry, status: "not present", exitCode: null, signal: null, wallS: 0 };
  // The suite's own copy (writeSummary honours BENCH_SUMMARY_FILE): a run of the same
  // benchmark started by hand meanwhile writes its results/summary.json, not this one.
  const summaryFile = path.join(logDir, `${entry.name}.summary.json`);
  await fs.rm(summaryFile, { force: true });
  console.log(`\n[suite] ${entry.name}: npx tsx ${entry.args.join(" ")} (at most ${formatDuration(entry.timeoutS)})`);
  const logFile = path.join(logDir, `${entry.name}.log`);
  const r = await runBounded(entry.name, process.execPath, ["--import", "tsx", ...entry.args], entry.timeoutS, logFile, { BENCH_SUMMARY_FILE: summaryFile });
  const run: BenchRun = {
    entry,
    status: r.timedOut ? "timed out" : r.exitCode === 0 ? "ok" : "failed",
    exitCode: r.exitCode,
    signal: r.signal,
    wallS: r.wallS,
    log: path.relative(projectRoot, logFile),
  };
  if (run.status !== "ok") run.tail = r.tail.slice(-15);
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(summaryFile, "utf8"));
    if (isSummary(parsed)) run.summary = parsed;
    else run.summaryProblem = "its summary is not in the shape of bench/common/results.ts";
  } catch (error) {
    run.summaryProblem = (error as NodeJS.ErrnoException).code === "ENOENT" ? "it wrote no summary (writeSummary, bench/common/results.ts)" : `its summary could not be read: ${(error as Error).message}`;
  }
  const record: RunRecord = { status: run.status, exitCode: run.exitCode, signal: run.signal, wallS: run.wallS, tail: run.tail, date: new Date().toISOString() };
  await fs.writeFile(path.join(logDir, `${entry.name}.run.json`), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`[suite] ${entry.name}: ${run.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : r.signal ? ` (${r.signal})` : ""} after ${formatDuration(r.wallS)}${run.summary ? `, ${run.summary.figures.length} figures` : `; ${run.summaryProblem}`}`);
  return run;
}

// ---------------------------------------------------------------------------------
// RESULTS.md

function formatDuration(s: number): string {
  if (s < 60) return `${s.toFixed(0)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest === 0 ? `${m} min` : `${m} min ${rest} s`;
}

function formatNumber(v: number, unit: string): string {
  if (!Number.isFinite(v)) return "–";
  const abs = Math.abs(v);
  // Counts and bytes are whole; measured values get three significant digits or so.
  const whole = unit === "count" || unit === "bytes" || v === 0 || abs >= 100;
  const digits = whole ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  if (!unit || unit === "count") return text;
  if (unit === "%" || unit === "×" || unit === "x") return `${text}${unit === "%" ? " %" : "×"}`;
  return `${text} ${unit}`;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function figureRow(f: Figure): string {
  const baseline = f.baseline ? `${formatNumber(f.baseline.value, f.unit)} (${f.baseline.name})` : "–";
  const verdict = f.target ? (f.target.met ? "PASS" : "**FAIL**") : "";
  return `| ${cell(f.name)} | ${formatNumber(f.value, f.unit)} | ${cell(baseline)} | ${cell(f.target?.text ?? "–")} | ${verdict} |`;
}

function targetsOf(run: BenchRun): string {
  const targets = run.summary?.figures.filter((f) => f.target) ?? [];
  if (targets.length === 0) return run.summary ? "no targets" : "–";
  const met = targets.filter((f) => f.target!.met).length;
  return met === targets.length ? `${met} of ${targets.length} PASS` : `**${targets.length - met} of ${targets.length} FAIL**`;
}

function statusText(run: BenchRun): string {
  if (run.earlier) return `not run now (\`--only\` / \`--skip\`); the suite's run of ${run.earlier.slice(0, 16).replace("T", " ")} UTC: ${currentStatusText(run)}`;
  return currentStatusText(run);
}

function currentStatusText(run: BenchRun): string {
  switch (run.status) {
    case "ok":
      return run.summary ? "ran" : `ran, **no summary** (${run.summaryProblem})`;
    case "failed":
      return `**failed** (${run.exitCode !== null ? `exit ${run.exitCode}` : run.signal})`;
    case "timed out":
      return `**timed out** after ${formatDuration(run.entry.timeoutS)}`;
    case "not present":
      return `not present (no ${run.entry.args[0]})`;
    case "skipped":
      return "skipped (`--only` / `--skip`)";
    case "not run: build failed":
      return "**not run**: `npm run build` failed";
  }
}

interface SuiteInfo {
  command: string;
  commit: string;
  machine: string;
  started: Date;
  durationS: number;
  loadAverage: string;
  build?: { status: string; wallS: number };
}

async function writeResults(info: SuiteInfo, runs: BenchRun[]): Promise<void> {
  await fs.mkdir(plotDir, { recursive: true });
  // The plots always match this RESULTS.md: none left from a benchmark that did not run now.
  for (const file of await fs.readdir(plotDir)) if (file.endsWith(".svg")) await fs.rm(path.join(plotDir, file));

  const lines: string[] = [];
  const add = (...l: string[]) => lines.push(...l);
  add(
    "# Benchmark results",
    "",
    "Written by `npm run bench` (`bench/suite.ts`) from the figures each benchmark measured in this",
    "run; do not edit by hand. Every figure stands beside its baseline measured in the same run.",
    "Benchmarks are not tests: a missed target shows as FAIL, and CI does not run them. Each",
    "benchmark's README says how it measures and what its figures mean; its full output is in",
    "`bench/results/suite/<name>.log` (not committed).",
    "",
    "| | |",
    "|---|---|",
    `| command | \`${info.command}\` |`,
    `| commit | ${info.commit} |`,
    `| machine | ${cell(info.machine)} |`,
    `| date | ${info.started.toISOString().replace(/\.\d+Z$/, "Z")} |`,
    `| total duration | ${formatDuration(info.durationS)}${info.build ? ` (of which \`npm run build\`: ${formatDuration(info.build.wallS)}${info.build.status === "ok" ? "" : `, ${info.build.status}`})` : ""} |`,
    `| load average at the start (1, 5, 15 min) | ${info.loadAverage} |`,
    "",
    "| benchmark | status | wall time | targets |",
    "|---|---|---|---|",
  );
  for (const run of runs) add(`| [${run.entry.name}](#${run.entry.name}) | ${statusText(run)} | ${run.wallS > 0 ? formatDuration(run.wallS) : "–"} | ${targetsOf(run)} |`);

  for (const run of runs) {
    add("", `## ${run.entry.name}`, "", `${run.entry.about[0]!.toUpperCase()}${run.entry.about.slice(1)} ([README](${run.entry.dir}/README.md)).`, "");
    add(`Command: \`${run.summary?.command ?? `npx tsx ${run.entry.args.join(" ")}`}\`${run.wallS > 0 ? `, ${formatDuration(run.wallS)}` : ""}. Status: ${statusText(run)}.`);
    if (run.summary && run.summary.commit !== info.commit) add("", `Measured at ${run.summary.commit}.`);
    if (run.tail && run.tail.length > 0) add("", "Its last lines of output:", "", "```", ...run.tail.map((l) => l.slice(0, 200)), "```");
    if (!run.summary) continue;
    const s = run.summary;
    if (s.figures.length > 0) {
      add("", "| figure | value | baseline (same run) | target | verdict |", "|---|---|---|---|---|");
      for (const f of s.figures) add(figureRow(f));
    }
    if (s.notes && s.notes.length > 0) add("", ...s.notes.map((n) => `- ${n}`));
    for (const series of s.series ?? []) {
      const file = `${series.id.replace(/[^\w.-]+/g, "-")}.svg`;
      try {
        const svg = await renderSvg(series, `${run.entry.name}, ${s.date.slice(0, 10)}, ${info.commit}`);
        await fs.writeFile(path.join(plotDir, file), svg);
        add("", `![${cell(series.title)}](plots/${file})`);
      } catch (error) {
        add("", `(plot ${file} could not be drawn: ${cell((error as Error).message)})`);
      }
    }
  }
  await fs.writeFile(resultsFile, `${lines.join("\n")}\n`);
}

// ---------------------------------------------------------------------------------

function parseOptions(): { selected: Set<string>; list: boolean } {
  const names = (value: string) => {
    const list = value.split(",").map((v) => v.trim()).filter(Boolean);
    const unknown = list.filter((n) => !BENCHES.some((b) => b.name === n));
    if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}; there are ${BENCHES.map((b) => b.name).join(", ")}`);
    return list;
  };
  const program = new Command()
    .name("npm run bench --")
    .description("Runs every benchmark, one after another, and writes bench/RESULTS.md and bench/plots/*.svg.")
    .option("--only <names>", "run only these benchmarks (comma-separated)", names)
    .option("--skip <names>", "run all but these (comma-separated)", names)
    .option("--list", "list the benchmarks and their commands, and run nothing", false);
  program.parse();
  const o = program.opts<{ only?: string[]; skip?: string[]; list: boolean }>();
  const selected = new Set(BENCHES.map((b) => b.name).filter((n) => (!o.only || o.only.includes(n)) && !o.skip?.includes(n)));
  return { selected, list: o.list };
}

async function main(): Promise<number> {
  const { selected, list } = parseOptions();
  if (list) {
    for (const b of BENCHES) console.log(`${b.name.padEnd(16)} ${fsSync.existsSync(path.join(projectRoot, b.args[0]!)) ? "" : "(not present) "}npx tsx ${b.args.join(" ")}   [at most ${formatDuration(b.timeoutS)}${b.needsBuild ? ", after npm run build" : ""}]`);
    return 0;
  }
  const started = new Date();
  const info: SuiteInfo = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    commit: commitDescription(projectRoot),
    machine: machineDescription(),
    started,
    durationS: 0,
    loadAverage: os.loadavg().map((l) => l.toFixed(1)).join(", "),
  };
  console.log(`[suite] ${[...selected].join(", ")}; ${info.commit}; ${info.machine}; load average ${info.loadAverage}`);

  const runs: BenchRun[] = [];
  let built: boolean | undefined;
  for (const entry of BENCHES) {
    if (!selected.has(entry.name)) {
      runs.push(await earlierRun(entry));
      continue;
    }
    if (entry.needsBuild && fsSync.existsSync(path.join(projectRoot, entry.args[0]!))) {
      if (built === undefined) {
        console.log("\n[suite] npm run build (the typing and long-document benchmarks serve the built renderer)");
        const npm = process.platform === "win32" ? "npm.cmd" : "npm";
        const r = await runBounded("build", npm, ["run", "build"], BUILD_TIMEOUT_S, path.join(logDir, "build.log"));
        built = r.exitCode === 0;
        info.build = { status: built ? "ok" : r.timedOut ? "timed out" : "failed", wallS: r.wallS };
      }
      if (!built) {
        runs.push({ entry, status: "not run: build failed", exitCode: null, signal: null, wallS: 0 });
        continue;
      }
    }
    runs.push(await runBench(entry));
    if (interrupted) {
      console.error("[suite] interrupted: no RESULTS.md written");
      return 130;
    }
  }
  info.durationS = (Date.now() - started.getTime()) / 1000;
  await writeResults(info, runs);
  console.log(`\n[suite] ${formatDuration(info.durationS)} in all; wrote ${path.relative(process.cwd(), resultsFile)} and ${path.relative(process.cwd(), plotDir)}/`);
  for (const run of runs) console.log(`  ${run.entry.name.padEnd(16)} ${run.status.padEnd(12)} ${run.wallS > 0 ? formatDuration(run.wallS).padStart(10) : "".padStart(10)}  ${targetsOf(run).replace(/\*/g, "")}`);
  return runs.some((r) => r.status === "failed" || r.status === "timed out" || r.status === "not run: build failed") ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    if (current) {
      signalGroup(current.pid, "SIGTERM", false);
      setTimeout(() => {
        if (current) signalGroup(current.pid, "SIGKILL", true);
        process.exit(130);
      }, GRACE_MS).unref();
      console.error(`\n[suite] interrupted (${signal}); stopping the running benchmark`);
    } else process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[suite] ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
