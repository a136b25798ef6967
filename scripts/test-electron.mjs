// `npm run test:electron`: the desktop app itself, driven by Playwright's Electron support
// through the same page objects as the browser tests (test/electron). Where the Electron
// binary is not installed (its download is blocked on some machines) it says so and skips.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const electronDir = path.dirname(require.resolve("electron/package.json"));
const pathFile = path.join(electronDir, "path.txt");
const names = { darwin: "Electron.app/Contents/MacOS/Electron", win32: "electron.exe" };
// The same lookup as electron's own index.js, with its override for a build from elsewhere.
const executable = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, "utf8").trim() : (names[process.platform] ?? "electron");
const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(electronDir, "dist");
const binary = path.join(distDir, executable);

if (!fs.existsSync(binary)) {
  console.log(`test:electron skipped: no Electron binary at ${binary}. Install one (npx install-electron, where downloads work) or point ELECTRON_OVERRIDE_DIST_PATH at an Electron build.`);
  process.exit(0);
}
const build = spawnSync("npx", ["electron-vite", "build"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync("npx", ["vitest", "run", "--project", "electron"], { stdio: "inherit", env: { ...process.env, WRITER_ELECTRON_BINARY: binary } });
process.exit(run.status ?? 1);
