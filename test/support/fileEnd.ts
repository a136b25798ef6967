/**
 * Cleanups that support modules need after every test file, or after every test: relays
 * a file left running, temp directories, mounts, servers started for the file.
 *
 * The projects that start processes run their files one after another in one process
 * (vitest.config.ts, `isolate: false`), so a support module is evaluated once, for the
 * first file that imports it: an `afterAll` at its top level would serve that file only.
 * It registers here instead, once, and fileEnd.setup.ts (a setup file, run for every
 * test file) calls what is registered after each test and after each file. Outside
 * vitest (a benchmark importing a support module) nothing calls them; the modules'
 * own `exit` handlers stop what they started.
 */
type Cleanup = () => void | Promise<void>;

const afterFile: Cleanup[] = [];
const afterTest: Cleanup[] = [];

/** Runs `cleanup` after every test file (after the file's own afterAll hooks). */
export function afterEveryFile(cleanup: Cleanup): void {
  afterFile.push(cleanup);
}

/** Runs `cleanup` after every test (after the test's own afterEach hooks). */
export function afterEveryTest(cleanup: Cleanup): void {
  afterTest.push(cleanup);
}

/** Runs every cleanup, the last registered first, even when one throws; then throws the first error. */
async function runAll(cleanups: readonly Cleanup[]): Promise<void> {
  const errors: unknown[] = [];
  for (const cleanup of [...cleanups].reverse()) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
}

export const runAfterFile = () => runAll(afterFile);
export const runAfterTest = () => runAll(afterTest);
