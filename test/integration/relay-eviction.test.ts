// Idle documents leave the relay's memory (bounded however many pass through) and
// still sync afterwards, from disk.
import type { DocHandle } from "@automerge/automerge-repo";
import { describe, expect, it } from "vitest";
import { addToken, documentFiles, eventually, metric, startRelay, storedOnDisk, useRelays } from "../support/relay";

const { client, keep } = useRelays();

describe("relay eviction", () => {
  it("evicts idle documents, keeps memory bounded, and evicted documents still sync", async () => {
    const r = await startRelay({ args: ["--idle-evict-ms", "500"] });
    keep(r);
    const token = await addToken(r.dataDir, "alice");
    const writer = client(r.url, token);
    const follower = client(r.url, token);
    const handles = Array.from({ length: 40 }, (_, i) => writer.create<{ n: number }>({ n: i }));
    // All forty on the relay's disk. (Not "forty in memory at once": with --idle-evict-ms
    // 500 the first may already be idle, and evicted, before the last arrives.)
    await storedOnDisk(r.dataDir, handles.map((h) => h.documentId));
    const followed = await follower.find<{ n: number }>(handles[3]!.url);

    // Nobody touches them: they all leave memory. (Documents in workers count in memory as
    // of the workers' last report, up to a second old: "none in memory" alone may be read
    // before any was counted, so the evictions are waited for too.)
    await eventually(
      async () => (await metric(r.url, "relay_documents_evicted_total")) >= 40 && (await metric(r.url, "relay_documents_in_memory")) === 0,
      15_000,
      200,
    );
    const evictedOnce = await metric(r.url, "relay_documents_evicted_total");
    expect(evictedOnce).toBeGreaterThanOrEqual(40);

    // An evicted document takes a change, which reaches a fresh reader and the follower.
    handles[3]!.change((d) => (d.n = 333));
    const reader = client(r.url, token);
    const seen = await eventually(() => reader.find<{ n: number }>(handles[3]!.url), 10_000, 250);
    await eventually(() => seen.doc().n === 333, 10_000);
    await eventually(() => followed.doc().n === 333, 10_000);

    // Evicted again, and still there from disk for a newcomer.
    await eventually(async () => (await metric(r.url, "relay_documents_evicted_total")) > evictedOnce && (await metric(r.url, "relay_documents_in_memory")) === 0, 10_000, 200);
    const late = client(r.url, token);
    for (const i of [0, 3, 39]) {
      const found = await eventually(() => late.find<{ n: number }>(handles[i]!.url), 10_000, 250);
      expect(found.doc().n).toBe(i === 3 ? 333 : i);
    }
    // Unloading a handle must never compact an empty document over the real one.
    await r.stop();
    expect(documentFiles(r.dataDir).filter((f) => f.includes("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))).toEqual([]);
    const again = await startRelay({ dataDir: r.dataDir });
    keep(again);
    const afterRestart = client(again.url, token);
    for (let i = 0; i < 40; i++) {
      const found = await eventually(() => afterRestart.find<{ n: number }>(handles[i]!.url), 10_000, 250);
      expect(found.doc().n).toBe(i === 3 ? 333 : i);
    }
  });

  it("keeps at most --max-documents-in-memory documents in memory when many pass through, and loses none of them", async () => {
    const r = await startRelay({ args: ["--max-documents-in-memory", "5"] });
    keep(r);
    const token = await addToken(r.dataDir, "alice");
    const writer = client(r.url, token);
    const reader = client(r.url, token);
    // Twenty documents one after another, each synced to a second writer: nowhere near
    // idle (the default idle time is five minutes), but past the budget.
    const handles: DocHandle<{ n: number }>[] = [];
    for (let i = 0; i < 20; i++) {
      const handle = writer.create<{ n: number }>({ n: i });
      handles.push(handle);
      const seen = await eventually(() => reader.find<{ n: number }>(handle.url), 10_000, 100);
      expect(seen.doc().n).toBe(i);
    }
    // Both read together until both hold: with documents in workers, the gauge is as of
    // each worker's last report (up to a second old), so it can read 5 while a document
    // the worker took since is still in memory, its eviction (and count) to come.
    await eventually(
      async () => (await metric(r.url, "relay_documents_in_memory")) <= 5 && (await metric(r.url, "relay_documents_evicted_over_budget_total")) >= 15,
      10_000,
      200,
    );

    // Every one is still there, from disk, for a newcomer, and takes a change.
    const late = client(r.url, token);
    for (const i of [0, 7, 19]) {
      const found = await eventually(() => late.find<{ n: number }>(handles[i]!.url), 10_000, 250);
      expect(found.doc().n).toBe(i);
    }
    handles[0]!.change((d) => (d.n = 100));
    const again = await eventually(() => client(r.url, token).find<{ n: number }>(handles[0]!.url), 10_000, 250);
    await eventually(() => again.doc().n === 100, 10_000);
  });
});
