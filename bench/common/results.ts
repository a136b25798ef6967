// What every benchmark hands to the suite (`npm run bench`, bench/suite.ts): a summary it
// writes beside its own results as `bench/<name>/results/summary.json`, read back to build
// bench/RESULTS.md and its plots. A benchmark keeps printing its own tables; this is the
// part the suite needs, in one shape for all of them.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";

/** One measured figure, beside its baseline measured in the same run where there is one. */
export interface Figure {
  /** What was measured, in words a reader of RESULTS.md understands ("2 typists, p99"). */
  name: string;
  value: number;
  /** "ms", "MB", "ms/keystroke", "bytes", "%", "count"… */
  unit: string;
  /** The same figure for the baseline, measured in the same run. */
  baseline?: { name: string; value: number };
  /** The target in words ("< 25 ms") and whether this run met it; absent when there is none. */
  target?: { text: string; met: boolean };
}

/** A series for a plot: named lines of (x, y) points. */
export interface Series {
  /** File name stem of the plot (bench/plots/<id>.svg). */
  id: string;
  title: string;
  x: { label: string; log?: boolean };
  y: { label: string; log?: boolean };
  /** "line" for y against x, "distribution" for latency samples (x = value, lines = groups). */
  kind: "line" | "distribution";
  lines: { name: string; points: [number, number][] }[];
}

export interface Summary {
  bench: string;
  /** The command that produced it, as typed from the project root. */
  command: string;
  commit: string;
  machine: string;
  date: string;
  durationS: number;
  figures: Figure[];
  series?: Series[];
  /** Anything a reader must know to read the figures (what the baseline is, caveats). */
  notes?: string[];
}

export function commitDescription(projectRoot: string): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: projectRoot, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "sync-server", "bench"], { cwd: projectRoot, encoding: "utf8" }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return "unknown (not a git checkout)";
  }
}

export function machineDescription(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/**
 * Writes `summary` to bench/<bench>/results/summary.json and returns the path. The suite
 * names another file in BENCH_SUMMARY_FILE, so that a run of the same benchmark started
 * by hand meanwhile cannot hand it its summary.
 */
export async function writeSummary(benchDir: string, summary: Summary): Promise<string> {
  const file = process.env.BENCH_SUMMARY_FILE || path.join(benchDir, "results", "summary.json");
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(summary, null, 2)}\n`);
  return file;
}
