// The relay's /metrics as a self-hoster's Prometheus reads it (sync-server/metrics.ts): the
// histograms of save time and sync rounds fill with real saves and real rounds, refused
// saves and quarantined chunks are counted wherever they happen (the main thread or a
// document worker), and /metrics can move to an address of its own and require a token.
// The relays run in this process (Relay.open) so that the metrics options can be given
// before the command line knows them; their clients are real WebSocket connections.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as A from "@automerge/automerge";
import { generateAutomergeUrl, parseAutomergeUrl, type AutomergeUrl, type DocHandle, type Repo } from "@automerge/automerge-repo";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import * as limits from "../../src/node/protocol/limits";
import { FileStorageAdapter } from "../../src/node/storage";
import { Relay, type RelayOptions } from "../../sync-server/Relay";
import { clientRepo, eventually, metric, metrics, rawConnect, tempDir } from "../support/relay";
import { smallDisk } from "../support/smallDisk";

interface Doc {
  text: string;
}

const relays: Relay[] = [];
const repos: Repo[] = [];
/** What the test's relays logged (debug and up), shown when the test fails. */
let logLines: string[] = [];
afterEach(async (context) => {
  if (context.task.result?.state === "fail") console.error(`The relays' last log lines:\n${logLines.slice(-40).join("")}`);
  logLines = [];
  for (const repo of repos.splice(0)) await repo.shutdown().catch(() => undefined);
  for (const relay of relays.splice(0)) await relay.close();
});

/** A relay in this process, with the command line's defaults, anonymous clients, and its log kept for a failure. */
async function openRelay(options: Partial<RelayOptions> = {}): Promise<Relay> {
  const relay = await Relay.open({
    dataDir: tempDir(),
    port: 0,
    host: "127.0.0.1",
    peers: [],
    allowAnonymous: true,
    logger: pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) }),
    syncDebounceMs: 50,
    saveDebounceMs: 50,
    idleEvictMs: 300_000,
    maxDocumentsInMemory: 200,
    maxConnections: limits.MAX_CONNECTIONS,
    maxPendingUpgrades: limits.MAX_PENDING_UPGRADES,
    requestTimeoutMs: limits.REQUEST_TIMEOUT_MS,
    workers: 0,
    workerThresholdBytes: 16_384,
    limits: {
      maxFrameBytes: limits.MAX_FRAME_BYTES,
      joinTimeoutMs: limits.JOIN_TIMEOUT_MS,
      messagesPerSecond: limits.MESSAGES_PER_SECOND,
      messageBurst: limits.MESSAGE_BURST,
      maxDocumentsPerConnection: limits.MAX_DOCUMENTS_PER_CONNECTION,
      maxConnectionsPerToken: limits.MAX_CONNECTIONS_PER_TOKEN,
      idleTimeoutMs: limits.IDLE_TIMEOUT_MS,
      maxHeldBytesPerConnection: limits.MAX_HELD_BYTES_PER_CONNECTION,
      maxHeldBytes: limits.MAX_HELD_BYTES,
    },
    ...options,
  });
  relays.push(relay);
  return relay;
}

/** Closes a relay before the test ends (to open its data directory again). */
async function closeRelay(relay: Relay): Promise<void> {
  relays.splice(relays.indexOf(relay), 1);
  await relay.close();
}

function client(relay: Relay): Repo {
  const repo = clientRepo(relay.url, null);
  repos.push(repo);
  return repo;
}

/** Fills the disk again and types again at every look, until `refused` says the relay refused a save (10 s at most). */
async function typeOnFullDisk(disk: { fill(): void }, handle: DocHandle<Doc>, refused: () => Promise<boolean>): Promise<void> {
  let typed = 0;
  await eventually(async () => {
    disk.fill();
    handle.change((d) => (d.text = `typed on a full disk ${++typed}`));
    return refused();
  }, 10_000, 100);
}

/** The relay's own HTTP address (its WebSocket URL's). */
const httpOf = (relay: Relay) => relay.url.replace(/^ws/, "http");

/**
 * The relay's workers take every document that has data on disk (and new ones stay on
 * the main thread, as always): a document written by one relay and opened by the next
 * is in the worker.
 */
const EVERYTHING_IN_THE_WORKER: Partial<RelayOptions> = { workers: 1, workerThresholdBytes: 1 };

/** Writes a document whose relay has it on disk, then closes that relay: the next one finds it there. */
async function documentOnDisk(dataDir: string, text: string): Promise<AutomergeUrl> {
  const relay = await openRelay({ dataDir });
  const writer = client(relay);
  const handle = writer.create<Doc>({ text });
  await eventually(async () => (await metric(relay.url, "relay_save_seconds_count")) >= 1, 10_000, 50);
  await closeRelay(relay);
  return handle.url;
}

describe("the relay's metrics", () => {
  it("relay_save_seconds counts the saves of a document's changes, on the main thread and in a document worker", async () => {
    const dataDir = tempDir();
    const main = await openRelay({ dataDir, ...EVERYTHING_IN_THE_WORKER });
    const writer = client(main);
    const handle = writer.create<Doc>({ text: "" });
    for (let i = 0; i < 5; i++) {
      handle.change((d) => A.splice(d, ["text"], d.text.length, 0, `word${i} `));
      await eventually(async () => (await metric(main.url, "relay_save_seconds_count")) >= i + 1, 10_000, 20);
    }
    // A new document is the main thread's: its saves are the main thread's.
    expect(await metric(main.url, "relay_worker_documents_routed_total")).toBe(0);
    // One read: the relay may save again between two.
    const saves = await metrics(main.url);
    expect(saves("relay_save_seconds_sum")).toBeGreaterThan(0);
    // Each save is at most as long as the whole test so far, and within the buckets' range.
    expect(saves("relay_save_seconds_bucket", '{le="10"}')).toBe(saves("relay_save_seconds_count"));
    await writer.shutdown();
    repos.splice(repos.indexOf(writer), 1);
    await closeRelay(main);

    // The next relay finds it on disk: it goes to the worker, which saves it and reports its saves within a second.
    const second = await openRelay({ dataDir, ...EVERYTHING_IN_THE_WORKER });
    const reader = client(second);
    const again = await eventually(() => reader.find<Doc>(handle.url), 10_000, 250);
    expect(await metric(second.url, "relay_worker_documents_routed_total")).toBe(1);
    const before = await metric(second.url, "relay_save_seconds_count");
    again.change((d) => A.splice(d, ["text"], d.text.length, 0, "in the worker"));
    await eventually(async () => (await metric(second.url, "relay_save_seconds_count")) > before, 10_000, 100);
  });

  it("relay_sync_round_seconds: from changes arriving on a connection to the sync message that confirms them", async () => {
    const relay = await openRelay();
    const writer = await rawConnect(relay.url, null, { join: "writer" });
    try {
      const documentId = parseAutomergeUrl(generateAutomergeUrl()).documentId;
      const doc = A.change(A.init<Doc>(), (d) => (d.text = "hello"));
      const heads = A.getHeads(doc);
      const sent = performance.now();
      writer.send({ type: "sync", senderId: "writer", targetId: writer.relayPeerId, documentId, data: A.encodeSyncMessage({ heads, need: [], have: [], changes: A.getAllChanges(doc) }) });
      // The relay's reply that has our heads: what a writer's app shows as "on the relay".
      const confirmed = () => writer.messages.find((m) => m.type === "sync" && heads.every((h) => A.decodeSyncMessage(m.data as Uint8Array).heads.includes(h)));
      await eventually(confirmed, 10_000, 5);
      const waited = (performance.now() - sent) / 1000;
      // One round, no longer than the wait the writer saw (its clock started first).
      await eventually(async () => (await metric(relay.url, "relay_sync_round_seconds_count")) === 1, 5_000, 20);
      const round = await metric(relay.url, "relay_sync_round_seconds_sum");
      expect(round).toBeGreaterThan(0);
      expect(round).toBeLessThanOrEqual(waited);
      // The relay said so only once its copy was on disk: a save before the confirmation.
      expect(await metric(relay.url, "relay_save_seconds_count")).toBeGreaterThanOrEqual(1);
    } finally {
      writer.socket.terminate();
    }
  });

  it("relay_failed_saves_total counts the saves a full disk refuses, on the main thread and in a document worker", async () => {
    const disk = smallDisk("8m");
    const dataDir = path.join(disk.dir, "relay");
    const url = await documentOnDisk(dataDir, "on disk before it filled");

    // The main thread: a new document, then the disk fills.
    const main = await openRelay({ dataDir });
    const writer = client(main);
    const fresh = writer.create<Doc>({ text: "" });
    await eventually(async () => (await metric(main.url, "relay_save_seconds_count")) >= 1, 10_000, 50);
    expect(await metric(main.url, "relay_failed_saves_total")).toBe(0);
    disk.fill();
    try {
      // Filled again, and typed on, at every look: the disk stays full, and a save that got
      // through while the relay had freed some space (twice in loaded runs no refused save
      // was counted, and none was logged) is followed by one that does not.
      await typeOnFullDisk(disk, fresh, async () => (await metric(main.url, "relay_failed_saves_total")) >= 1 && (await metric(main.url, "relay_storage_failing")) === 1);
    } finally {
      disk.free();
    }
    await eventually(async () => (await metric(main.url, "relay_storage_failing")) === 0, 10_000, 100);
    await writer.shutdown();
    repos.splice(repos.indexOf(writer), 1);
    await closeRelay(main);

    // A document worker: the document on disk goes there; its refused saves are reported within a second.
    const second = await openRelay({ dataDir, ...EVERYTHING_IN_THE_WORKER });
    const reader = client(second);
    const handle = await eventually(() => reader.find<Doc>(url), 10_000, 250);
    expect(await metric(second.url, "relay_worker_documents_routed_total")).toBe(1);
    disk.fill();
    try {
      await typeOnFullDisk(disk, handle, async () => (await metric(second.url, "relay_failed_saves_total")) >= 1);
    } finally {
      disk.free();
    }
  });

  it("relay_quarantined_chunks_total counts the chunks with a bad checksum moved aside when loaded, on the main thread and in a document worker", async () => {
    const dataDir = tempDir();
    const documentsDir = path.join(dataDir, "documents");
    // Two documents, each a good snapshot and an incremental chunk whose checksum fails:
    // a short one (main thread) and a long one (past the worker threshold).
    const planted: { url: AutomergeUrl; bad: string; text: string }[] = [];
    const storage = await FileStorageAdapter.open(documentsDir);
    // Random text, which compression leaves long (about 30 KB on disk).
    for (const text of ["short", randomBytes(30_000).toString("base64")]) {
      const url = generateAutomergeUrl();
      const documentId = parseAutomergeUrl(url).documentId;
      let doc = A.from({ text });
      await storage.save([documentId, "snapshot", "good"], A.save(doc));
      doc = A.change(doc, (d) => A.splice(d, ["text"], 0, 0, "lost: "));
      await storage.save([documentId, "incremental", "bad"], A.getLastLocalChange(doc)!);
      planted.push({ url, text, bad: path.join(documentsDir, documentId.slice(0, 2), documentId, "incremental", "bad.chunk") });
    }
    await storage.close();
    for (const { bad } of planted) {
      const bytes = fs.readFileSync(bad);
      bytes[bytes.length - 1]! ^= 0xff;
      fs.writeFileSync(bad, bytes);
    }

    const relay = await openRelay({ dataDir, workers: 1, workerThresholdBytes: 20_000 });
    expect(await metric(relay.url, "relay_quarantined_chunks_total")).toBe(0);
    const reader = client(relay);
    for (const { url, text } of planted) {
      // The rest of the document loads; the damaged chunk is set aside.
      const handle = await eventually(() => reader.find<Doc>(url), 10_000, 250);
      expect(handle.doc().text).toBe(text);
    }
    expect(await metric(relay.url, "relay_worker_documents_routed_total")).toBe(1);
    await eventually(async () => (await metric(relay.url, "relay_quarantined_chunks_total")) === 2, 5_000, 100);
    for (const { bad } of planted) expect(fs.existsSync(bad)).toBe(false);
    expect(fs.readdirSync(path.join(documentsDir, "quarantine"))).toHaveLength(2);
  });

  it("serves /metrics on an address of its own when given a port, and not on the relay's port", async () => {
    const relay = await openRelay({ metrics: { port: 0 } });
    expect(relay.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(relay.metricsUrl!).port).not.toBe(String(relay.port));
    const own = await fetch(relay.metricsUrl!);
    expect(own.status).toBe(200);
    expect(own.headers.get("cache-control")).toBe("no-store");
    expect(await own.text()).toContain("# TYPE relay_connections gauge");
    // The relay's port: no /metrics, the rest as before.
    expect((await fetch(`${httpOf(relay)}/metrics`)).status).toBe(404);
    expect((await fetch(`${httpOf(relay)}/healthz`)).status).toBe(200);
    // The metrics port: nothing else.
    expect((await fetch(relay.metricsUrl!.replace(/\/metrics$/, "/healthz"))).status).toBe(404);

    // Without a port, /metrics stays on the relay's port, and there is no other.
    const plain = await openRelay();
    expect(plain.metricsUrl).toBeUndefined();
    expect((await fetch(`${httpOf(plain)}/metrics`)).status).toBe(200);
  });

  it("requires the metrics token when one is set, wherever /metrics is served", async () => {
    const token = "metrics-token-for-the-test-0123456789abcdef";
    const onRelayPort = await openRelay({ metrics: { token } });
    const ownPort = await openRelay({ metrics: { token, port: 0 } });
    for (const url of [`${httpOf(onRelayPort)}/metrics`, ownPort.metricsUrl!]) {
      for (const authorization of [undefined, "Bearer wrong", `Bearer ${token}x`, `Basic ${token}`, token]) {
        const refused = await fetch(url, { headers: authorization === undefined ? {} : { Authorization: authorization } });
        expect(refused.status, `${url} with ${authorization}`).toBe(401);
        expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
        expect(await refused.text()).not.toContain("relay_");
      }
      const allowed = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain("# TYPE relay_connections gauge");
    }
    // The token guards /metrics only: health checks need none.
    expect((await fetch(`${httpOf(onRelayPort)}/healthz`)).status).toBe(200);
  });
});
