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

/** The node arguments that run `program` (then its own arguments follow). */
export function programArgs(program: "relay" | "web" | "hostChild"): string[] {
  const bundled = bundledFile(program);
  return bundled ? [bundled] : ["--import", "tsx", path.join(PROJECT_ROOT, PROGRAMS[program].source)];
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
