import { defineConfig } from "vitest/config";
import { TEST_V8_FLAGS } from "./test/support/programs";

/** The suites that start processes bundle those programs once per run (test/support/programs.ts). */
const programs = ["test/support/programs.setup.ts"];
/** Support modules' cleanups after every file and test (test/support/fileEnd.ts), for files that share a process. */
const setupFiles = ["test/support/fileEnd.setup.ts"];
/**
 * Files of a project run one after another in one process, sharing its module graph:
 * each file no longer starts a process and imports vitest, Automerge (its 3.6 MB wasm
 * compiled anew), Playwright and the support modules again, about a second of processor
 * time per file. Every file leaves the process as it found it (real timers, relays,
 * hosts, browsers and Repos closed in its hooks; support modules' cleanups in
 * fileEnd.ts), which this relies on; a Repo's timer that outlives its file (a handle's
 * 60 s wait) ends without an unhandled rejection (patches/). The workers run with
 * the test run's V8 flags (TEST_V8_FLAGS, programs.ts says why).
 */
const shared = { isolate: false, setupFiles, execArgv: TEST_V8_FLAGS };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "test/storage/**/*.test.ts", "test/sync/**/*.test.ts", "test/host/**/*.test.ts", "test/renderer/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          // Alone on two cores the suite took 95 s and 80 s of processor time this way,
          // against 174 s and 156 s isolated.
          ...shared,
        },
      },
      {
        test: {
          // Real relay and host processes over loopback.
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: programs,
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Each file starts its own processes; two cores do not run two files well.
          fileParallelism: false,
          ...shared,
        },
      },
      {
        test: {
          name: "e2e",
          // The library list follows edits once a second; allow for it on a busy machine.
          expect: { poll: { timeout: 5000 } },
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: programs,
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One Chromium and one host at a time: this machine has two cores.
          fileParallelism: false,
          ...shared,
        },
      },
      {
        test: {
          // The desktop app itself, in a real Electron: npm run test:electron (it skips
          // where no binary is installed). Not part of npm test, for that reason.
          name: "electron",
          include: ["test/electron/**/*.test.ts"],
          setupFiles,
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // ../shared/FAILURE-MODES.md, one row per test name prefix (test/faults/rows.ts):
          // real relay and host processes, real faults. `npm run test:faults` prints the table.
          name: "faults",
          include: ["test/faults/**/*.test.ts"],
          globalSetup: programs,
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          ...shared,
        },
      },
    ],
  },
});
