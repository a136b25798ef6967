// `npm start`: build and launch the desktop app, or say plainly why it cannot run here.
import { spawnSync } from "node:child_process";
import { electronBinary } from "./electronBinary.mjs";

if (!electronBinary().found) {
  console.error(
    "The Electron binary is not installed on this machine (its download was skipped or blocked), so the desktop app cannot start; run `npm run web` to use Writer in your browser instead (or `npx install-electron` where downloads work).",
  );
  process.exit(1);
}
const build = spawnSync("npx", ["electron-vite", "build"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync("npx", ["electron-vite", "preview"], { stdio: "inherit" });
process.exit(run.status ?? 0);
