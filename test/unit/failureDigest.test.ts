// The digest printed at the very end of \`npm test\` (scripts/failureDigest.ts): what failed,
// in the few lines a CI page keeps.
import { describe, expect, it } from "vitest";
import { failureDigest } from "../../scripts/failureDigest";

/** vitest 4's report of a file with a failed assertion and a thrown error, as printed (colours removed). */
const VITEST_OUTPUT = "\n RUN  v4.1.12 /work/main\n\n ❯  unit  test/unit/sample.test.ts (3 tests | 2 failed) 13ms\n   ✓ passes 3ms\n   × fails an assertion 8ms\n   × throws 1ms\n\n⎯⎯⎯⎯⎯⎯⎯ Failed Tests 2 ⎯⎯⎯⎯⎯⎯⎯\n\n FAIL   unit  test/unit/sample.test.ts > fails an assertion\nAssertionError: expected { a: 1 } to deeply equal { a: 2 }\n\n- Expected\n+ Received\n\n  {\n-   \"a\": 2,\n+   \"a\": 1,\n  }\n\n ❯ test/unit/sample.test.ts:4:20\n      2| it(\"passes\", () => expect(1).toBe(1));\n      3| it(\"fails an assertion\", () => {\n      4|   expect({ a: 1 }).toEqual({ a: 2 });\n       |                    ^\n      5| });\n      6| it(\"throws\", async () => {\n\n⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/2]⎯\n\n FAIL   unit  test/unit/sample.test.ts > throws\nError: Document automerge:abc is unavailable\n ❯ test/unit/sample.test.ts:8:9\n      6| it(\"throws\", async () => {\n      7|   await Promise.resolve();\n      8|   throw new Error(\"Document automerge:abc is unavailable\");\n       |         ^\n      9| });\n     10|\n\n⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[2/2]⎯\n\n\n Test Files  1 failed (1)\n      Tests  2 failed | 1 passed (3)\n   Start at  12:00:00\n   Duration  373ms (transform 31ms, setup 0ms, import 48ms, tests 13ms, environment 0ms)\n\n";

describe("failureDigest", () => {
  it("names each failed test, its error and where in the test file it was thrown", () => {
    expect(failureDigest(VITEST_OUTPUT)).toEqual([
      "FAIL unit test/unit/sample.test.ts > fails an assertion",
      "  AssertionError: expected { a: 1 } to deeply equal { a: 2 }",
      "  ❯ test/unit/sample.test.ts:4:20",
      "FAIL unit test/unit/sample.test.ts > throws",
      "  Error: Document automerge:abc is unavailable",
      "  ❯ test/unit/sample.test.ts:8:9",
    ]);
  });

  it("prefers the test file's line to a helper's", () => {
    const output = [
      " FAIL   integration  test/integration/relay-eviction.test.ts > relay eviction > evicts idle documents",
      "Error: condition not met in 10000 ms",
      " ❯ eventually test/support/wait.ts:12:38",
      "     12|     if (Date.now() > deadline) throw new Error(`condition not met`);",
      " ❯ test/integration/relay-eviction.test.ts:17:5",
      "",
      "⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/1]⎯",
    ].join("\n");
    expect(failureDigest(output)).toEqual([
      "FAIL integration test/integration/relay-eviction.test.ts > relay eviction > evicts idle documents",
      "  Error: condition not met in 10000 ms",
      "  ❯ test/integration/relay-eviction.test.ts:17:5",
    ]);
  });

  it("reports errors outside any test", () => {
    const output = ["⎯⎯⎯⎯⎯⎯ Unhandled Errors ⎯⎯⎯⎯⎯⎯", "", "Vitest caught 1 unhandled error during the test run.", "Error: socket hang up", " ❯ test/e2e/support/fixture.ts:40:3"].join("\n");
    expect(failureDigest(output)).toEqual(["Unhandled error (outside any test):", "  Error: socket hang up", "  ❯ test/e2e/support/fixture.ts:40:3"]);
  });

  it("gives a check's last lines when it is not vitest's report", () => {
    const lint = ["", "/work/main/src/a.ts", "  1:8  error  'x' is defined but never used  @typescript-eslint/no-unused-vars", "", "✖ 1 problem (1 error, 0 warnings)", ""].join("\n");
    expect(failureDigest(lint)).toEqual(["  /work/main/src/a.ts", "    1:8  error  'x' is defined but never used  @typescript-eslint/no-unused-vars", "  ✖ 1 problem (1 error, 0 warnings)"]);
  });

  it("stays short however much failed", () => {
    const many = Array.from({ length: 40 }, (_, i) => ` FAIL   unit  test/unit/x.test.ts > case ${i}\nError: no\n ❯ test/unit/x.test.ts:${i + 1}:1`).join("\n");
    const digest = failureDigest(many);
    expect(digest).toHaveLength(25);
    expect(digest.at(-1)).toMatch(/and more \(96 lines\)/);
  });
});
