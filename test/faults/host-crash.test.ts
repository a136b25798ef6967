// The desktop host dies or is started twice: F7 (SIGKILL while the writer types) and
// F10 (a second instance on the same data directory).
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { HostStatus } from "../../src/shared/api";
import { inspectStorage } from "../support/dataDir";
import { HostProcess, useHosts } from "../support/host";
import { PROJECT_ROOT, tempDir } from "../support/relay";
import { programArgs } from "../support/programs";
import { survivingWords, Typist } from "../support/typist";
import { pace } from "../support/wait";

const hosts = useHosts();

/**
 * Host.open's default save debounce (the host as the desktop starts it) plus what one
 * atomic write (temp file, fsync, rename, directory fsync) may take on a loaded CI
 * machine. A word acknowledged this long before the kill must be on disk.
 */
const SAVE_DEBOUNCE_MS = 20;
const WRITE_ALLOWANCE_MS = 500;

describe("the host killed while the writer types", () => {
  it("F7: three SIGKILLs mid-typing: every word older than the save debounce survives, every chunk verifies", async () => {
    const dataDir = tempDir("host-f7-");
    let host = await hosts.start({ dataDir });
    const url = await host.createDocument("Killed mid-sentence");
    let base = "";
    const killDelays = [1600, 2300, 3100];
    for (const [round, delay] of killDelays.entries()) {
      const typist = new Typist(host, url, `r${round}`);
      // The "Saved" indicator's answer, asked as the renderer does while the writer types.
      let confirmed = 0;
      const confirming = (async () => {
        while (!host.exited) {
          const n = typist.words.length;
          const heads = n > 0 ? (await host.read(url).catch(() => undefined))?.hashes : undefined;
          if (heads && (await host.call<{ saved: boolean }>("confirmSaved", { url, heads }).catch(() => ({ saved: false }))).saved) confirmed = Math.max(confirmed, n);
          await pace(150);
        }
      })();
      typist.start(5);
      // The writer types this long, a different while each round, before the kill.
      await pace(delay);
      const killedAt = Date.now();
      await host.kill();
      await typist.stop();
      await confirming;
      const due = typist.olderThan(killedAt, SAVE_DEBOUNCE_MS + WRITE_ALLOWANCE_MS);
      expect(due, "the writer typed for long enough to matter").toBeGreaterThan(20);

      const disk = inspectStorage(path.join(dataDir, "documents"));
      expect(disk.bad).toEqual([]);

      host = await hosts.start({ dataDir });
      const { text } = await host.read(url);
      const survived = survivingWords(text, base, typist.words);
      expect(survived, `round ${round}: ${survived} of ${typist.words.length} words survived, ${due} were due`).toBeGreaterThanOrEqual(due);
      expect(survived).toBeGreaterThanOrEqual(confirmed);
      base = text;

      // Nothing was found damaged: no problem reported, nothing quarantined, no temp file left.
      expect(await host.call<HostStatus>("status")).toEqual({ storageOk: true, problems: [] });
      const after = inspectStorage(path.join(dataDir, "documents"));
      expect(after).toMatchObject({ bad: [], quarantined: [], temp: [] });
    }
    // The library still lists the document, and a clean quit after all that works.
    const library = await host.call<{ libraryUrl: string }>("bootstrap");
    expect(library.libraryUrl).toMatch(/^automerge:/);
    expect(await host.stop()).toBe(0);
  });
});

describe("a second instance on the same data directory", () => {
  it("F10: is refused with a message naming the directory and the running instance; the first keeps working", async () => {
    const dataDir = tempDir("host-f10-");
    const first = await hosts.start({ dataDir });
    const url = await first.createDocument("Only one of us");
    await first.type(url, "written by the first instance");

    const refusal = await HostProcess.start({ dataDir }).then(
      () => "started",
      (error: Error) => error.message,
    );
    const documents = fs.realpathSync(path.join(dataDir, "documents"));
    expect(refusal).toContain(`Another Writer process (pid ${first.pid}) is already using ${documents}. Close it first, or choose another data directory.`);
    expect(refusal).toMatch(/DirectoryLockedError/);

    // The refused instance touched nothing: the lock is still the first one's, and the
    // first instance goes on typing and saving.
    expect(JSON.parse(fs.readFileSync(path.join(documents, "LOCK"), "utf8")).pid).toBe(first.pid);
    const { hashes } = await first.type(url, ", still");
    expect((await first.call<{ saved: boolean }>("confirmSaved", { url, heads: hashes })).saved).toBe(true);
    expect((await first.read(url)).text).toBe("written by the first instance, still");

    // The browser shell, started as a writer starts it, says the same, in one line, and exits 2.
    const shell = await runWebShell(dataDir);
    expect(shell.code).toBe(2);
    expect(shell.stderr.trim()).toBe(`Another Writer process (pid ${first.pid}) is already using ${documents}. Close it first, or choose another data directory.`);

    // Once the first instance is gone (even by SIGKILL, leaving its lock behind), the
    // directory opens again at once: a stale lock does not lock the writer out.
    await first.kill();
    expect(fs.existsSync(path.join(documents, "LOCK"))).toBe(true);
    const second = await hosts.start({ dataDir });
    expect((await second.read(url)).text).toBe("written by the first instance, still");
  });
});

/** `npm run web -- --data DIR` without the build step: its exit code and stderr. */
function runWebShell(dataDir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [...programArgs("web"), "--data", dataDir, "--port", "0"], { cwd: PROJECT_ROOT, timeout: 60_000 }, (_error, _stdout, stderr) =>
      resolve({ code: child.exitCode, stderr }),
    );
  });
}
