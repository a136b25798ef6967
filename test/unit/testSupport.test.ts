// The test projects run their files one after another in one process (vitest.config.ts,
// `isolate: false`): a support module is evaluated once, for the first file that imports
// it. A hook registered at its top level would serve that file alone, and the relays,
// mounts and directories of every later file would outlive them. Support modules
// register such cleanups with fileEnd.ts, which runs them after every file and test.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Modules that test files import, as opposed to test files (which run once per file). */
const supportModules = (dir: string): string[] =>
  fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).flatMap((name) => {
    const file = path.join(dir, name);
    return /\.(ts|mts)$/.test(name) && !name.endsWith(".test.ts") && !name.endsWith(".setup.ts") && fs.statSync(file).isFile() ? [file] : [];
  });

describe("test support modules", () => {
  it("register no vitest hook at their top level", () => {
    const dirs = ["test/support", "test/e2e/support", "test/e2e/pages", "test/faults/support"].map((d) => path.join(ROOT, d));
    const files = dirs.flatMap(supportModules);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.flatMap((file) =>
      fs
        .readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) => (/^(afterAll|afterEach|beforeAll|beforeEach)\(/.test(line) ? [`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offenders, "use afterEveryFile or afterEveryTest (test/support/fileEnd.ts)").toEqual([]);
  });
});
