/**
 * vitest's globalSetup for the suites that start processes: bundles the programs tests
 * start (programs.ts) from the current sources, once per test run, and names the bundle
 * directory in the environment that test files and their processes inherit. Removed
 * after the run.
 */
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { PROGRAMS, PROGRAMS_ENV, PROJECT_ROOT } from "./programs";

export default async function setup(): Promise<() => void> {
  // Inside the project, so that the bundles' imports of packages resolve to its node_modules.
  const parent = path.join(PROJECT_ROOT, "node_modules", ".cache", "writer-test-programs");
  fs.mkdirSync(parent, { recursive: true });
  const dir = fs.mkdtempSync(path.join(parent, "run-"));
  // Another user's processes (F9's host runs as nobody) read it too.
  fs.chmodSync(dir, 0o755);
  await build({
    entryPoints: Object.values(PROGRAMS).map(({ source, bundle }) => ({ in: path.join(PROJECT_ROOT, source), out: bundle.replace(/\.mjs$/, "") })),
    outdir: dir,
    outExtension: { ".js": ".mjs" },
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
    logLevel: "warning",
  });
  process.env[PROGRAMS_ENV] = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
