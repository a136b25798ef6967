// Relays on PostgreSQL (--storage postgres://…): the documents are in the database, not
// in the data directory, so a relay that restarts, or another relay on the same database,
// serves everything any of them stored. A real server, started for this file.
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { addToken, eventually, metric, useRelays } from "../support/relay";
import { startPostgres, type RunningPostgres } from "../support/postgres";

const { relay, client } = useRelays();
let server: RunningPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

/** The newest chunk's sequence number (0: none): it grows with every chunk written, compaction included. */
async function rows(url: string): Promise<number> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ n: string | null }>("SELECT max(seq) AS n FROM writer_chunks WHERE kind IN ('snapshot', 'incremental')");
    return Number(rows[0]!.n ?? 0);
  } finally {
    await db.end();
  }
}

describe("relay on PostgreSQL", () => {
  it("keeps documents in the database: a restarted relay and a second relay on it serve them", async () => {
    const url = await server.database();
    const a = await relay({ args: ["--storage", url] });
    const aliceOnA = await addToken(url, "alice", { storage: true });
    const writer = client(a.url, aliceOnA);
    const handle = writer.create<{ text: string }>({ text: "kept in PostgreSQL" });
    await eventually(async () => (await rows(url)) > 0, 10_000, 100);
    // Nothing of the document in the data directory: tokens only.
    expect(fs.existsSync(path.join(a.dataDir, "documents"))).toBe(false);
    expect(a.logs()).not.toContain("postgres@");

    // Another relay, its own data directory and tokens, the same database.
    const b = await relay({ env: { RELAY_STORAGE: url } });
    const bobOnB = await addToken(url, "bob", { storage: true });
    const reader = client(b.url, bobOnB);
    const found = await eventually(() => reader.find<{ text: string }>(handle.url), 15_000, 250);
    expect(found.doc().text).toBe("kept in PostgreSQL");

    // Stop A cleanly and start it again on the same database: a fresh reader finds the document.
    expect(await a.stop()).toBe(0);
    const again = await relay({ dataDir: a.dataDir, args: ["--storage", url] });
    const second = client(again.url, aliceOnA);
    const reloaded = await eventually(() => second.find<{ text: string }>(handle.url), 15_000, 250);
    expect(reloaded.doc().text).toBe("kept in PostgreSQL");
  }, 90_000);

  it("loads and saves long documents in its workers on the database too", async () => {
    const url = await server.database();
    // Every document goes to a worker (threshold 0 bytes).
    const r = await relay({ args: ["--storage", url, "--workers", "1", "--worker-threshold-bytes", "0"] });
    const token = await addToken(url, "alice", { storage: true });
    const writer = client(r.url, token);
    const handle = writer.create<{ text: string }>({ text: "first" });
    await eventually(async () => (await rows(url)) > 0, 10_000, 100);
    // A restart: the document is loaded from the database, in the worker.
    expect(await r.stop()).toBe(0);
    const again = await relay({ dataDir: r.dataDir, args: ["--storage", url, "--workers", "1", "--worker-threshold-bytes", "0"] });
    const reader = client(again.url, token);
    const found = await eventually(() => reader.find<{ text: string }>(handle.url), 15_000, 250);
    expect(found.doc().text).toBe("first");
    // Read before the change: read after it, a quick save could already be counted, and
    // nothing would come after it.
    const before = await rows(url);
    found.change((d) => (d.text = "second"));
    await eventually(async () => (await rows(url)) > before, 10_000, 100);
    expect(await metric(again.url, "relay_worker_documents_routed_total")).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it("refuses to start when the database cannot be reached, and says why", async () => {
    await expect(relay({ args: ["--storage", "postgres://postgres:secret@127.0.0.1:1/none"] })).rejects.toThrow(
      /exited with 3[\s\S]*Cannot use the storage at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/none \(table writer_chunks\): connect ECONNREFUSED/,
    );
  });
});
