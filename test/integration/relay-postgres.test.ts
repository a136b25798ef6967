// Relays on PostgreSQL (--storage postgres://…): the documents are in the database, not
// in the data directory, so a relay that restarts, or another relay on the same database,
// serves everything any of them stored. A real server, started for this file.
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { addToken, eventually, metric, rawConnect, useRelays } from "../support/relay";
import { pace } from "../support/wait";
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

  it("while its token table is locked, a relay says so, keeps one read waiting at most, and applies a revocation made meanwhile as soon as the lock goes", async () => {
    const url = await server.database();
    const r = await relay({ args: ["--storage", url] });
    const token = await addToken(url, "bob", { storage: true });
    const bob = await rawConnect(r.url, token, { join: "bob-peer" });
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    // Its own connection: in the locker's transaction pg_stat_activity would not move.
    const observer = new pg.Client({ connectionString: url });
    await observer.connect();
    const waitingReads = async () => {
      const { rows } = await observer.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'writer-relay tokens' AND wait_event_type = 'Lock'",
      );
      return Number(rows[0]!.n);
    };
    let committed: number;
    try {
      // What a long migration or a stuck session would do to the relay's token reads.
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE writer_tokens IN ACCESS EXCLUSIVE MODE");
      await locker.query("DELETE FROM writer_tokens WHERE name = 'bob'");
      // Reads go on every second; each one waits on the lock for a few seconds at most,
      // is logged, and the next starts only then: they never pile up on the database.
      const seen: number[] = [];
      const until = Date.now() + 8000;
      while (Date.now() < until) {
        seen.push(await waitingReads());
        await pace(200);
      }
      console.log("SEEN", seen.join(","), (await locker.query("SELECT pid, application_name, state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE datname = current_database()")).rows);
      expect(Math.max(...seen)).toBe(1);
      const failures = r.logs().split("\n").filter((line) => line.includes("could not read the tokens"));
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures[0]).toContain("statement timeout");
      await locker.query("COMMIT");
      committed = Date.now();
    } finally {
      await locker.end();
      await observer.end();
    }
    expect(await bob.closed).toEqual({ code: 4001, reason: "token revoked" });
    expect(Date.now() - committed).toBeLessThan(5000);
  }, 60_000);

  it("refuses to start when the database cannot be reached, and says why", async () => {
    await expect(relay({ args: ["--storage", "postgres://postgres:secret@127.0.0.1:1/none"] })).rejects.toThrow(
      /exited with 3[\s\S]*Cannot use the storage at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/none \(table writer_chunks\): connect ECONNREFUSED/,
    );
  });
});
