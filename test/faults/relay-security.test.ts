// Bad input and people who do not belong (FAILURE-MODES.md S3-S8), against a real
// relay process: each hostile connection is closed with a reason, and everyone else
// keeps syncing.
import fs from "node:fs";
import net from "node:net";
import { next as A } from "@automerge/automerge";
import { generateAutomergeUrl, parseAutomergeUrl } from "@automerge/automerge-repo";
import { afterEach, describe, expect, it } from "vitest";
import { shareChangesFast } from "../../src/shared/sync/changeBroadcast";
import { cbor } from "@automerge/automerge-repo";
import { walledDataDir } from "../support/dataDir";
import { pace, quietPeriod, settled } from "../support/wait";
import { addToken, documentFiles, eventually, metric, PROTOTYPE_PROBE, prototypesOf, rawConnect, useRelays, type RawConnection } from "../support/relay";

const { relay, client } = useRelays();
const sockets: RawConnection[] = [];
/** Directories made here rather than by tempDir, removed after each test. */
const madeHere: string[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.socket.terminate();
  for (const dir of madeHere.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function raw(url: string, token: string, join?: string): Promise<RawConnection> {
  const connection = await rawConnect(url, token, join === undefined ? {} : { join });
  sockets.push(connection);
  return connection;
}

/** A valid first sync message for a document we do not have. */
function emptySyncData(): Uint8Array {
  const [, message] = A.generateSyncMessage(A.init(), A.initSyncState());
  return message!;
}

/** A sync message of about `bytes` bytes (its one "change" is filler: only its size matters here). */
function syncDataOf(bytes: number): Uint8Array {
  return A.encodeSyncMessage({ heads: [], need: [], have: [], changes: [new Uint8Array(bytes).fill(7)] });
}

/** The connection's close, or a failure after `ms`. */
function closedWithin(c: RawConnection, ms: number): Promise<{ code: number; reason: string }> {
  return Promise.race([c.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms))]);
}

/** A process's resident memory, read from /proc. */
function residentBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0) * 1024;
}

function randomDocumentId(): string {
  return parseAutomergeUrl(generateAutomergeUrl()).documentId;
}

/** Proves the relay still serves: a fresh writer and reader sync a new document. */
async function stillSyncs(url: string, token: string): Promise<void> {
  const writer = client(url, token);
  const reader = client(url, token);
  const handle = writer.create<{ ok: boolean }>({ ok: true });
  const found = await eventually(() => reader.find<{ ok: boolean }>(handle.url), 10_000, 250);
  expect(found.doc().ok).toBe(true);
}

describe("relay against bad input", () => {
  it("S3: a read-only token follows documents but its changes never reach the relay's copy", async () => {
    const r = await relay();
    const full = await addToken(r.dataDir, "writer");
    const readOnly = await addToken(r.dataDir, "reader", { readOnly: true });
    const writer = client(r.url, full);
    const handle = writer.create<{ text: string; extra?: number; vandal?: string }>({ text: "original" });
    await eventually(() => documentFiles(r.dataDir).length > 0);

    const reader = client(r.url, readOnly);
    const mirror = await eventually(() => reader.find<{ text: string; extra?: number; vandal?: string }>(handle.url), 10_000, 250);
    expect(mirror.doc().text).toBe("original");
    mirror.change((d) => {
      d.text = "hacked";
      d.vandal = "was here";
    });
    await eventually(async () => (await metric(r.url, "relay_refused_changes_total")) > 0);
    // Refusing does not start a loop: once settled, the reader and the relay go quiet.
    const syncs = () => metric(r.url, "relay_messages_received_total", '{type="sync"}');
    const settledAt = await settled(syncs, 500);
    await quietPeriod(2000, "a sync loop would send several messages a second; a settled reader sends none");
    expect((await syncs()) - settledAt).toBeLessThan(5);

    // The reader still follows: the writer's later change reaches it.
    handle.change((d) => (d.extra = 1));
    await eventually(() => mirror.doc().extra === 1);

    // A document the reader creates never reaches the relay, and nothing loops either.
    const own = reader.create<{ text: string }>({ text: "mine" });
    const quiet = await settled(syncs, 500);
    await quietPeriod(2000, "a sync loop would send several messages a second; a settled reader sends none");
    expect((await syncs()) - quiet).toBeLessThan(5);
    expect(documentFiles(r.dataDir).some((f) => f.includes(own.documentId))).toBe(false);

    // A second full-access client sees the writer's document, untouched.
    const other = client(r.url, full);
    const seen = await eventually(() => other.find<{ text: string; extra?: number; vandal?: string }>(handle.url), 10_000, 250);
    // Exactly the writer's history: a change the relay had taken from the reader would be a head more.
    await eventually(() => seen.doc().extra === 1 && [...seen.heads()].sort().join() === [...handle.heads()].sort().join());
    expect(seen.doc().text).toBe("original");
    expect(seen.doc().vandal).toBeUndefined();

    // And so does the relay's copy on disk, after a restart.
    expect(await r.stop()).toBe(0);
    const again = await relay({ dataDir: r.dataDir });
    const fresh = client(again.url, full);
    const stored = await eventually(() => fresh.find<{ text: string; extra?: number; vandal?: string }>(handle.url), 10_000, 250);
    expect(stored.doc()).toEqual({ text: "original", extra: 1 });
  });

  it("S3: a read-only token's change broadcasts (the keystroke fast path) reach no one either", async () => {
    const r = await relay();
    const full = await addToken(r.dataDir, "writer");
    const readOnly = await addToken(r.dataDir, "reader", { readOnly: true });
    type Doc = { text: string; vandal?: string; note?: string };
    const writer = client(r.url, full);
    const handle = writer.create<Doc>({ text: "original" });
    await eventually(() => documentFiles(r.dataDir).length > 0);
    const other = await eventually(() => client(r.url, full).find<Doc>(handle.url), 10_000, 250);
    const mirror = await eventually(() => client(r.url, readOnly).find<Doc>(handle.url), 10_000, 250);
    // Every side broadcasts its changes and applies others', as the app's renderers do.
    for (const h of [handle, other, mirror]) shareChangesFast(h);
    const refused = await metric(r.url, "relay_refused_changes_total");

    mirror.change((d) => (d.vandal = "was here"));
    // Refused twice, once the relay has had both: in its sync message and in its broadcast.
    await eventually(async () => (await metric(r.url, "relay_refused_changes_total")) >= refused + 2);
    // A writer's broadcast does go through, after the reader's: once it is there, the
    // reader's would have been too.
    handle.change((d) => (d.note = "from the writer"));
    await eventually(() => other.doc().note === "from the writer" && handle.doc().note === "from the writer");
    expect(other.doc().vandal).toBeUndefined();
    expect(handle.doc().vandal).toBeUndefined();
  });

  it("S4: a join reusing a live peer ID is refused, and the original keeps syncing; a dead one's is taken over by its own token only", async () => {
    const r = await relay();
    const token = await addToken(r.dataDir, "alice");
    const mallory = await addToken(r.dataDir, "mallory");
    const victim = client(r.url, token, "victim-peer");
    const first = victim.create<{ n: number }>({ n: 1 });
    const watcher = client(r.url, token);
    await eventually(() => watcher.find<{ n: number }>(first.url), 10_000, 250);

    for (const credential of [mallory, token]) {
      const attacker = await raw(r.url, credential);
      attacker.send({ type: "join", senderId: "victim-peer", peerMetadata: {}, supportedProtocolVersions: ["1"] });
      const closed = await attacker.closed;
      expect(closed.code).toBe(4005);
      expect(closed.reason).toMatch(/peer ID in use/);
      expect(attacker.messages.some((m) => m.type === "error")).toBe(true);
      expect(attacker.messages.some((m) => m.type === "peer")).toBe(false);
    }

    // The victim's connection still works both ways.
    const second = victim.create<{ n: number }>({ n: 2 });
    const seen = await eventually(() => watcher.find<{ n: number }>(second.url), 10_000, 250);
    expect(seen.doc().n).toBe(2);
    const mirrored = await watcher.find<{ n: number }>(first.url);
    mirrored.change((d) => (d.n = 10));
    await eventually(() => first.doc().n === 10);

    // A connection that no longer answers (a laptop that slept, a network that changed
    // under it) still holds its peer ID. Another credential never gets it...
    const sleeper = await raw(r.url, token, "sleeper");
    (sleeper.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const stranger = await raw(r.url, mallory);
    stranger.send({ type: "join", senderId: "sleeper", peerMetadata: {}, supportedProtocolVersions: ["1"] });
    expect((await stranger.closed).code).toBe(4005);
    // ...while the same token's new connection takes its place as soon as a ping to the
    // old one goes unanswered for a second and a half.
    const back = await raw(r.url, token);
    const asked = Date.now();
    back.send({ type: "join", senderId: "sleeper", peerMetadata: {}, supportedProtocolVersions: ["1"] });
    await back.next("peer", 10_000);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(r.logs()).toMatch(/did not answer while its peer ID rejoined/);
  });

  it("S5: invalid CBOR, CBOR null, wrong shapes, unknown versions: that connection closes with a reason", async () => {
    const r = await relay();
    const token = await addToken(r.dataDir, "alice");
    const bystander = client(r.url, token);
    const doc = bystander.create<{ n: number }>({ n: 0 });

    // `relay` is the relay's peer ID, for frames sent after a join.
    const cases: { name: string; join?: boolean; frame: (relay: string) => unknown; code: number }[] = [
      { name: "invalid CBOR", frame: () => new Uint8Array([0xff, 0xfe, 0x00, 0x13]), code: 4002 },
      { name: "truncated CBOR", frame: () => new Uint8Array([0xa2, 0x64, 0x74]), code: 4002 },
      { name: "CBOR null", frame: () => new Uint8Array([0xf6]), code: 4002 },
      { name: "an array", frame: () => [1, 2, 3], code: 4002 },
      { name: "a number type", frame: () => ({ type: 5 }), code: 4002 },
      { name: "join without sender", frame: () => ({ type: "join", supportedProtocolVersions: ["1"] }), code: 4004 },
      { name: "unknown protocol version", frame: () => ({ type: "join", senderId: "p1", peerMetadata: {}, supportedProtocolVersions: ["2"] }), code: 4003 },
      { name: "versions not a list", frame: () => ({ type: "join", senderId: "p1", peerMetadata: {}, supportedProtocolVersions: "1" }), code: 4002 },
      { name: "sync before join", frame: () => ({ type: "sync", senderId: "p1", targetId: "x", documentId: randomDocumentId(), data: emptySyncData() }), code: 4007 },
      { name: "unknown type", join: true, frame: () => ({ type: "launch-missiles", senderId: "joined" }), code: 4002 },
      { name: "sync without data", join: true, frame: (relay) => ({ type: "sync", senderId: "joined", targetId: relay, documentId: randomDocumentId() }), code: 4002 },
      {
        name: "sync with garbage data",
        join: true,
        frame: (relay) => ({ type: "sync", senderId: "joined", targetId: relay, documentId: randomDocumentId(), data: new Uint8Array([1, 2, 3]) }),
        code: 4002,
      },
      { name: "another sender", join: true, frame: (relay) => ({ type: "sync", senderId: "someone-else", targetId: relay, documentId: randomDocumentId(), data: emptySyncData() }), code: 4006 },
      { name: "a second join", join: true, frame: () => ({ type: "join", senderId: "joined", peerMetadata: {}, supportedProtocolVersions: ["1"] }), code: 4007 },
    ];
    for (const c of cases) {
      const connection = await raw(r.url, token, c.join ? "joined" : undefined);
      connection.send(c.frame(connection.relayPeerId));
      const closed = await connection.closed;
      expect({ name: c.name, code: closed.code }).toEqual({ name: c.name, code: c.code });
      expect(closed.reason.length).toBeGreaterThan(0);
      if (c.code === 4003) expect(connection.messages.some((m) => m.type === "error")).toBe(true);
    }
    const text = await raw(r.url, token);
    text.socket.send("hello");
    expect((await text.closed).code).toBe(4002);

    // Everyone else is undisturbed.
    doc.change((d) => (d.n = 1));
    await stillSyncs(r.url, token);
    const reader = client(r.url, token);
    const seen = await eventually(() => reader.find<{ n: number }>(doc.url), 10_000, 250);
    await eventually(() => seen.doc().n === 1);
  });

  it("S6: oversized frames, floods and sockets that never join are cut off; memory stays bounded", async () => {
    const r = await relay({
      args: ["--max-message-bytes", "65536", "--max-messages-per-second", "50", "--message-burst", "100", "--join-timeout-ms", "1000", "--max-documents-per-connection", "5"],
    });
    const token = await addToken(r.dataDir, "alice");
    const rssBefore = await metric(r.url, "process_resident_memory_bytes");

    const big = await raw(r.url, token, "big");
    big.send(new Uint8Array(200_000));
    expect((await big.closed).code).toBe(1009);

    const flood = await raw(r.url, token, "flood");
    const tick = { type: "remote-subscription-change", senderId: "flood", targetId: flood.relayPeerId, add: [] };
    let sent = 0;
    while (flood.socket.readyState === flood.socket.OPEN && sent < 20_000) {
      flood.send(tick);
      sent++;
      if (sent % 500 === 0) await pace(5);
    }
    const floodClosed = await Promise.race([flood.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 15_000))]);
    expect(floodClosed?.code).toBe(4029);
    expect(await metric(r.url, "relay_throttled_total")).toBeGreaterThan(0);

    const greedy = await raw(r.url, token, "greedy");
    for (let i = 0; i < 6; i++) greedy.send({ type: "request", senderId: "greedy", targetId: greedy.relayPeerId, documentId: randomDocumentId(), data: emptySyncData() });
    expect((await greedy.closed).code).toBe(4009);

    const idle = await Promise.all(Array.from({ length: 50 }, () => raw(r.url, token)));
    const codes = await Promise.all(idle.map((s) => s.closed.then((c) => c.code)));
    expect(new Set(codes)).toEqual(new Set([4008]));
    await eventually(async () => (await metric(r.url, "relay_connections")) === 0);

    const rssAfter = await metric(r.url, "process_resident_memory_bytes");
    expect(rssAfter).toBeLessThan(Math.max(rssBefore, 1) + 150 * 1024 * 1024);
    await stillSyncs(r.url, token);
  });

  it("S7: hostile IDs are refused; nothing is written outside the data directory; the relay's prototypes stay clean", async () => {
    const walled = walledDataDir("relay-s7-");
    madeHere.push(walled.root);
    const dataDir = walled.dataDir;
    const passwd = fs.statSync("/etc/passwd");
    const r = await relay({ dataDir, nodeArgs: PROTOTYPE_PROBE });
    const token = await addToken(dataDir, "alice");
    const hostile: unknown[] = ["../../x", "..", "__proto__", "constructor", "toString", "a".repeat(10_000), "x/../../../etc/passwd", 42, null, {}, ["a"], ""];
    for (const id of hostile) {
      const join = await raw(r.url, token);
      join.send({ type: "join", senderId: id, peerMetadata: {}, supportedProtocolVersions: ["1"] });
      expect((await join.closed).code).toBe(4004);

      // A null storage ID reads as none (automerge-repo's own clients may send that).
      if (id !== null) {
        const storage = await raw(r.url, token);
        storage.send({ type: "join", senderId: "ok-peer", peerMetadata: { storageId: id }, supportedProtocolVersions: ["1"] });
        expect((await storage.closed).code).toBe(4004);
      }

      const peer = `peer-${Math.random().toString(36).slice(2)}`;
      const doc = await raw(r.url, token, peer);
      doc.send({ type: "request", senderId: peer, targetId: doc.relayPeerId, documentId: id, data: emptySyncData() });
      expect((await doc.closed).code).toBe(4004);
    }
    // A map with a __proto__ key is decoded as a plain field, never as a prototype.
    const sneaky = await raw(r.url, token, "sneaky");
    sneaky.send(new Uint8Array([0xa1, 0x69, ...Buffer.from("__proto__"), 0xa1, 0x64, ...Buffer.from("type"), 0x64, ...Buffer.from("join")]));
    expect((await sneaky.closed).code).toBe(4002);
    // Fields that would pollute a naive merge, where the relay copies what a client sent.
    // (JSON.parse makes `__proto__` an own key, as a CBOR map on the wire does.)
    const polluting = JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}}') as object;
    const merger = await raw(r.url, token);
    merger.send({ type: "join", senderId: "merger", peerMetadata: polluting, supportedProtocolVersions: ["1"] });
    await Promise.race([merger.closed, merger.next("peer")]);
    const joined = await raw(r.url, token, "merger-2");
    joined.send({ type: "remote-subscription-change", senderId: "merger-2", targetId: joined.relayPeerId, add: ["__proto__"], remove: [] });
    joined.send({ type: "ephemeral", senderId: "merger-2", targetId: joined.relayPeerId, documentId: randomDocumentId(), sessionId: "__proto__", count: 1, data: cbor.encode(polluting) });
    joined.send({ ...polluting, type: "request", senderId: "merger-2", targetId: joined.relayPeerId, documentId: randomDocumentId(), data: emptySyncData() });
    await Promise.race([joined.closed, joined.next("doc-unavailable")]);

    await stillSyncs(r.url, token);
    // Nothing outside the data directory: not beside it, not six levels up, not /etc.
    expect(walled.outside()).toEqual([]);
    const now = fs.statSync("/etc/passwd");
    expect([now.size, now.mtimeMs]).toEqual([passwd.size, passwd.mtimeMs]);
    // The relay process's own prototypes (not this test's): nothing added to them.
    expect(await prototypesOf(r.pid, r.logs)).toEqual({ added: {}, polluted: null });
    expect(r.exited()).toBe(false);
  });

  it("S8: a flood of requests for random documents is answered unavailable and creates nothing", async () => {
    const r = await relay();
    const token = await addToken(r.dataDir, "alice");
    const flood = await raw(r.url, token);
    flood.send({ type: "join", senderId: "flooder", peerMetadata: { storageId: "0f3b9d7e-flood-storage", isEphemeral: false }, supportedProtocolVersions: ["1"] });
    const relayPeerId = String((await flood.next("peer")).senderId);
    const data = emptySyncData();
    const count = 1500;
    const started = Date.now();
    for (let i = 0; i < count; i++) flood.send({ type: "request", senderId: "flooder", targetId: relayPeerId, documentId: randomDocumentId(), data });
    await eventually(() => flood.messages.filter((m) => m.type === "doc-unavailable").length === count, 20_000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(15_000);
    expect(documentFiles(r.dataDir)).toEqual([]);
    expect(await metric(r.url, "relay_documents_in_memory")).toBe(0);

    // A stock client asking for unknown documents gets "unavailable" too, and nothing is stored.
    const asker = client(r.url, token);
    for (let i = 0; i < 20; i++) await expect(asker.find(generateAutomergeUrl())).rejects.toThrow(/unavailable/);
    expect(documentFiles(r.dataDir)).toEqual([]);
    await stillSyncs(r.url, token);
  });
  it("S11: one token cannot take every slot; joined connections that say nothing, and sockets that never finish their request, are let go", async () => {
    const r = await relay({
      args: ["--max-connections", "30", "--max-connections-per-token", "5", "--idle-timeout-ms", "2000", "--max-pending-upgrades", "10", "--request-timeout-ms", "1500"],
    });
    const greedy = await addToken(r.dataDir, "greedy");
    const team = await addToken(r.dataDir, "team");
    const rssBefore = residentBytes(r.pid);

    // One token holds as many connections as it may; its next is refused, others' are not.
    const held = await Promise.all(Array.from({ length: 5 }, (_, i) => raw(r.url, greedy, `greedy-${i}`)));
    await expect(rawConnect(r.url, greedy)).rejects.toMatchObject({ status: 429 });
    expect(await metric(r.url, "relay_rejected_connections_total", '{reason="token-connections"}')).toBe(1);
    const talker = await raw(r.url, team, "talker");
    // Answering pings (ws does it by itself) does not keep a slot: saying nothing for the
    // idle timeout closes a connection; one that talks stays.
    const ticking = setInterval(() => talker.send({ type: "remote-subscription-change", senderId: "talker", targetId: talker.relayPeerId, add: [] }), 300);
    try {
      const codes = await Promise.all(held.map((c) => c.closed.then((closed) => closed.code)));
      expect(new Set(codes)).toEqual(new Set([4010]));
      expect(talker.socket.readyState).toBe(talker.socket.OPEN);
    } finally {
      clearInterval(ticking);
    }
    // The slots are free again for that token.
    sockets.push(await rawConnect(r.url, greedy, { join: "greedy-again" }));

    // Sockets that open and never finish a request (slowloris), or never send a byte: no
    // more than the cap wait at once, the oldest go first, and each goes after the
    // request timeout. Writers get in meanwhile.
    const port = Number(new URL(r.url).port);
    const lingering = Array.from({ length: 40 }, (_, i) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        if (i % 4 !== 0) socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${i}: `);
      });
      socket.on("error", () => undefined);
      socket.resume(); // reads what the relay says (a 408) and so sees the end that follows
      return { socket, closed: new Promise<void>((resolve) => socket.once("close", () => resolve())) };
    });
    await eventually(async () => (await metric(r.url, "relay_rejected_connections_total", '{reason="too-many-pending"}')) >= 30, 10_000, 100);
    expect(await metric(r.url, "relay_pending_upgrades")).toBeLessThanOrEqual(10);
    await stillSyncs(r.url, team);
    const allGone = Promise.all(lingering.map((l) => l.closed)).then(() => true);
    expect(await Promise.race([allGone, new Promise<false>((resolve) => setTimeout(() => resolve(false), 8_000))])).toBe(true);
    await eventually(async () => (await metric(r.url, "relay_pending_upgrades")) <= 1, 5_000, 100);
    expect(residentBytes(r.pid)).toBeLessThan(rssBefore + 150 * 1024 * 1024);
  });

  it("S12: what one connection, or all together, make the relay hold is bounded in bytes: slowed, then closed with the reason", async () => {
    const MiB = 1024 * 1024;
    const r = await relay({ args: ["--max-message-bytes", String(2 * MiB), "--max-held-bytes-per-connection", String(4 * MiB), "--max-held-bytes", String(10 * MiB)] });
    const token = await addToken(r.dataDir, "team");
    const rssBefore = residentBytes(r.pid);
    const held = (kind: string) => metric(r.url, "relay_held_bytes", `{kind="${kind}"}`);
    /** Requests for documents nobody has, each carrying `mib` MiB of sync data: the relay keeps each to answer once the document arrives. */
    const hoard = (c: RawConnection, peerId: string, count: number, mib: number) => {
      for (let i = 0; i < count; i++) c.send({ type: "request", senderId: peerId, targetId: c.relayPeerId, documentId: randomDocumentId(), data: syncDataOf(mib * MiB) });
    };

    // One connection over its own budget: not read any more, then closed with the reason.
    const hoarder = await raw(r.url, token, "hoarder");
    hoard(hoarder, "hoarder", 3, 1.5);
    await eventually(async () => (await held("waiting")) > 4 * MiB, 10_000, 50);
    expect(await metric(r.url, "relay_slowed_total")).toBeGreaterThanOrEqual(1);
    const closed = await closedWithin(hoarder, 15_000);
    expect(closed.code).toBe(4011);
    expect(closed.reason).toMatch(/holds too much for this connection \(4\.5 MiB; limit 4\.0 MiB\)/);
    await eventually(async () => (await held("waiting")) === 0, 5_000, 50);

    // Several connections, each within its own budget, over the relay's together: the one
    // that takes it over, holding more than its share, goes; the others stay and keep syncing.
    const modest = await Promise.all(["modest-0", "modest-1"].map((id) => raw(r.url, token, id)));
    for (const [i, c] of modest.entries()) hoard(c, `modest-${i}`, 2, 1.9);
    await eventually(async () => (await held("waiting")) >= 7.6 * MiB, 10_000, 50);
    const greedy = await raw(r.url, token, "greedy");
    hoard(greedy, "greedy", 2, 1.9);
    expect((await closedWithin(greedy, 15_000)).code).toBe(4011);
    expect(modest.every((c) => c.socket.readyState === c.socket.OPEN)).toBe(true);
    expect(await held("waiting")).toBeLessThanOrEqual(10 * MiB);
    expect(residentBytes(r.pid)).toBeLessThan(rssBefore + 150 * 1024 * 1024);
    await stillSyncs(r.url, token);
    // A writer's changes count against it only until the relay's disk has them.
    await eventually(async () => (await held("unsaved")) === 0, 10_000, 100);
  });

  it("S13: ephemeral messages in another writer's name, or for too many authors, reach no one; the writer's own still do", async () => {
    const r = await relay();
    const token = await addToken(r.dataDir, "team");
    // An observer (a real Repo) follows a document and records the presence it receives.
    const writer = client(r.url, token);
    const handle = writer.create<{ t: string }>({ t: "shared" });
    const observer = client(r.url, token);
    const watched = await eventually(() => observer.find<{ t: string }>(handle.url), 10_000, 250);
    const seen: string[] = [];
    watched.on("ephemeral-message", ({ message }) => seen.push(String((message as { text?: unknown }).text)));
    const documentId = handle.documentId;
    const victim = await raw(r.url, token, "victim-host");
    const mallory = await raw(r.url, token, "mallory-host");
    for (const [c, id] of [[victim, "victim-host"], [mallory, "mallory-host"]] as const) {
      c.send({ type: "request", senderId: id, targetId: c.relayPeerId, documentId, data: emptySyncData() });
      await c.next("sync");
    }
    const say = (c: RawConnection, sender: string, count: number, text: string) =>
      c.send({ type: "ephemeral", senderId: sender, targetId: c.relayPeerId, documentId, sessionId: `session-${sender}`, count, data: cbor.encode({ text }) });

    say(victim, "victim-window", 1, "the victim's cursor");
    await eventually(() => seen.includes("the victim's cursor"), 10_000, 20);
    // Mallory, with a valid token, speaks as the victim's window (with a count that would
    // make receivers drop the victim's messages for good) and as the victim's host.
    say(mallory, "victim-window", 2 ** 40, "forged cursor");
    say(mallory, "victim-host", 1, "forged host");
    say(mallory, "mallory-window", 1, "mallory's own cursor");
    say(victim, "victim-window", 2, "the victim still moves");
    await eventually(() => seen.includes("the victim still moves") && seen.includes("mallory's own cursor"), 10_000, 20);
    // One connection speaks for a host and its windows, not for a crowd.
    for (let i = 0; i < 40; i++) say(mallory, `puppet-${i}`, 1, `puppet ${i}`);
    await eventually(() => seen.includes("puppet 30"), 10_000, 20);
    await quietPeriod(500, "the rest of mallory's puppets, if they were forwarded, arrive by now");
    expect(seen.filter((t) => t.startsWith("forged"))).toEqual([]);
    expect(seen.filter((t) => t.startsWith("puppet")).length).toBe(31);
    // The forged cursor came back to the relay as if an echo of what Mallory was sent.
    const refused = (reason: string) => metric(r.url, "relay_ephemeral_refused_total", `{reason="${reason}"}`);
    expect((await refused("sender-of-another")) + (await refused("echo"))).toBeGreaterThanOrEqual(2);
    expect(await metric(r.url, "relay_ephemeral_refused_total", '{reason="too-many-senders"}')).toBe(9);
  });

  it("S14: a writer's token cannot take a relay's peer ID (a peer's dial ID among them); a relay's token can", async () => {
    const r = await relay();
    const token = await addToken(r.dataDir, "team");
    const relayToken = await addToken(r.dataDir, "peer", { relay: true });
    for (const id of ["relay-3c0b0b52-0b4e-4c5a-9d4f-5a0f3f1c2b7a.dial", "relay-3c0b0b52-0b4e-4c5a-9d4f-5a0f3f1c2b7a"]) {
      const squatter = await raw(r.url, token);
      squatter.send({ type: "join", senderId: id, peerMetadata: {}, supportedProtocolVersions: ["1"] });
      const closed = await squatter.closed;
      expect(closed.code).toBe(4004);
      expect(closed.reason).toMatch(/for relay tokens/);
    }
    const peer = await raw(r.url, relayToken, "relay-3c0b0b52-0b4e-4c5a-9d4f-5a0f3f1c2b7a.dial");
    expect(peer.relayPeerId).toMatch(/^relay-/);
    await stillSyncs(r.url, token);
  });
});
