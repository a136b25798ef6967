// The PostgreSQL back end for relay clusters keeps the same storage contract as the
// files (test/storage/acceptance.ts), against a real server started for this file.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { PostgresStorageAdapter } from "../../src/node/storage/PostgresStorageAdapter";
import { startPostgres, type RunningPostgres } from "../support/postgres";
import { runStorageAcceptanceTests } from "./acceptance";

let server: RunningPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

let tables = 0;
runStorageAcceptanceTests("PostgresStorageAdapter", async () => {
  // A table of its own per test: the suite expects an empty store each time.
  const adapter = await PostgresStorageAdapter.open({ url: server.url, table: `chunks_${tables++}` });
  return {
    adapter,
    teardown: async () => {
      await adapter.close();
    },
  };
});

describe("PostgresStorageAdapter with PostgreSQL", () => {
  const opened: PostgresStorageAdapter[] = [];
  afterAll(async () => {
    for (const adapter of opened) await adapter.close();
  });
  const open = async (url: string, table = "writer_chunks") => {
    const adapter = await PostgresStorageAdapter.open({ url, table });
    opened.push(adapter);
    return adapter;
  };

  it("lets relays that start together create the table once, and share its rows", async () => {
    const url = await server.database();
    const adapters = await Promise.all(Array.from({ length: 6 }, () => open(url)));
    await adapters[0]!.save(["doc1", "incremental", "aa"], Uint8Array.from([1, 2]));
    for (const adapter of adapters) expect(await adapter.load(["doc1", "incremental", "aa"])).toStrictEqual(Uint8Array.from([1, 2]));
  });

  it("treats _ in a key as a character, not as a pattern", async () => {
    const adapter = await open(await server.database());
    await adapter.save(["doc_1", "snapshot", "a"], Uint8Array.from([1]));
    await adapter.save(["docX1", "snapshot", "a"], Uint8Array.from([2]));
    await adapter.save(["doc_1", "sync_state", "p"], Uint8Array.from([3]));
    await adapter.save(["doc_1", "syncXstate", "p"], Uint8Array.from([4]));
    expect((await adapter.loadRange(["doc_1"])).map((c) => c.key.join("/"))).toEqual(["doc_1/snapshot/a", "doc_1/sync_state/p", "doc_1/syncXstate/p"]);
    expect((await adapter.loadRange(["doc_1", "sync_state"])).map((c) => c.key.join("/"))).toEqual(["doc_1/sync_state/p"]);
    await adapter.removeRange(["doc_1", "sync_state"]);
    expect(await adapter.load(["doc_1", "syncXstate", "p"])).toStrictEqual(Uint8Array.from([4]));
  });

  it("knows each document's size, for routing long documents to workers", async () => {
    const adapter = await open(await server.database());
    await adapter.save(["big", "incremental", "a"], new Uint8Array(3000));
    await adapter.save(["big", "incremental", "b"], new Uint8Array(2000));
    await adapter.save(["small", "incremental", "a"], new Uint8Array(10));
    expect(await adapter.sizeOnDisk("big")).toBe(5000);
    expect(await adapter.sizeOnDisk("none")).toBe(0);
    expect(await adapter.hasDocument("big")).toBe(true);
    expect(await adapter.hasDocument("none")).toBe(false);
    const ids: string[] = [];
    for await (const id of adapter.documentIds()) ids.push(id);
    expect(ids).toEqual(["big", "small"]);
  });

  it("refuses table names that are not plain identifiers", async () => {
    await expect(PostgresStorageAdapter.open({ url: server.url, table: "x; DROP TABLE y" })).rejects.toThrow(/Not a plain table name/);
  });

  it("fails a save while the database is down, and works again once it is back, keeping what was committed", async () => {
    const url = await server.database();
    const adapter = await open(url);
    await adapter.save(["doc", "incremental", "before"], Uint8Array.from([7]));
    await server.kill();
    await expect(adapter.save(["doc", "incremental", "during"], Uint8Array.from([8]))).rejects.toMatchObject({ name: "StorageWriteError" });
    await server.start();
    await adapter.save(["doc", "incremental", "after"], Uint8Array.from([9]));
    const fresh = await open(url);
    expect((await fresh.loadRange(["doc"])).map((c) => c.key[2])).toEqual(["before", "after"]);
    // Nothing outside the adapter's statements: one table, one index.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    await client.end();
    expect(rows.map((r) => r.tablename)).toEqual(["writer_chunks"]);
  }, 60_000);
});

describe("two relays writing one document into one table", () => {
  it("compact without deleting what the other has not folded into its snapshot", async () => {
    const { Repo } = await import("@automerge/automerge-repo");
    const url = await server.database();
    const adapters = await Promise.all([0, 1, 2].map(() => PostgresStorageAdapter.open({ url })));
    // Two relays' Repos on the same table, each with its own copy of the same document,
    // no network between them: only the storage is shared, as in a cluster whose bus is down.
    const first = new Repo({ storage: adapters[0]!, network: [], saveDebounceRate: 5 } as never);
    const handle = first.create<{ a: number[]; b: number[] }>({ a: [], b: [] });
    await first.flush();
    const second = new Repo({ storage: adapters[1]!, network: [], saveDebounceRate: 5 } as never);
    const other = await second.find<{ a: number[]; b: number[] }>(handle.url);
    // Enough changes, interleaved, that both compact (a snapshot replaces their incremental chunks) many times.
    for (let i = 0; i < 300; i++) {
      handle.change((d) => void d.a.push(i));
      other.change((d) => void d.b.push(i));
      if (i % 25 === 0) await Promise.all([first.flush(), second.flush()]);
    }
    await Promise.all([first.flush(), second.flush()]);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const { rows } = await db.query<{ kind: string; n: string }>("SELECT kind, count(*) AS n FROM writer_chunks GROUP BY kind");
    await db.end();
    expect(Number(rows.find((r) => r.kind === "snapshot")?.n ?? 0)).toBeGreaterThanOrEqual(1);
    // A third relay loading the document from the table finds both relays' every change.
    const third = new Repo({ storage: adapters[2]!, network: [] } as never);
    const loaded = await third.find<{ a: number[]; b: number[] }>(handle.url);
    expect(loaded.doc().a).toHaveLength(300);
    expect(loaded.doc().b).toHaveLength(300);
    await Promise.all([first.shutdown(), second.shutdown(), third.shutdown()]);
    for (const adapter of adapters) await adapter.close();
  }, 60_000);
});
