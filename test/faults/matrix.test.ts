// The fault suite covers the whole matrix: every row of ../shared/FAILURE-MODES.md is in
// rows.ts, and every row in rows.ts has at least one test here whose name starts with it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ROWS } from "./rows";

const here = path.dirname(fileURLToPath(import.meta.url));
const matrix = path.resolve(here, "../../../shared/FAILURE-MODES.md");

describe("the failure-mode matrix", () => {
  it("lists every row of FAILURE-MODES.md", () => {
    // The team's copy sits beside the project; a clone elsewhere checks the 22 rows it had.
    const ids = fs.existsSync(matrix)
      ? [...fs.readFileSync(matrix, "utf8").matchAll(/^\| ([FS]\d+) \|/gm)].map((m) => m[1]!)
      : [...Array.from({ length: 12 }, (_, i) => `F${i + 1}`), ...Array.from({ length: 10 }, (_, i) => `S${i + 1}`)];
    expect(ids.length).toBeGreaterThanOrEqual(22);
    expect(ids.filter((id) => !(id in ROWS))).toEqual([]);
  });

  it("has a test for every row", () => {
    const tested = new Set<string>();
    for (const file of fs.readdirSync(here).filter((f) => f.endsWith(".test.ts"))) {
      const source = fs.readFileSync(path.join(here, file), "utf8");
      for (const m of source.matchAll(/\bit(?:\.\w+)?\(\s*["'`]([FSP]\d+):/g)) tested.add(m[1]!);
    }
    expect(Object.keys(ROWS).filter((id) => !tested.has(id))).toEqual([]);
  });
});
