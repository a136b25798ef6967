/**
 * The built main process (out/main/index.js), loaded in plain Node with
 * `electron` replaced by a stand-in that records what the app asks for
 * (test/desktop/electron.mjs). The real binary cannot run here; this fails CI when the
 * wiring breaks: the window's options, the app:// protocol and its CSP, the IPC door and
 * who may use it, the menu, the writer:// scheme, and a clean quit.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generateAutomergeUrl } from "@automerge/automerge-repo";
import { projectRoot } from "./support/shell";

interface Report {
  windows: { options: { webPreferences: Record<string, unknown> }; url: string | null }[];
  ipcHandlers: string[];
  privilegedSchemes: { scheme: string; privileges: Record<string, boolean> }[];
  protocolHandlers: string[];
  menu: { label: string | null; role: string | null; submenu: unknown[] | null }[] | null;
  defaultProtocolClients: string[];
  singleInstanceLocks: number;
  errors: string[];
  probes: {
    page?: { status: number; csp: string | null; type: string | null; hasRoot: boolean };
    escape?: { status: number };
    wasm?: { status: number; type: string | null; magic: number[] }[];
    bootstrap?: { ok: boolean; hasLibrary: boolean; lastOpened: string | null };
    invalid?: { ok: boolean };
    stranger?: { ok: boolean; error?: { message: string } };
    sentToStranger?: number;
  };
  sent: { channel: string; command: string | null; name: string | null; bytes: number | null }[];
  exitCode: number | null;
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function runMain(packaged: boolean, args: string[] = []): Promise<Report & { output: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-main-"));
  dirs.push(dir);
  const reportFile = path.join(dir, "report.json");
  // The built page, not a development server's.
  const { ELECTRON_RENDERER_URL: _devServer, ...env } = process.env;
  const child = spawn(process.execPath, ["--import", "./test/desktop/register.mjs", "out/main/index.js", ...args], {
    cwd: projectRoot,
    // Updates off by the organisation's variable: electron-updater would load the real
    // electron package (by require, which the stand-in's hook does not see).
    env: { ...env, STAND_IN_USER_DATA: dir, STAND_IN_REPORT: reportFile, STAND_IN_PACKAGED: packaged ? "1" : "0", WRITER_UPDATES: "off" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const text = await fs.readFile(reportFile, "utf8").catch(() => null);
  if (text === null) throw new Error(`the main process wrote no report (exit ${code}):\n${output}`);
  return { ...(JSON.parse(text) as Report), output };
}

describe("the built main process, with a stand-in for Electron", () => {
  it("opens a locked-down window on app://writer/, serves it with the CSP, answers its own page only, and quits cleanly", async () => {
    const report = await runMain(false);
    expect(report.errors).toEqual([]);
    expect(report.singleInstanceLocks).toBe(1);
    expect(report.windows).toHaveLength(1);
    const [win] = report.windows;
    expect(win!.url).toBe("app://writer/index.html");
    expect(win!.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true });
    expect(String(win!.options.webPreferences.preload)).toMatch(/out[\\/]preload[\\/]index\.cjs$/);

    expect(report.privilegedSchemes).toEqual([{ scheme: "app", privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(report.protocolHandlers).toEqual(["app"]);
    expect(report.probes.page).toEqual({ status: 200, csp: expect.stringContaining("script-src 'self' 'wasm-unsafe-eval'"), type: "text/html; charset=utf-8", hasRoot: true });
    expect(report.probes.escape).toEqual({ status: 404 });
    // The one Automerge wasm the page fetches, served whole and as application/wasm.
    expect(report.probes.wasm).toEqual([{ status: 200, type: "application/wasm", magic: [0, 0x61, 0x73, 0x6d] }]);

    expect(report.ipcHandlers.sort()).toEqual(["writer:host", "writer:print-pdf"]);
    expect(report.probes.bootstrap).toEqual({ ok: true, hasLibrary: true, lastOpened: null });
    expect(report.probes.invalid?.ok).toBe(false);
    expect(report.probes.stranger).toMatchObject({ ok: false, error: { message: "Unknown sender" } });

    expect(report.menu?.map((m) => m.label)).toEqual(["&File", "&Edit", "&View", "&Window", "&Help"]);
    // A development build: the developer tools are in View; no scheme registered with the system.
    expect(JSON.stringify(report.menu)).toContain("toggleDevTools");
    expect(report.defaultProtocolClients).toEqual([]);
    expect(report.output).toContain("updates: a development build does not update itself");
    // Quit: the host closed (every change on disk), then the app exited 0.
    expect(report.exitCode).toBe(0);
  });

  it("hands a backup it was started with to the page once the page listens, and to nobody else", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-backup-"));
    dirs.push(dir);
    const backup = path.join(dir, "Harbour log.automerge");
    await fs.writeFile(backup, new Uint8Array([1, 2, 3, 4]));
    const report = await runMain(false, [backup]);
    expect(report.errors).toEqual([]);
    expect(report.probes.sentToStranger).toBe(0);
    expect(report.sent).toEqual([{ channel: "writer:command", command: "open-file", name: "Harbour log.automerge", bytes: 4 }]);
  });

  it("opens the document a writer:// link it was started with names, and refuses a bad one in words", async () => {
    const url = generateAutomergeUrl();
    const opened = await runMain(false, [`writer://open/${url}`]);
    expect(opened.errors).toEqual([]);
    // The window reopens it: it is the last opened document when the page asks.
    expect(opened.probes.bootstrap).toMatchObject({ ok: true, lastOpened: url });
    const refused = await runMain(false, ["writer://open/automerge:notarealid"]);
    expect(refused.errors).toEqual([expect.stringMatching(/^Writer cannot open this link: .*not a document ID/)]);
    expect(refused.probes.bootstrap).toMatchObject({ ok: true, lastOpened: null });
  });

  it("registers writer:// with the system and leaves the developer tools out when packaged", async () => {
    const report = await runMain(true);
    expect(report.errors).toEqual([]);
    expect(report.defaultProtocolClients).toEqual(["writer"]);
    expect(report.output).toContain("updates: turned off by WRITER_UPDATES=off");
    expect(JSON.stringify(report.menu)).not.toContain("toggleDevTools");
    expect(report.exitCode).toBe(0);
  });
});
