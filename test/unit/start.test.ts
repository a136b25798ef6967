import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

describe("npm start without the Electron binary", () => {
  it("says so in one sentence and points to npm run web", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "writer-no-electron-"));
    try {
      const result = spawnSync(process.execPath, ["scripts/start.mjs"], {
        cwd: path.resolve(import.meta.dirname, "../.."),
        env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: empty },
        encoding: "utf8",
      });
      expect(result.status).toBe(1);
      const message = result.stderr.trim();
      expect(message.split("\n")).toHaveLength(1);
      expect(message).toMatch(/^The Electron binary is not installed on this machine .*; run `npm run web` to use Writer in your browser instead/);
      expect(result.stdout).toBe("");
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
