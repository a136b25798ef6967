import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";
import { describe, expect, it } from "vitest";
import { RetryingStorage, type SaveFailure } from "../../src/node/storage";

/** An in-memory disk that can be made to refuse every write (full, read-only). */
class FlakyDisk implements StorageAdapterInterface {
  readonly files = new Map<string, Uint8Array>();
  failing = false;

  #check(): void {
    if (this.failing) throw Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS" });
  }
  async load(key: StorageKey) {
    return this.files.get(key.join("/"));
  }
  async save(key: StorageKey, data: Uint8Array) {
    this.#check();
    this.files.set(key.join("/"), data);
  }
  async remove(key: StorageKey) {
    this.#check();
    this.files.delete(key.join("/"));
  }
  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    return [...this.files].filter(([k]) => k.startsWith(prefix.join("/"))).map(([k, data]) => ({ key: k.split("/"), data }));
  }
  async removeRange(prefix: StorageKey) {
    this.#check();
    for (const k of [...this.files.keys()]) if (k.startsWith(prefix.join("/"))) this.files.delete(k);
  }
}

const bytes = (n: number) => new Uint8Array([n]);

function setup() {
  const disk = new FlakyDisk();
  const failures: SaveFailure[] = [];
  // Retries only when the test says so (retryNow): a long automatic delay.
  const storage = new RetryingStorage(disk, { onSaveFailed: (f) => failures.push(f), retryDelayMs: 60_000 });
  return { disk, storage, failures };
}

describe("RetryingStorage on a failing disk", () => {
  it("holds back a compaction's removals until its snapshot is on disk: the old chunks stay the copy on disk", async () => {
    const { disk, storage } = setup();
    await storage.save(["doc", "incremental", "a"], bytes(1));
    disk.failing = true;
    // automerge-repo compacts: the snapshot (fails, kept in memory), then removes what it replaces.
    await storage.save(["doc", "snapshot", "s"], bytes(2));
    disk.failing = false;
    await storage.remove(["doc", "incremental", "a"]);
    expect(disk.files.has("doc/incremental/a")).toBe(true);
    expect(await storage.retryNow()).toBe(true);
    expect([...disk.files.keys()]).toEqual(["doc/snapshot/s"]);
    storage.close();
  });

  it("retries a removal the disk refuses instead of throwing it at automerge-repo", async () => {
    const { disk, storage, failures } = setup();
    await storage.save(["doc", "incremental", "a"], bytes(1));
    await storage.save(["doc", "snapshot", "s"], bytes(2));
    disk.failing = true;
    await expect(storage.remove(["doc", "incremental", "a"])).resolves.toBeUndefined();
    await expect(storage.removeRange(["other"])).resolves.toBeUndefined();
    expect(failures.map((f) => f.key)).toEqual([["doc", "incremental", "a"], ["other"]]);
    expect(await storage.retryNow()).toBe(false);
    disk.failing = false;
    expect(await storage.retryNow()).toBe(true);
    expect([...disk.files.keys()]).toEqual(["doc/snapshot/s"]);
    storage.close();
  });

  it("never lets a held-back removal delete what was saved under that key after it", async () => {
    const { disk, storage } = setup();
    await storage.save(["doc", "sync-state", "p"], bytes(1));
    disk.failing = true;
    await storage.save(["doc", "snapshot", "s"], bytes(2));
    await storage.remove(["doc", "sync-state", "p"]);
    disk.failing = false;
    await storage.save(["doc", "sync-state", "p"], bytes(3));
    expect(await storage.retryNow()).toBe(true);
    expect(disk.files.get("doc/sync-state/p")).toEqual(bytes(3));
    expect(disk.files.get("doc/snapshot/s")).toEqual(bytes(2));
    storage.close();
  });
});
