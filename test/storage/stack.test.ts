// The one storage stack (src/node/storage/stack.ts) passes the storage acceptance suite at
// every layer: the back end alone, with RetryingStorage, and with the host's TrackedStorage
// on top. (The relay's RelayStorage is a policy on top, not a storage of its own: it never
// deletes, and keeps sync states only of documents it has; its tests say so.)
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { StorageAdapterInterface } from "@automerge/automerge-repo";
import { describe, expect, it } from "vitest";
import { DirectoryLockedError, StorageStack, TrackedStorage } from "../../src/node/storage";
import { runStorageAcceptanceTests } from "./acceptance";

async function onStack(top: (stack: StorageStack) => StorageAdapterInterface) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-stack-"));
  const stack = await StorageStack.open({ backend: { kind: "files", dir } });
  return {
    adapter: top(stack),
    teardown: async () => {
      await stack.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

runStorageAcceptanceTests("StorageStack: the back end", () => onStack((s) => s.backend));
runStorageAcceptanceTests("StorageStack: retrying", () => onStack((s) => s.retrying));
runStorageAcceptanceTests("StorageStack: the host's (tracked)", () => onStack((s) => new TrackedStorage(s.retrying)));

describe("StorageStack", () => {
  it("takes its directory's lock, and gives it back when closed", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-stack-"));
    try {
      const first = await StorageStack.open({ backend: { kind: "files", dir } });
      await expect(StorageStack.open({ backend: { kind: "files", dir } })).rejects.toBeInstanceOf(DirectoryLockedError);
      expect(await first.close()).toEqual([]);
      const again = await StorageStack.open({ backend: { kind: "files", dir } });
      await again.close();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
