/**
 * vitest's globalSetup for the suites that start processes: bundles the programs tests
 * start (programs.ts) from the current sources, once per test run, and names the bundle
 * directory in the environment that test files and their processes inherit. Removed
 * after the run. `npm test` calls it once before its suites, which then use that bundle.
 */
import fs from "node:fs";
import path from "node:path";
import { build, type BuildOptions } from "esbuild";
import { PROGRAMS, PROGRAMS_ENV, PROJECT_ROOT, type ProgramName } from "./programs";

export default async function setup(): Promise<() => void> {
  // Bundled already for this run by `npm test` (scripts/test.ts), once for all its suites.
  const given = process.env[PROGRAMS_ENV];
  if (given && fs.existsSync(given)) return () => undefined;
  // Inside the project, so that the bundles' imports of packages resolve to its node_modules.
  const parent = path.join(PROJECT_ROOT, "node_modules", ".cache", "writer-test-programs");
  fs.mkdirSync(parent, { recursive: true });
  const dir = fs.mkdtempSync(path.join(parent, "run-"));
  // Another user's processes (F9's host runs as nobody) read it too.
  fs.chmodSync(dir, 0o755);
  const options = {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Pure-JavaScript packages are bundled in: Node 20 has no compile cache for modules,
    // and finding, reading and compiling a few hundred files of node_modules was a
    // quarter of every start (a host's 0.72 s of processor time to 0.55 s, a relay's
    // 1.1 s to 0.85 s). Those that find files beside their own code at run time stay
    // out: Automerge (its wasm), pino (its transport threads), cbor-x (its optional
    // native extension), ws (its optional native helpers), and the clients a relay loads
    // only for a cluster (pg, NATS).
    external: ["@automerge/automerge", "pino", "pino-*", "thread-stream", "cbor-x", "ws", "pg", "@nats-io/*"],
    // Bundled CommonJS packages require Node's own modules: ESM has no `require` of its own.
    banner: { js: 'import { createRequire as __writerCreateRequire } from "node:module";\nconst require = __writerCreateRequire(import.meta.url);' },
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  } satisfies BuildOptions;
  const entries = (names: ProgramName[], base: string) =>
    names.map((name) => ({ in: path.join(PROJECT_ROOT, PROGRAMS[name].source), out: path.relative(base, PROGRAMS[name].bundle).replace(/\.mjs$/, "") }));
  const relayPrograms: ProgramName[] = ["relay", "relayWorker"];
  await Promise.all([
    // The relay's CLI loads the relay itself only to run it (cli.ts): split into chunks,
    // its token commands, which tests run for every token they make, load none of it.
    // The chunks sit beside cli.mjs, where the relay's code looks for workers/start.mjs.
    build({ ...options, entryPoints: entries(relayPrograms, "relay"), outdir: path.join(dir, "relay"), splitting: true, chunkNames: "chunk-[hash]" }),
    build({ ...options, entryPoints: entries((Object.keys(PROGRAMS) as ProgramName[]).filter((name) => !relayPrograms.includes(name)), "."), outdir: dir }),
  ]);
  process.env[PROGRAMS_ENV] = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
