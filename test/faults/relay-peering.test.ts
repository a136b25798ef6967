// Relays that peer with each other (active-active): F5 (a relay dies for good and
// clients fail over) and changes made while a peer was unreachable (F12; the partition
// with writers on both sides is in network.test.ts).
import { generateAutomergeUrl } from "@automerge/automerge-repo";
import { describe, expect, it } from "vitest";
import { addToken, documentFiles, eventually, freePort, metric, tempDir, useRelays } from "../support/relay";
import { quietPeriod } from "../support/wait";

/** automerge-repo's name for a snapshot of no heads: an empty document. */
const EMPTY_SNAPSHOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const relays = useRelays();
const { client } = relays;

/** Relays that retry their peers within a second, so that tests need not wait long. */
function relay(options: Parameters<typeof relays.relay>[0] = {}) {
  return relays.relay({ ...options, args: ["--peer-backoff-max-ms", "1000", ...(options.args ?? [])] });
}

type Doc = { text: string };

/** Relay B, and relay A dialing it with a relay token; user tokens on both. */
async function pair(options: { evictMs?: number } = {}) {
  const bDir = tempDir("relay-b-");
  const bPort = await freePort();
  const peerToken = await addToken(bDir, "relay-a", { relay: true });
  const userOnB = await addToken(bDir, "writer");
  const b = await relay({ dataDir: bDir, port: bPort });
  const aDir = tempDir("relay-a-");
  const userOnA = await addToken(aDir, "writer");
  const args = options.evictMs ? ["--idle-evict-ms", String(options.evictMs)] : [];
  const a = await relay({ dataDir: aDir, peers: [`${b.url}/?token=${peerToken}`], args });
  await eventually(() => /connected to peer relay/.test(a.logs()), 15_000);
  return { a, b, userOnA, userOnB, bPort };
}

describe("relay peering", () => {
  it("a client on A writes, a client on B reads, and back", async () => {
    const { a, b, userOnA, userOnB } = await pair();
    const onA = client(a.url, userOnA);
    const onB = client(b.url, userOnB);
    const fromA = onA.create<Doc>({ text: "written on A" });
    const seenOnB = await eventually(() => onB.find<Doc>(fromA.url), 15_000, 250);
    expect(seenOnB.doc().text).toBe("written on A");

    const fromB = onB.create<Doc>({ text: "written on B" });
    const seenOnA = await eventually(() => onA.find<Doc>(fromB.url), 15_000, 250);
    expect(seenOnA.doc().text).toBe("written on B");

    // Live edits flow both ways through the peering connection.
    seenOnB.change((d) => (d.text = "edited on B"));
    await eventually(() => fromA.doc().text === "edited on B", 10_000);

    // Once in sync, the relays go quiet: no sync loop, and nothing left pending.
    await eventually(async () => (await metric(a.url, "relay_peer_pending_documents")) === 0 && (await metric(b.url, "relay_peer_pending_documents")) === 0, 15_000, 500);
    const count = async () => (await metric(a.url, "relay_messages_received_total", '{type="sync"}')) + (await metric(b.url, "relay_messages_received_total", '{type="sync"}'));
    const settled = await count();
    await quietPeriod(6000, "in sync, the relays exchange (almost) nothing: a sync loop would show within 6 s, past PeerSync's 5 s pass");
    expect((await count()) - settled).toBeLessThan(5);
  });

  it("both relays naming each other with --peer: two connections, no clash, sync both ways", async () => {
    const [aDir, bDir] = [tempDir("relay-a-"), tempDir("relay-b-")];
    const [aPort, bPort] = [await freePort(), await freePort()];
    const aForB = await addToken(bDir, "relay-a", { relay: true });
    const bForA = await addToken(aDir, "relay-b", { relay: true });
    const userOnA = await addToken(aDir, "writer");
    const userOnB = await addToken(bDir, "writer");
    const [a, b] = await Promise.all([
      relay({ dataDir: aDir, port: aPort, peers: [`ws://127.0.0.1:${bPort}/?token=${aForB}`] }),
      relay({ dataDir: bDir, port: bPort, peers: [`ws://127.0.0.1:${aPort}/?token=${bForA}`] }),
    ]);
    await eventually(() => /connected to peer relay/.test(a.logs()) && /connected to peer relay/.test(b.logs()), 15_000);
    const onA = client(a.url, userOnA);
    const onB = client(b.url, userOnB);
    const fromA = onA.create<Doc>({ text: "from A" });
    const fromB = onB.create<Doc>({ text: "from B" });
    expect((await eventually(() => onB.find<Doc>(fromA.url), 15_000, 250)).doc().text).toBe("from A");
    const seenOnA = await eventually(() => onA.find<Doc>(fromB.url), 15_000, 250);
    seenOnA.change((d) => (d.text = "from B, edited on A"));
    await eventually(() => fromB.doc().text === "from B, edited on A", 10_000);
    expect(a.logs() + b.logs()).not.toMatch(/peer ID in use/);
  });

  it("S8 with a peer: unknown documents are asked of the peer, answered unavailable, and leave nothing behind", async () => {
    const { a, b, userOnA } = await pair({ evictMs: 500 });
    const asker = client(a.url, userOnA);
    const before = { a: documentFiles(a.dataDir), b: documentFiles(b.dataDir) };
    for (let i = 0; i < 20; i++) await expect(asker.find(generateAutomergeUrl())).rejects.toThrow(/unavailable/);
    // The empty handles the Repo made for them leave memory too.
    await eventually(async () => (await metric(a.url, "relay_documents_in_memory")) === 0, 10_000, 200);
    expect(documentFiles(a.dataDir)).toEqual(before.a);
    expect(documentFiles(b.dataDir)).toEqual(before.b);
    expect(a.logs()).not.toMatch(/could not evict/);
  });

  it("F5: A dies for good; a client failing over to B finds everything", async () => {
    const { a, b, userOnA, userOnB } = await pair();
    const writer = client(a.url, userOnA);
    const handles = Array.from({ length: 5 }, (_, i) => writer.create<Doc>({ text: `document ${i}` }));
    handles[0]!.change((d) => (d.text = "document 0, edited"));
    // B stores what A gets: wait until it has as many documents on disk.
    await eventually(() => new Set(documentFiles(b.dataDir).filter((f) => !f.includes("sync-state")).map((f) => f.split("/")[1])).size >= 5, 15_000, 250);
    // And the edit: a client of B alone sees it only once B has it.
    const probe = client(b.url, userOnB);
    await eventually(async () => (await probe.find<Doc>(handles[0]!.url)).doc().text === "document 0, edited", 15_000, 250);
    await probe.shutdown();
    await a.kill();

    const failedOver = client(b.url, userOnB);
    for (const [i, handle] of handles.entries()) {
      const found = await eventually(() => failedOver.find<Doc>(handle.url), 10_000, 250);
      expect(found.doc().text).toBe(i === 0 ? "document 0, edited" : `document ${i}`);
    }
  });

  it("F12: a peer relay down for a while (the other side of the partition): documents changed and evicted meanwhile reach it after the heal", async () => {
    const { a, b, userOnA, userOnB, bPort } = await pair({ evictMs: 500 });
    const writer = client(a.url, userOnA);
    const before = writer.create<Doc>({ text: "before the outage" });
    await eventually(async () => (await client(b.url, userOnB).find<Doc>(before.url)).doc().text === "before the outage", 15_000, 500);

    expect(await b.stop()).toBe(0);
    const during = writer.create<Doc>({ text: "during the outage" });
    const seenBefore = await writer.find<Doc>(before.url);
    seenBefore.change((d) => (d.text = "changed during the outage"));
    // A writes them down, then forgets them: nothing of them is left in A's memory.
    await eventually(async () => (await metric(a.url, "relay_documents_evicted_total")) >= 2 && (await metric(a.url, "relay_documents_in_memory")) === 0, 10_000);
    await writer.shutdown();

    const back = await relay({ dataDir: b.dataDir, port: bPort });
    const reader = client(back.url, userOnB);
    const gotDuring = await eventually(() => reader.find<Doc>(during.url), 20_000, 500);
    expect(gotDuring.doc().text).toBe("during the outage");
    const gotBefore = await reader.find<Doc>(before.url);
    await eventually(() => gotBefore.doc().text === "changed during the outage", 20_000);
    // A's copy is whole too (eviction once wiped it: see Relay#evictIdle).
    const probe = client(a.url, userOnA);
    expect((await probe.find<Doc>(before.url)).doc().text).toBe("changed during the outage");
    expect(documentFiles(a.dataDir).filter((f) => f.includes(EMPTY_SNAPSHOT))).toEqual([]);
  });
});
