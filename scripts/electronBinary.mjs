// Where the Electron binary is, as electron's own index.js finds it (path.txt, or the
// platform's name when the install never wrote one), with its override for a build from
// elsewhere (ELECTRON_OVERRIDE_DIST_PATH); null when it is not there. Without asking
// electron itself, which downloads the binary on first use.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);
const names = { darwin: "Electron.app/Contents/MacOS/Electron", win32: "electron.exe" };

/** The binary's path, and whether it exists. */
export function electronBinary() {
  const electronDir = path.dirname(require.resolve("electron/package.json"));
  const pathFile = path.join(electronDir, "path.txt");
  const executable = fs.existsSync(pathFile) ? fs.readFileSync(pathFile, "utf8").trim() : (names[process.platform] ?? "electron");
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || path.join(electronDir, "dist");
  const binary = path.join(distDir, executable);
  return { binary, found: fs.existsSync(binary) };
}
