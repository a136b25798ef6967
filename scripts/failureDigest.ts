/**
 * A few lines that say what failed in a suite's output, for the very end of `npm test`:
 * a CI page or a terminal often keeps only the last screenful, where the full logs
 * printed above are cut off and the summary table names only the suite.
 *
 * From vitest's output: each failed test (its `FAIL` line), the error's first line, and
 * where it was thrown in a test file; errors outside tests ("Unhandled Errors") too.
 * From anything else (a check such as lint): its last lines.
 */

/** At most this many lines of digest per suite. */
const MAX_LINES = 24;

export function failureDigest(output: string): string[] {
  const lines = output.split("\n").map((l) => l.replace(/\s+$/, ""));
  const digest: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const failed = /^\s*FAIL\s/.test(line);
    const unhandled = /Unhandled (Errors?|Rejection)/.test(line) && /⎯/.test(line);
    if (!failed && !unhandled) continue;
    digest.push(failed ? line.trim().replace(/\s+/g, " ") : "Unhandled error (outside any test):");
    // The error's first line, then its first place in a test file (or any place).
    let errorLine: string | undefined;
    let firstLine: string | undefined;
    let place: string | undefined;
    let anyPlace: string | undefined;
    for (let j = i + 1; j < lines.length && j < i + 60; j++) {
      const next = lines[j]!;
      if (/^\s*FAIL\s/.test(next) || /^⎯+\[\d+\/\d+\]⎯/.test(next.trim())) break;
      const text = next.trim();
      if (text !== "" && !/^❯/.test(text) && !/^⎯/.test(text)) {
        // The error itself, rather than vitest's words about it ("Vitest caught 1 unhandled error…").
        if (/^(\w*Error\b|Timed out|Test timed out)/.test(text)) errorLine ??= text;
        else if (!/^(Vitest caught|This error originated|The latest test)/.test(text)) firstLine ??= text;
      }
      if (/^\s*❯ /.test(next)) {
        anyPlace ??= next.trim();
        if (place === undefined && /\.test\.tsx?:\d+/.test(next)) place = next.trim();
      }
    }
    const message = errorLine ?? firstLine;
    if (message) digest.push(`  ${message.slice(0, 300)}`);
    const where = place ?? anyPlace;
    if (where) digest.push(`  ${where}`);
  }
  if (digest.length === 0) {
    // Not vitest's report (or one cut short): its last lines say what happened.
    const tail = lines.filter((l) => l.trim() !== "").slice(-10);
    return tail.map((l) => `  ${l.slice(0, 300)}`);
  }
  return digest.length > MAX_LINES ? [...digest.slice(0, MAX_LINES), `  … and more (${digest.length - MAX_LINES} lines): see the full output above`] : digest;
}
