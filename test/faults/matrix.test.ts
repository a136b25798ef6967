// The fault suite covers the whole matrix: every row of ../shared/FAILURE-MODES.md is in
// rows.ts, and every row in ROWS has at least one test here whose name starts with it and
// that runs (not `it.skip`, not `it.todo`). Rows whose tests are still owed are listed in
// OWED with their issue, and cannot also claim a test.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { OWED, ROWS } from "./rows";

const here = path.dirname(fileURLToPath(import.meta.url));
const matrix = path.resolve(here, "../../../shared/FAILURE-MODES.md");

/** Row IDs that have a test that runs: `it("F4: …"` (or `test(`), never `.skip`, `.todo`, `.skipIf`, nor one in a comment. */
export function testedRows(sources: string[]): Set<string> {
  const tested = new Set<string>();
  for (const source of sources) {
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const m of code.matchAll(/\b(?:it|test)\(\s*["'`]([FSP]\d+):/g)) tested.add(m[1]!);
  }
  return tested;
}

describe("the failure-mode matrix", () => {
  it("lists every row of FAILURE-MODES.md", () => {
    // The team's copy sits beside the project; a clone elsewhere checks the rows rows.ts has.
    const ids = fs.existsSync(matrix)
      ? [...fs.readFileSync(matrix, "utf8").matchAll(/^\| ([FS]\d+) \|/gm)].map((m) => m[1]!)
      : Object.keys({ ...ROWS, ...OWED }).filter((id) => !id.startsWith("P"));
    expect(ids.length).toBeGreaterThanOrEqual(22);
    expect(ids.filter((id) => !(id in ROWS) && !(id in OWED))).toEqual([]);
  });

  it("has a test that runs for every row, and none for a row still owed", () => {
    const sources = fs
      .readdirSync(here)
      .filter((f) => f.endsWith(".test.ts") && f !== path.basename(fileURLToPath(import.meta.url)))
      .map((file) => fs.readFileSync(path.join(here, file), "utf8"));
    const tested = testedRows(sources);
    expect(Object.keys(ROWS).filter((id) => !tested.has(id))).toEqual([]);
    expect(Object.keys(OWED).filter((id) => tested.has(id))).toEqual([]);
    expect(Object.keys(OWED).filter((id) => id in ROWS)).toEqual([]);
  });

  it("does not count skipped or placeholder tests as covering a row", () => {
    expect([...testedRows([`it.skip("F1: x", () => {});`, `it.todo("F2: y");`, `it.skipIf(true)("F3: z", () => {});`, `// it("F4: w"`, `/* it("F5: v", () => {}) */`])]).toEqual([]);
    expect([...testedRows([`it("S1: a", async () => {});`, `test("P2: b", () => {});`])]).toEqual(["S1", "P2"]);
  });
});
