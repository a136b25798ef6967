/**
 * How tests start the project's programs as processes: the relay's CLI, the browser
 * shell, and the host child that stands in for the desktop's main process.
 *
 * A test run bundles them once (programs.setup.ts, vitest's globalSetup), from the
 * sources as they are at that moment, into plain JavaScript that Node runs without a
 * TypeScript loader: a process then starts in about half the time and CPU, which the
 * suite pays hundreds of times (a crash soak alone starts 200 hosts). Pure-JavaScript
 * packages are bundled in with them (programs.setup.ts says which stay in node_modules);
 * the relay's published build (sync-server/dist) and the desktop build load every
 * package from node_modules, and are tested as they ship by their own tests. Where
 * nothing was bundled (a script of its own, a bench), the sources run through tsx.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The environment variable that names the run's bundle directory (set by programs.setup.ts). */
export const PROGRAMS_ENV = "WRITER_TEST_PROGRAMS";

/**
 * Each program: its source, and its file in the bundle. A program's worker threads are
 * bundled beside it under the names its code looks for (`new URL(…, import.meta.url)`).
 */
export const PROGRAMS = {
  relay: { source: "sync-server/cli.ts", bundle: "relay/cli.mjs" },
  relayWorker: { source: "sync-server/workers/worker.ts", bundle: "relay/workers/start.mjs" },
  web: { source: "src/host/web/cli.ts", bundle: "web/cli.mjs" },
  webWorker: { source: "src/host/workers/worker.ts", bundle: "web/workers/start.mjs" },
  hostChild: { source: "test/support/host-child.ts", bundle: "host/host-child.mjs" },
  hostWorker: { source: "src/host/workers/worker.ts", bundle: "host/workers/start.mjs" },
  hostCommands: { source: "test/faults/support/hostCommands.ts", bundle: "host/hostCommands.mjs" },
} as const;

export type ProgramName = keyof typeof PROGRAMS;

/**
 * V8 flags for the processes of a test run: vitest's workers (vitest.config.ts), the
 * programs they start (programArgs) and the tests' Chromium (e2e/support/browser.ts).
 *
 * Automerge is a 3.6 MB WebAssembly module. V8 first compiles it with its baseline
 * compiler, then compiles each function again with its optimising one (TurboFan) once
 * the function has run a while, in every process anew. A test run starts some 600
 * processes that live for seconds, and that recompiling was a fifth of the machine (30
 * s of `perf record -a` during `npm test`: 21 % of all samples in V8's TurboFan wasm
 * pipeline, 3 % with this); a 25-kill crash soak used 47 s of processor time with V8's
 * default and 25-27 s with this. A hundred times V8's budget (1,800,000) leaves only
 * the functions that run hot for long to be optimised: the trace replay, whose three
 * processes run Automerge for a minute, used 98 s with the default, 101 s with this,
 * and 159 s with no optimising at all.
 * What the code does is the same at either tier. The programs as they ship, and the
 * benchmarks, which measure them, keep V8's defaults: these apply under vitest only.
 */
export const TEST_V8_FLAGS = ["--wasm-tiering-budget=180000000"];
/** TEST_V8_FLAGS under vitest, none elsewhere (a benchmark). */
export const testV8Flags = (): string[] => (process.env.VITEST ? TEST_V8_FLAGS : []);

/**
 * For the programs tests start, also no optimising compiler for JavaScript (V8's
 * `--max-opt=1`: its interpreter and baseline code only). A relay, a host or a browser
 * shell in a test lives for seconds, and what TurboFan compiled for it was mostly
 * thrown away with the process. Machine time, runs with and without taking turns: the
 * integration suite 140 and 116 s with this against 149 and 130 s without; a 25-kill
 * crash soak 20.6 and 23.1 s against 24.4 and 23.6 s; the browser tests of comments
 * and history, their shells doing the most, 80.6 and 84.4 s against 80.2 and 95.7 s.
 * A program that computes for a minute needs the optimiser (the trace replay took 130 s
 * without it, 110 s with it): `longRunning` keeps V8's.
 */
const SHORT_LIVED_V8_FLAGS = ["--max-opt=1"];

/**
 * The node arguments that run `program` (then its own arguments follow). `longRunning`:
 * a program busy for long, which keeps V8's optimising compiler (SHORT_LIVED_V8_FLAGS).
 */
export function programArgs(program: "relay" | "web" | "hostChild", options: { longRunning?: boolean } = {}): string[] {
  const bundled = bundledFile(program);
  const flags = testV8Flags();
  return [
    ...flags,
    ...(flags.length > 0 && !options.longRunning ? SHORT_LIVED_V8_FLAGS : []),
    ...(bundled ? [bundled] : ["--import", "tsx", path.join(PROJECT_ROOT, PROGRAMS[program].source)]),
  ];
}

/**
 * The file to load for `program` (a bundle, or the source where nothing was bundled),
 * and whether it needs tsx. For modules a program imports by path, such as the host
 * child's test extension.
 */
export function programFile(program: ProgramName): { file: string; needsTsx: boolean } {
  const bundled = bundledFile(program);
  return bundled ? { file: bundled, needsTsx: false } : { file: path.join(PROJECT_ROOT, PROGRAMS[program].source), needsTsx: true };
}

function bundledFile(program: ProgramName): string | undefined {
  const dir = process.env[PROGRAMS_ENV];
  return dir ? path.join(dir, PROGRAMS[program].bundle) : undefined;
}
