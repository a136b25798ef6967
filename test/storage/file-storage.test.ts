import { Repo } from "@automerge/automerge-repo";
import { spawn, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  DirectoryLockedError,
  FileStorageAdapter,
  InvalidStorageKeyError,
  StorageWriteError,
  type CorruptionReport,
} from "../../src/node/storage";
import { build } from "esbuild";
import { runStorageAcceptanceTests } from "./acceptance";
import { eventually } from "../support/wait";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = fileURLToPath(new URL("./fixtures/open-storage.ts", import.meta.url));
const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const PERMISSION_FIXTURE = fileURLToPath(new URL("./fixtures/permission-denied.ts", import.meta.url));

runStorageAcceptanceTests("FileStorageAdapter", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-storage-"));
  const adapter = await FileStorageAdapter.open(dir);
  return {
    adapter,
    teardown: async () => {
      await adapter.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
});

describe("FileStorageAdapter on disk", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function tempDir(): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-storage-"));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async function open(dir: string, onCorrupt?: (report: CorruptionReport) => void): Promise<FileStorageAdapter> {
    const adapter = await FileStorageAdapter.open(dir, { onCorrupt });
    cleanups.push(() => adapter.close());
    return adapter;
  }

  it("writes a checked header in front of the payload", async () => {
    const dir = await tempDir();
    const adapter = await open(dir);
    await adapter.save(["AAAAA", "snapshot", "h1"], Uint8Array.from([7, 8, 9]));
    const file = await readFileNamed(dir, "h1.chunk");
    expect(file.subarray(0, 4).toString("ascii")).toBe("WRT1");
    expect(file.readUInt32BE(4)).toBe(3);
    expect([...file.subarray(-3)]).toEqual([7, 8, 9]);
  });

  describe("corrupt chunks (F8)", () => {
    interface Draft {
      seed: string;
      notes: string[];
    }

    /**
     * Writes a document as one snapshot and three incremental chunks, one per note, and
     * returns the chunk holding the last note. The seed text keeps the snapshot above
     * automerge-repo's 1 KB compaction threshold, so the notes stay incremental.
     */
    async function writeDocument(dir: string) {
      const adapter = await FileStorageAdapter.open(dir);
      const repo = new Repo({ storage: adapter, network: [], saveDebounceRate: 5 });
      const handle = repo.create<Draft>({ seed: randomBytes(3000).toString("base64"), notes: [] });
      await repo.flush();
      // The document's own chunks: the Repo also writes its storage ID, whenever it gets
      // to it (on a busy machine, in the middle of the notes below).
      const chunkFilesOfDocument = async () => (await chunkFiles(dir)).filter((file) => file.includes(handle.documentId));
      let before = await chunkFilesOfDocument();
      let lastChunk = "";
      for (const note of ["one", "two", "three"]) {
        handle.change((draft) => {
          draft.notes.push(note);
        });
        // The Repo's own (5 ms debounced) save writes the change first, so flush() races nothing.
        await eventually(async () => (await chunkFilesOfDocument()).some((file) => !before.includes(file)), 5000, 5);
        await repo.flush();
        const after = await chunkFilesOfDocument();
        const added = after.filter((file) => !before.includes(file));
        expect(added).toHaveLength(1);
        lastChunk = added[0] ?? "";
        before = after;
      }
      await repo.shutdown();
      await adapter.close();
      expect(before.filter((file) => file.includes("/incremental/"))).toHaveLength(3);
      expect(before.filter((file) => file.includes("/snapshot/"))).toHaveLength(1);
      return { documentId: handle.documentId, url: handle.url, lastChunk: path.join(dir, lastChunk) };
    }

    it.each([
      ["truncated in the middle", (file: Buffer) => file.subarray(0, Math.floor(file.length / 2))],
      ["overwritten with garbage", (file: Buffer) => randomBytes(file.length)],
      ["emptied to zero bytes", () => Buffer.alloc(0)],
    ])("quarantines a chunk %s, reports it, and the document loads from the good chunks", async (_label, damage) => {
      const dir = await tempDir();
      const { documentId, url, lastChunk } = await writeDocument(dir);
      const damaged = damage(await fs.readFile(lastChunk));
      await fs.writeFile(lastChunk, damaged);

      const reports: CorruptionReport[] = [];
      const adapter = await open(dir, (report) => reports.push(report));
      const repo = new Repo({ storage: adapter, network: [] });
      const handle = await repo.find<Draft>(url);
      expect(handle.doc().notes).toEqual(["one", "two"]);
      await repo.shutdown();

      expect(reports).toHaveLength(1);
      const [report] = reports;
      expect(report).toMatchObject({ documentId, path: lastChunk, key: [documentId, "incremental", expect.any(String)] });
      expect(report?.reason).toBeTruthy();
      expect(adapter.corruptions).toEqual(reports);
      // Moved into quarantine/, byte for byte; never left in place, never deleted.
      await expect(fs.access(lastChunk)).rejects.toThrow();
      expect(path.dirname(report?.quarantinedTo ?? "")).toBe(path.join(dir, "quarantine"));
      expect(await fs.readFile(report?.quarantinedTo ?? "")).toEqual(damaged);

      // The good chunks still load, and the bad one is not met again.
      expect(await adapter.loadRange([documentId])).toHaveLength(3);
      expect(reports).toHaveLength(1);
      // Removal and compaction never reach the quarantine.
      await adapter.removeRange([documentId]);
      await adapter.removeRange([]);
      expect(await fs.readdir(path.join(dir, "quarantine"))).toEqual([path.basename(report?.quarantinedTo ?? "")]);
    });

    it.each([
      ["a flipped payload bit", (file: Buffer) => flipByte(file, file.length - 1), /checksum/],
      ["a wrong length field", (file: Buffer) => flipByte(file, 7), /length/],
      ["bad magic bytes", (file: Buffer) => flipByte(file, 0), /magic/],
      ["trailing bytes", (file: Buffer) => Buffer.concat([file, Buffer.from([0])]), /length/],
    ])("refuses a single chunk with %s", async (_label, damage, reason) => {
      const dir = await tempDir();
      const reports: CorruptionReport[] = [];
      const adapter = await open(dir, (report) => reports.push(report));
      const key = ["BBBBB", "sync-state", "peer"];
      await adapter.save(key, Uint8Array.from([1, 2, 3, 4]));
      const file = await pathOfFileNamed(dir, "peer.chunk");
      await fs.writeFile(file, damage(await fs.readFile(file)));

      expect(await adapter.load(key)).toBeUndefined();
      expect(reports).toEqual([
        { key, documentId: "BBBBB", path: file, quarantinedTo: expect.stringContaining("quarantine"), reason: expect.stringMatching(reason) },
      ]);
      expect(path.basename(reports[0]?.quarantinedTo ?? "")).toMatch(/-BB__BBBBB__sync-state__peer\.chunk$/);
    });
  });

  it("ignores temp files left by an interrupted write, and removes them on open", async () => {
    const dir = await tempDir();
    const adapter = await FileStorageAdapter.open(dir);
    await adapter.save(["AAAAA", "incremental", "h1"], Uint8Array.from([1]));
    const chunkDir = path.dirname(await pathOfFileNamed(dir, "h1.chunk"));
    await fs.writeFile(path.join(chunkDir, ".tmp-0123456789abcdef"), "half a chunk");
    await fs.writeFile(path.join(dir, ".tmp-fedcba9876543210"), randomBytes(100));

    expect(await adapter.loadRange(["AAAAA"])).toEqual([{ key: ["AAAAA", "incremental", "h1"], data: Uint8Array.from([1]) }]);
    expect(await adapter.loadRange([])).toHaveLength(1);
    expect(adapter.corruptions).toEqual([]);
    await adapter.close();

    await open(dir);
    expect((await listFiles(dir)).filter((file) => file.includes(".tmp-"))).toEqual([]);
  });

  it("leaves no temp file behind and keeps the last of concurrent saves", async () => {
    const dir = await tempDir();
    const adapter = await open(dir);
    const key = ["AAAAA", "snapshot", "race"];
    await Promise.all(Array.from({ length: 10 }, (_, i) => adapter.save(key, Uint8Array.from([i]))));
    expect(await adapter.load(key)).toEqual(Uint8Array.from([9]));
    expect((await listFiles(dir)).filter((file) => file.includes(".tmp-"))).toEqual([]);
  });

  it("never creates a file outside the data directory (S7)", async () => {
    const base = await tempDir();
    const data = path.join(base, "data");
    const sibling = path.join(base, "sibling");
    await fs.mkdir(sibling);
    const adapter = await open(data);
    const escapes = [
      ["..", "sibling", "x"],
      ["../sibling/x"],
      ["AAAAA", "..", "..", "..", "sibling", "x"],
      [path.join(sibling, "x")],
      ["..\\sibling\\x"],
      ["sibling/../../sibling/x"],
    ];
    for (const key of escapes) {
      await expect(adapter.save(key, Uint8Array.from([1]))).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(adapter.removeRange(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
    }
    expect(await fs.readdir(sibling)).toEqual([]);
    expect((await fs.readdir(base)).sort()).toEqual(["data", "sibling"]);
    expect(await listFiles(data)).toEqual(["LOCK"]);
    expect(await adapter.loadRange([])).toEqual([]);
  });

  describe("write errors (F9)", () => {
    // Tests run as root in CI containers, where chmod does not stop writes. These make
    // the error real for any user: a directory where the chunk file goes (EISDIR on
    // rename), a regular file where a directory goes (ENOTDIR on mkdir).
    it("surfaces a directory in the chunk's place as StorageWriteError (EISDIR)", async () => {
      const dir = await tempDir();
      const adapter = await open(dir);
      const key = ["AAAAA", "snapshot", "blocked"];
      await adapter.save(key, Uint8Array.from([1]));
      const file = await pathOfFileNamed(dir, "blocked.chunk");
      await fs.rm(file);
      await fs.mkdir(path.join(file, "inside"), { recursive: true });

      const error = await adapter.save(key, Uint8Array.from([2])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageWriteError);
      expect(error).toMatchObject({ name: "StorageWriteError", key, code: "EISDIR" });
      expect((error as StorageWriteError).cause).toBeInstanceOf(Error);
      expect((await fs.readdir(path.dirname(file))).filter((name) => name.startsWith(".tmp-"))).toEqual([]);
    });

    it("surfaces a file in a directory's place as StorageWriteError (ENOTDIR)", async () => {
      const dir = await tempDir();
      const adapter = await open(dir);
      await fs.writeFile(path.join(dir, "BB"), "not a directory");
      const key = ["BBBBB", "incremental", "h1"];
      await expect(adapter.save(key, Uint8Array.from([1]))).rejects.toMatchObject({ name: "StorageWriteError", key, code: "ENOTDIR" });
      // The rest of the directory still works.
      await adapter.save(["CCCCC", "incremental", "h1"], Uint8Array.from([1]));
      expect(await adapter.load(["CCCCC", "incremental", "h1"])).toEqual(Uint8Array.from([1]));
    });

    it("surfaces permission denied as StorageWriteError (EACCES)", async () => {
      // Root ignores permission bits, so as root the fixture runs as `nobody`.
      const dir = await tempDir();
      if (IS_ROOT) {
        await fs.chown(dir, NOBODY, NOBODY);
      }
      // Bundled into one file beside the data, so that `nobody` needs no access to the
      // checkout (CI may clone it under a directory only root can enter).
      const bundleDir = await tempDir();
      await fs.chmod(bundleDir, 0o755);
      const bundle = path.join(bundleDir, "permission-denied.mjs");
      await build({ entryPoints: [PERMISSION_FIXTURE], bundle: true, platform: "node", format: "esm", target: "node20", outfile: bundle, logLevel: "silent" });
      await fs.chmod(bundle, 0o644);
      const result = await runNode([bundle, dir], {
        cwd: bundleDir,
        ...(IS_ROOT ? { uid: NOBODY, gid: NOBODY, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: bundleDir } } : {}),
      });
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        save: { threw: true, isStorageWriteError: true, name: "StorageWriteError", code: "EACCES" },
        remove: { threw: true, isStorageWriteError: true, name: "StorageWriteError", code: "EACCES" },
        stillThere: true,
      });
    });
  });

  describe("single writer (F10)", () => {
    const lockedMessage = (dir: string, pid: number) =>
      `Another Writer process (pid ${pid}) is already using ${dir}. Close it first, or choose another data directory.`;

    it("refuses a second open in the same process, and allows it after close", async () => {
      const dir = await tempDir();
      const first = await FileStorageAdapter.open(dir);
      const error = await FileStorageAdapter.open(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DirectoryLockedError);
      expect(error).toMatchObject({ dir, pid: process.pid, message: lockedMessage(dir, process.pid) });
      await first.close();
      await expect(first.save(["AAAAA"], new Uint8Array(0))).rejects.toThrow(/closed/);
      await open(dir);
    });

    it("refuses a second process with a clear message", async () => {
      const dir = await tempDir();
      const adapter = await FileStorageAdapter.open(dir);
      const refused = await runFixture(dir, "once");
      expect(refused.code).toBe(3);
      expect(refused.stdout.trim()).toBe(lockedMessage(dir, process.pid));
      await adapter.close();
      const allowed = await runFixture(dir, "once");
      expect(allowed).toMatchObject({ code: 0, stdout: "opened\n" });
    });

    it("takes over at once from a process killed with SIGKILL (F7)", async () => {
      const dir = await tempDir();
      const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dir, "hold"], { cwd: PROJECT_ROOT });
      const exited = new Promise((resolve) => child.once("exit", resolve));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("opened")) resolve();
        });
        child.once("exit", () => reject(new Error("fixture exited before opening")));
      });
      await expect(FileStorageAdapter.open(dir)).rejects.toBeInstanceOf(DirectoryLockedError);
      child.kill("SIGKILL");
      await exited;
      await open(dir);
      expect(JSON.parse(await fs.readFile(path.join(dir, "LOCK"), "utf8"))).toMatchObject({ pid: process.pid });
    });

    it("takes over a lock whose process is gone", async () => {
      const dir = await tempDir();
      const deadPid = await pidOfExitedProcess();
      const lock = { pid: deadPid, hostname: os.hostname(), startedAt: new Date().toISOString() };
      await fs.writeFile(path.join(dir, "LOCK"), JSON.stringify(lock));
      await open(dir);
      expect(JSON.parse(await fs.readFile(path.join(dir, "LOCK"), "utf8"))).toMatchObject({ pid: process.pid });
    });

    it("takes over an unreadable lock", async () => {
      const dir = await tempDir();
      await fs.writeFile(path.join(dir, "LOCK"), "\0\0garbage");
      await open(dir);
      expect(JSON.parse(await fs.readFile(path.join(dir, "LOCK"), "utf8"))).toMatchObject({ pid: process.pid });
    });

    it.runIf(process.platform === "linux")("takes over a lock from before a reboot, though its pid is alive now", async () => {
      const dir = await tempDir();
      const lock = { pid: 1, hostname: os.hostname(), startedAt: "2020-01-01T00:00:00.000Z", bootId: "not-this-boot" };
      await fs.writeFile(path.join(dir, "LOCK"), JSON.stringify(lock));
      await open(dir);
      // Taken over: the lock now names this process, in this boot.
      const bootId = (await fs.readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
      expect(JSON.parse(await fs.readFile(path.join(dir, "LOCK"), "utf8"))).toMatchObject({ pid: process.pid, hostname: os.hostname(), bootId });
      // While pid 1 of this boot holding it is refused: the boot, not the pid, decided.
      const current = { ...lock, bootId };
      const other = await tempDir();
      await fs.writeFile(path.join(other, "LOCK"), JSON.stringify(current));
      await expect(FileStorageAdapter.open(other)).rejects.toBeInstanceOf(DirectoryLockedError);
    });

    it("refuses a lock held on another host, and says how to clear it", async () => {
      const dir = await tempDir();
      const lock = { pid: 4242, hostname: "other-laptop", startedAt: new Date().toISOString() };
      await fs.writeFile(path.join(dir, "LOCK"), JSON.stringify(lock));
      const error = await FileStorageAdapter.open(dir).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "DirectoryLockedError", pid: 4242, hostname: "other-laptop" });
      expect((error as Error).message).toContain(`delete ${dir}/LOCK`);
    });

    it("releases only its own lock on close", async () => {
      const dir = await tempDir();
      const adapter = await FileStorageAdapter.open(dir);
      await adapter.close();
      await expect(fs.access(path.join(dir, "LOCK"))).rejects.toThrow();

      const again = await FileStorageAdapter.open(dir);
      const other = JSON.stringify({ pid: 4242, hostname: "someone-else", startedAt: "" });
      await fs.writeFile(path.join(dir, "LOCK"), other);
      await again.close();
      expect(await fs.readFile(path.join(dir, "LOCK"), "utf8")).toBe(other);
    });
  });
});

/** Relative paths of the chunk files under `dir`, sorted. */
async function chunkFiles(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((file) => file.endsWith(".chunk") && !file.startsWith("quarantine/"));
}

/** Relative paths (with `/`) of every regular file under `dir`, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

async function pathOfFileNamed(dir: string, name: string): Promise<string> {
  const found = (await listFiles(dir)).filter((file) => file.endsWith(`/${name}`));
  expect(found).toHaveLength(1);
  return path.join(dir, found[0] ?? "");
}

async function readFileNamed(dir: string, name: string): Promise<Buffer> {
  return fs.readFile(await pathOfFileNamed(dir, name));
}

function flipByte(file: Buffer, index: number): Buffer {
  const copy = Buffer.from(file);
  copy[index] = (copy[index] ?? 0) ^ 0xff;
  return copy;
}

function runFixture(dir: string, mode: "once" | "hold"): Promise<NodeRun> {
  return runNode(["--import", "tsx", FIXTURE, dir, mode], { cwd: PROJECT_ROOT });
}

interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Node process to its end and collects what it printed. */
function runNode(args: string[], options: SpawnOptions): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The pid of a process that has exited, so no live process has it (barring reuse). */
function pidOfExitedProcess(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", ""]);
    child.once("error", reject);
    child.once("exit", () => (child.pid === undefined ? reject(new Error("no pid")) : resolve(child.pid)));
  });
}
