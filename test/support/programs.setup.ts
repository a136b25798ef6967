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
    packages: "external",
    logLevel: "warning",
  });
  process.env[PROGRAMS_ENV] = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
