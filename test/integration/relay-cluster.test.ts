// A relay cluster: relays on one PostgreSQL database and one NATS server. Writers on
// different relays co-edit in real time, presence crosses relays, and a relay cut off
// from NATS says so, sends its writers elsewhere, and catches up from storage when it is
// back. Real relay processes, a real database and a real NATS server.
import { beforeAll, describe, expect, it } from "vitest";
import type { DocHandle } from "@automerge/automerge-repo";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { addToken, eventually, metric, PROJECT_ROOT, rawConnect, upgradeStatus, useRelays, type RunningRelay } from "../support/relay";
import { programArgs } from "../support/programs";
import { startPostgres, type RunningPostgres } from "../support/postgres";
import { startNats, type RunningNats } from "../support/nats";
import { useProxies } from "../support/proxy";
import { startNginx } from "../support/nginx";


const { relay, client } = useRelays();
const proxy = useProxies();
let database: RunningPostgres;
let nats: RunningNats;
beforeAll(async () => {
  [database, nats] = await Promise.all([startPostgres(), startNats()]);
}, 60_000);

const exec = promisify(execFile);

/** `relay token add NAME --storage URL`: a token of the cluster, in its database. */
/** Relays of one cluster on a fresh database, and one token "alice" of the cluster (given once per relay, for the tests' pairs). */
async function cluster(count: number): Promise<{ relays: RunningRelay[]; tokens: string[]; url: string }> {
  const url = await database.database();
  const relays = await Promise.all(Array.from({ length: count }, () => relay({ args: ["--storage", url, "--nats", nats.url] })));
  const token = await addToken(url, "alice", { storage: true });
  return { relays, tokens: relays.map(() => token), url };
}

describe("relay cluster", () => {
  it("writers on two relays co-edit one document in real time", async () => {
    const {
      relays: [a, b],
      tokens: [onA, onB],
    } = await cluster(2);
    const ada = client(a!.url, onA!);
    const bob = client(b!.url, onB!);
    const mine = ada.create<{ text: string }>({ text: "Chapter one" });
    const theirs = await eventually(() => bob.find<{ text: string }>(mine.url), 15_000, 250);
    expect(theirs.doc().text).toBe("Chapter one");

    for (let i = 1; i <= 5; i++) {
      mine.change((d) => (d.text = `Chapter one, draft ${i}`));
      const started = Date.now();
      await eventually(() => theirs.doc().text === `Chapter one, draft ${i}`, 10_000, 5);
      // Generous for a loaded 2-core machine; on a quiet one this is tens of milliseconds.
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    theirs.change((d) => (d.text += " (Bob)"));
    await eventually(() => mine.doc().text === "Chapter one, draft 5 (Bob)", 10_000, 5);
    // It came by the bus: B heard A's changes, and A heard B's.
    expect(await metric(b!.url, "relay_cluster_messages_received_total", '{kind="changes"}')).toBeGreaterThanOrEqual(5);
    expect(await metric(a!.url, "relay_cluster_messages_received_total", '{kind="changes"}')).toBeGreaterThanOrEqual(1);
    const health = (await (await fetch(`${b!.url.replace(/^ws/, "http")}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ ok: true, storage: "postgres", nats: "connected" });
  }, 90_000);

  it("presence and the keystroke fast path cross relays", async () => {
    const {
      relays: [a, b],
      tokens: [onA, onB],
    } = await cluster(2);
    const ada = client(a!.url, onA!);
    const bob = client(b!.url, onB!);
    const mine = ada.create<{ text: string }>({ text: "" });
    const theirs: DocHandle<{ text: string }> = await eventually(() => bob.find<{ text: string }>(mine.url), 15_000, 250);
    const heard: unknown[] = [];
    theirs.on("ephemeral-message", ({ message }) => heard.push(message));
    // Bob's relay learns that Bob follows the document before Ada speaks.
    await eventually(async () => (await metric(b!.url, "relay_documents_in_memory")) >= 1, 10_000, 50);
    await eventually(
      () => {
        mine.broadcast({ cursor: 7 });
        return heard.length > 0;
      },
      10_000,
      200,
    );
    expect(heard[0]).toEqual({ cursor: 7 });
    expect(await metric(a!.url, "relay_cluster_messages_sent_total", '{kind="ephemeral"}')).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it("a relay cut off from NATS says so, sends its writers elsewhere, and catches up from storage when it is back", async () => {
    const link = await proxy(nats.port);
    const url = await database.database();
    const a = await relay({ args: ["--storage", url, "--nats", nats.url] });
    const b = await relay({ args: ["--storage", url, "--nats", link.url.replace(/^ws/, "nats")] });
    const onA = await addToken(url, "alice", { storage: true });
    const onB = onA;
    const ada = client(a.url, onA);
    const bob = client(b.url, onB);
    const mine = ada.create<{ text: string }>({ text: "before" });
    const theirs = await eventually(() => bob.find<{ text: string }>(mine.url), 15_000, 250);
    expect(theirs.doc().text).toBe("before");
    // A writer's connection to B, to see what B tells its writers.
    const watcher = await rawConnect(b.url, onB);

    link.cut();
    link.refuse();
    const bHealth = () => fetch(`${b.url.replace(/^ws/, "http")}/healthz`).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    await eventually(async () => (await bHealth()).status === 503, 20_000, 100);
    expect((await bHealth()).body).toMatchObject({ ok: false, nats: "disconnected", reason: expect.stringContaining("cluster bus") });
    expect(await upgradeStatus(b.url, { Authorization: `Bearer ${onB}` })).toBe(503);
    expect(await metric(b.url, "relay_cluster_connected")).toBe(0);
    // Its writers were sent away, to reconnect through the load balancer elsewhere.
    expect(await watcher.closed).toEqual({ code: 4012, reason: "relay lost its cluster; reconnect" });

    // Meanwhile Ada goes on writing on A, which stores it in the shared database.
    mine.change((d) => (d.text = "written while B was cut off"));
    await eventually(async () => (await metric(a.url, "relay_cluster_messages_sent_total", '{kind="changes"}')) >= 1, 10_000, 50);

    link.heal();
    await eventually(async () => (await bHealth()).status === 200, 30_000, 100);
    expect(await metric(b.url, "relay_cluster_catch_ups_total")).toBeGreaterThanOrEqual(1);
    // A writer on B now gets what was written on A while B could not hear it.
    const late = client(b.url, onB);
    const again = await eventually(() => late.find<{ text: string }>(mine.url), 15_000, 250);
    await eventually(() => again.doc().text === "written while B was cut off", 10_000, 50);
  }, 120_000);

  it("behind a plain round-robin nginx, writers spread over three relays converge, and lose nothing when their relay is killed", async () => {
    const url = await database.database();
    const relays = await Promise.all([0, 1, 2].map(() => relay({ args: ["--storage", url, "--nats", nats.url, "--trust-proxy"] })));
    // One token of the cluster, in its database: valid on every relay.
    const token = await addToken(url, "alice", { storage: true });
    const balancer = await startNginx(relays.map((r) => r.port));
    const writers = [client(balancer.url, token), client(balancer.url, token), client(balancer.url, token)];
    const first = writers[0]!.create<{ lines: string[] }>({ lines: [] });
    const handles = [first, ...(await Promise.all(writers.slice(1).map((w) => eventually(() => w.find<{ lines: string[] }>(first.url), 15_000, 250))))];
    // Round robin put them on different relays: each relay has a writer.
    for (const r of relays) await eventually(async () => (await metric(r.url, "relay_connections")) >= 1, 10_000, 100);

    const all = (n: number) => handles.every((h) => h.doc().lines.length === n);
    handles.forEach((h, i) => h.change((d) => void d.lines.push(`writer ${i}, line 1`)));
    await eventually(() => all(3), 15_000, 20);

    // Kill -9 one relay in the middle of the session; its writer reconnects through nginx
    // to another relay and goes on.
    const victim = relays[1]!;
    await victim.kill();
    handles.forEach((h, i) => h.change((d) => void d.lines.push(`writer ${i}, line 2`)));
    await eventually(() => all(6), 45_000, 50);
    const texts = handles.map((h) => JSON.stringify([...h.doc().lines].sort()));
    expect(new Set(texts).size).toBe(1);
    expect(JSON.parse(texts[0]!)).toEqual(["writer 0, line 1", "writer 0, line 2", "writer 1, line 1", "writer 1, line 2", "writer 2, line 1", "writer 2, line 2"]);
  }, 120_000);

  it("while PostgreSQL is down, relays say so, refuse new writers and confirm nothing; then nothing is lost", async () => {
    const {
      relays: [a, b],
      tokens: [onA, onB],
    } = await cluster(2);
    const ada = client(a!.url, onA!);
    const bob = client(b!.url, onB!);
    const mine = ada.create<{ lines: string[] }>({ lines: ["stored"] });
    const theirs = await eventually(() => bob.find<{ lines: string[] }>(mine.url), 15_000, 250);
    const health = (r: RunningRelay) => fetch(`${r.url.replace(/^ws/, "http")}/healthz`).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> }));
    // A writer's connection to A, joined, to see what A tells its writers.
    const watcher = await rawConnect(a!.url, onA!, { join: "watcher-peer" });

    await database.stop();
    await eventually(async () => (await health(a!)).status === 503, 15_000, 100);
    expect((await health(a!)).body).toMatchObject({ ok: false, database: "unreachable", reason: expect.stringContaining("database") });
    expect(await upgradeStatus(a!.url, { Authorization: `Bearer ${onA}` })).toBe(503);
    mine.change((d) => void d.lines.push("written while the database was down"));
    // A cannot store it, so it tells nobody: B's writer does not get it by the bus yet.
    await eventually(async () => (await metric(a!.url, "relay_storage_failing")) === 1, 15_000, 100);
    expect(theirs.doc().lines).toEqual(["stored"]);
    // Writers are told, and their apps show it instead of "all changes on the relay".
    expect(await watcher.next("error", 10_000)).toMatchObject({ message: "cannot save right now; your changes are kept here" });

    await database.start();
    await eventually(async () => (await health(a!)).status === 200 && (await health(b!)).status === 200, 30_000, 200);
    await eventually(() => theirs.doc().lines.length === 2, 20_000, 50);
    expect(theirs.doc().lines).toEqual(["stored", "written while the database was down"]);
  }, 120_000);

  it("when NATS restarts, every relay reconnects and catches up, and writers converge", async () => {
    const {
      relays: [a, b],
      tokens: [onA, onB],
    } = await cluster(2);
    const ada = client(a!.url, onA!);
    const bob = client(b!.url, onB!);
    const mine = ada.create<{ lines: string[] }>({ lines: [] });
    const theirs = await eventually(() => bob.find<{ lines: string[] }>(mine.url), 15_000, 250);
    await nats.stop();
    for (const r of [a!, b!]) await eventually(async () => (await metric(r.url, "relay_cluster_connected")) === 0, 20_000, 100);
    await nats.start();
    for (const r of [a!, b!]) {
      await eventually(async () => (await metric(r.url, "relay_cluster_connected")) === 1, 30_000, 100);
      expect(await metric(r.url, "relay_cluster_catch_ups_total")).toBeGreaterThanOrEqual(1);
    }
    // The writers were sent away while the bus was down; their Repos reconnect by themselves.
    mine.change((d) => void d.lines.push("Ada, after the restart"));
    theirs.change((d) => void d.lines.push("Bob, after the restart"));
    await eventually(() => mine.doc().lines.length === 2 && theirs.doc().lines.length === 2, 45_000, 50);
    expect([...mine.doc().lines].sort()).toEqual([...theirs.doc().lines].sort());
  }, 120_000);

  it("tokens live in the database: added once they work on every relay, and a revocation closes their connections on every relay within seconds", async () => {
    const { relays, url } = await cluster(2);
    const token = await addToken(url, "bob", { storage: true });
    const connections = await Promise.all(relays.map((r) => rawConnect(r.url, token)));
    const started = Date.now();
    await exec(process.execPath, [...programArgs("relay"), "token", "revoke", "bob", "--storage", url], { cwd: PROJECT_ROOT });
    for (const c of connections) expect(await c.closed).toEqual({ code: 4001, reason: "token revoked" });
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const r of relays) expect(await upgradeStatus(r.url, { Authorization: `Bearer ${token}` })).toBe(401);
    // token list against the database shows what the relays record of use.
    const { stdout } = await exec(process.execPath, [...programArgs("relay"), "token", "list", "--storage", url], { cwd: PROJECT_ROOT });
    expect(stdout).toMatch(/^alice\s+full\s/m);
    expect(stdout).not.toMatch(/^bob\s/m);
  }, 60_000);

  it("does not start without its NATS server, and says why", async () => {
    const url = await database.database();
    await expect(relay({ args: ["--storage", url, "--nats", "nats://127.0.0.1:1"] })).rejects.toThrow(/exited with 3[\s\S]*Cannot reach the cluster bus \(NATS\) at nats:\/\/127\.0\.0\.1:1/);
  });
});
