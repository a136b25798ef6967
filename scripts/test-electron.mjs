// `npm run test:electron`: the desktop app itself, driven by Playwright's Electron support
// through the same page objects as the browser tests (test/electron). Where the Electron
// binary is not installed (its download is blocked on some machines) it says so and skips.
import { spawnSync } from "node:child_process";
import { electronBinary } from "./electronBinary.mjs";

const { binary, found } = electronBinary();
if (!found) {
  console.log(`test:electron skipped: no Electron binary at ${binary}. Install one (npx install-electron, where downloads work) or point ELECTRON_OVERRIDE_DIST_PATH at an Electron build.`);
  process.exit(0);
}
const build = spawnSync("npx", ["electron-vite", "build"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync("npx", ["vitest", "run", "--project", "electron"], { stdio: "inherit", env: { ...process.env, WRITER_ELECTRON_BINARY: binary } });
process.exit(run.status ?? 1);
