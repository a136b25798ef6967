// Prints the fault suite as a table a self-hoster can read: one line per row of
// ../shared/FAILURE-MODES.md, its fault, the outcome, and the time its tests took.
// Rows without a test are listed as "NO TEST", and rows whose tests are still owed as
// "OWED" with their issue, so that a missing row cannot hide.
//
// With FAULTS_RESULTS=path, the run's results per row are written there as JSON instead
// of printed: `npm test` runs the suite in parts, and prints one table from all of them
// (scripts/test.ts). With FAULTS_REPORT=path, the table is also written there as Markdown.
import fs from "node:fs";
import type { Reporter, TestModule } from "vitest/node";
import { OWED, ROWS, rowOf } from "./rows";

export interface RowResult {
  tests: number;
  failed: string[];
  skipped: number;
  ms: number;
}

/** Each row's tests in `modules`, with their outcome and time. */
export function collectRows(modules: ReadonlyArray<TestModule>): Record<string, RowResult> {
  const results: Record<string, RowResult> = {};
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      const row = rowOf(test.name);
      if (!row) continue;
      const r = (results[row] ??= { tests: 0, failed: [], skipped: 0, ms: 0 });
      const state = test.result().state;
      r.tests++;
      if (state === "failed") r.failed.push(test.name);
      if (state === "skipped" || state === "pending") r.skipped++;
      r.ms += test.diagnostic()?.duration ?? 0;
    }
  }
  return results;
}

/** Adds up results of several runs of the suite (each a part of it). */
export function mergeRows(parts: Record<string, RowResult>[]): Record<string, RowResult> {
  const merged: Record<string, RowResult> = {};
  for (const part of parts) {
    for (const [row, r] of Object.entries(part)) {
      const m = (merged[row] ??= { tests: 0, failed: [], skipped: 0, ms: 0 });
      m.tests += r.tests;
      m.failed.push(...r.failed);
      m.skipped += r.skipped;
      m.ms += r.ms;
    }
  }
  return merged;
}

/** The table, as aligned text and as Markdown. */
export function renderTable(results: Record<string, RowResult>): { text: string; markdown: string } {
  const lines: string[][] = [];
  for (const [id, row] of Object.entries(ROWS)) {
    const r = results[id];
    let outcome: string;
    if (!r) outcome = "NO TEST";
    else if (r.failed.length > 0) outcome = `FAILED (${r.failed.length} of ${r.tests})`;
    else if (r.skipped === r.tests) outcome = "not run";
    else outcome = `ok: ${row.promise}`;
    lines.push([id, row.fault, outcome, r && r.skipped < r.tests ? `${(r.ms / 1000).toFixed(1)} s` : "-"]);
  }
  for (const [id, row] of Object.entries(OWED)) lines.push([id, row.fault, `OWED: no test yet (${row.issue})`, "-"]);
  const header = ["row", "fault", "outcome", "time"];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const format = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const text = `${format(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${lines.map(format).join("\n")}`;
  const markdown = [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...lines.map((l) => `| ${l.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`),
  ].join("\n");
  return { text, markdown };
}

export default class FaultTableReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const results = collectRows(modules);
    // Only when this run touched the fault suite at all.
    if (Object.keys(results).length === 0) return;
    const parts = process.env.FAULTS_RESULTS;
    if (parts) {
      fs.writeFileSync(parts, JSON.stringify(results));
      return;
    }
    const { text, markdown } = renderTable(results);
    console.log(`\n${text}\n`);
    if (process.env.FAULTS_REPORT) fs.writeFileSync(process.env.FAULTS_REPORT, `${markdown}\n`);
  }
}
