// Prints the fault suite as a table a self-hoster can read: one line per row of
// ../shared/FAILURE-MODES.md, its fault, the outcome, and the time its tests took.
// Rows without a test are listed as "no test" so that a missing row cannot hide.
// With FAULTS_REPORT=path, the same table is also written there as Markdown.
import fs from "node:fs";
import type { Reporter, TestModule } from "vitest/node";
import { ROWS, rowOf } from "./rows";

interface RowResult {
  tests: number;
  failed: string[];
  skipped: number;
  ms: number;
}

export default class FaultTableReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const results = new Map<string, RowResult>();
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const row = rowOf(test.name);
        if (!row) continue;
        const r = results.get(row) ?? { tests: 0, failed: [], skipped: 0, ms: 0 };
        const state = test.result().state;
        r.tests++;
        if (state === "failed") r.failed.push(test.name);
        if (state === "skipped" || state === "pending") r.skipped++;
        r.ms += test.diagnostic()?.duration ?? 0;
        results.set(row, r);
      }
    }
    const lines: string[][] = [];
    for (const [id, row] of Object.entries(ROWS)) {
      const r = results.get(id);
      let outcome: string;
      if (!r) outcome = "NO TEST";
      else if (r.failed.length > 0) outcome = `FAILED (${r.failed.length} of ${r.tests})`;
      else if (r.skipped === r.tests) outcome = "not run";
      else outcome = `ok: ${row.promise}`;
      lines.push([id, row.fault, outcome, r && r.skipped < r.tests ? `${(r.ms / 1000).toFixed(1)} s` : "-"]);
    }
    // Only print the table when this run touched the fault suite at all.
    if (results.size === 0) return;
    const header = ["row", "fault", "outcome", "time"];
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
    const format = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
    console.log(`\n${format(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}\n${lines.map(format).join("\n")}\n`);
    const target = process.env.FAULTS_REPORT;
    if (target) {
      const md = [
        `| ${header.join(" | ")} |`,
        `|${header.map(() => "---").join("|")}|`,
        ...lines.map((l) => `| ${l.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`),
      ].join("\n");
      fs.writeFileSync(target, `${md}\n`);
    }
  }
}
