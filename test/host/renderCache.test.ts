import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { next as A } from "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import { RenderCache } from "../../src/host/RenderCache";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

describe("RenderCache", () => {
  it("takes updates of one document at the same time (a window's read beside a load's rewrite): each lands whole, the last one called wins", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "render-cache-"));
    dirs.push(dataDir);
    const cache = new RenderCache(dataDir);
    const documentId = "4NMNnkMhL8jXrdJ9jamS2z3hcMJX";
    let doc = A.change(A.init<WriterDocument>(), (d) => initDocument(d, "Moby-Dick", 0));
    const versions: WriterDocument[] = [];
    for (const words of ["Call me Ishmael. ", "Some years ago, ", "never mind how long precisely, "]) {
      doc = A.change(doc, (d) => A.splice(d, TEXT_PATH, 0, 0, words));
      versions.push(doc);
    }
    // Each update of the same document at once, several rounds: they wrote one temporary
    // file between them, so one rename found it gone (ENOENT) or moved another's half-written file.
    for (let round = 0; round < 5; round++) {
      await Promise.all(versions.map((v) => cache.update(documentId, v)));
      const view = await cache.read(documentId);
      expect(view?.heads).toEqual(A.getHeads(versions.at(-1)!));
    }
    expect((await fs.readdir(path.join(dataDir, "render-cache"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
