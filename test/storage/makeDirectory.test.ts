/**
 * makeDirectory, which every data directory, chunk folder and settings file goes
 * through (host and relay): `mkdir -p` that says the real reason it cannot, and never
 * hangs where Node 20's recursive mkdir does (a path under /proc).
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDirectory } from "../../src/node/atomicFile";
import { Host } from "../../src/host/Host";

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), "make-directory-"));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Settles within `ms`, or rejects saying it hung (the old recursive mkdir under /proc). */
function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms))]);
}

describe("makeDirectory", () => {
  it("makes the missing levels with the mode given and answers the first one it made", async () => {
    const dir = path.join(root, "a", "b", "c");
    expect(await makeDirectory(dir, 0o700)).toBe(path.join(root, "a"));
    for (const level of ["a", "a/b", "a/b/c"]) expect((await fs.stat(path.join(root, level))).mode & 0o777).toBe(0o700);
    // There already: nothing made, nothing to answer.
    expect(await makeDirectory(dir)).toBeUndefined();
    expect(await makeDirectory(path.join(dir, "d"))).toBe(path.join(dir, "d"));
  });

  it("fails with the kernel's own reason: a file in the way, a file in the path", async () => {
    await fs.writeFile(path.join(root, "file"), "x");
    await expect(makeDirectory(path.join(root, "file"))).rejects.toMatchObject({ code: "EEXIST" });
    await expect(makeDirectory(path.join(root, "file", "below", "deeper"))).rejects.toMatchObject({ code: "ENOTDIR" });
  });

  it("many at once into one new folder all succeed", async () => {
    const dir = path.join(root, "shared", "chunks");
    const answers = await Promise.all(Array.from({ length: 20 }, () => makeDirectory(dir)));
    expect((await fs.stat(dir)).isDirectory()).toBe(true);
    expect(answers.filter((a) => a !== undefined).length).toBeGreaterThanOrEqual(1);
  });

  it("fails at once under /proc, where Node 20's recursive mkdir never settles", async () => {
    await expect(within(makeDirectory("/proc/writer-make-directory/x"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a desktop host given a data directory under /proc says it cannot, instead of hanging", async () => {
    await expect(within(Host.open({ dataDir: "/proc/writer-host-data", logger: pino({ level: "silent" }) }))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
