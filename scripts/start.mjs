// `npm start`: build and launch the desktop app, or say plainly why it cannot run here.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const electronDir = path.dirname(require.resolve("electron/package.json"));
const pathFile = path.join(electronDir, "path.txt");
const executable = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, "utf8").trim() : null;
// Same lookup as electron's own index.js, including its override for custom builds.
const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(electronDir, "dist");
const binary = executable ? path.join(distDir, executable) : null;

if (!binary || !fs.existsSync(binary)) {
  console.error(
    "The Electron binary is not installed on this machine (its download was skipped or blocked), so the desktop app cannot start; run `npm run web` to use Writer in your browser instead (or `npx install-electron` where downloads work).",
  );
  process.exit(1);
}
const build = spawnSync("npx", ["electron-vite", "build"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync("npx", ["electron-vite", "preview"], { stdio: "inherit" });
process.exit(run.status ?? 0);
