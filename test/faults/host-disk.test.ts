// The disk under a host or a relay misbehaves: F8 (a torn or overwritten chunk file).
import fs from "node:fs";
import path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { HostStatus } from "../../src/shared/api";
import { plainText, type WriterDocument } from "../../src/shared/document";
import { decodeChunk } from "../../src/node/storage/chunkFile";
import { documentChunks, inspectStorage } from "../support/dataDir";
import { useHosts } from "../support/host";
import { addToken, eventually, freePort, tempDir, useRelays } from "../support/relay";

const hosts = useHosts();
const relays = useRelays();

// Long enough (several kB, little repetition) that automerge-repo keeps the second
// session's change as an incremental chunk beside the first session's snapshot rather
// than compacting both into one (it compacts while a document is under 1 kB).
const FIRST = Array.from({ length: 400 }, (_, i) => createHash("sha256").update(String(i)).digest("hex").slice(0, 3 + (i % 7))).join(" ") + ".";
const SECOND = " The second part, written after a restart.";

/** The document's chunk whose write came last (by the sequence in its header): the one a power cut tears. */
function newestChunk(storageDir: string, documentId: string): string {
  const chunks = documentChunks(storageDir, documentId).filter((f) => !f.includes(`${path.sep}sync-state${path.sep}`));
  const sequence = (f: string) => {
    const decoded = decodeChunk(fs.readFileSync(path.join(storageDir, f)));
    if (!decoded.ok) throw new Error(`${f}: ${decoded.reason}`);
    return decoded.sequence;
  };
  expect(chunks.length, `chunks of ${documentId}: ${chunks.join(", ")}`).toBeGreaterThan(1);
  return chunks.reduce((a, b) => (sequence(a) > sequence(b) ? a : b));
}

describe("torn writes", () => {
  it("F8: a host chunk cut short: the writer is told which document, the rest loads, the chunk is set aside, the relay restores it", async () => {
    const relayDir = tempDir("relay-f8-");
    const token = await addToken(relayDir, "writer");
    const port = await freePort();
    let relay = await relays.relay({ dataDir: relayDir, port });
    const dataDir = tempDir("host-f8-");
    let host = await hosts.start({ dataDir });
    await host.addRelay("Home relay", relay.url, token);
    const url = await host.createDocument("Torn chapter");
    const documentId = url.slice("automerge:".length);

    // Two sessions, so that the document is in more than one chunk on disk.
    await host.type(url, FIRST);
    await eventually(async () => (await host.syncStatus(url)).document === "on-relay", 15_000, 200);
    expect(await host.stop()).toBe(0);
    host = await hosts.start({ dataDir });
    await host.type(url, SECOND);
    await eventually(async () => (await host.syncStatus(url)).document === "on-relay", 15_000, 200);
    expect(await host.stop()).toBe(0);

    // The power cut: the last chunk written is cut to half its length.
    const storage = path.join(dataDir, "documents");
    const torn = newestChunk(storage, documentId);
    const tornPath = path.join(storage, torn);
    const size = fs.statSync(tornPath).size;
    fs.truncateSync(tornPath, Math.floor(size / 2));
    const damaged = fs.readFileSync(tornPath);

    // Offline (the relay is down), the host opens what is good and says what is not.
    await relay.kill();
    host = await hosts.start({ dataDir });
    expect((await host.read(url)).text).toBe(FIRST);
    const status = await host.call<HostStatus>("status");
    expect(status.storageOk).toBe(true);
    expect(status.problems).toHaveLength(1);
    expect(status.problems[0]).toMatchObject({ kind: "corrupt-chunk", documentUrl: url });
    expect(status.problems[0]!.message).toContain("“Torn chapter”");
    expect(status.problems[0]!.message).toMatch(/length mismatch/);

    // Quarantined, byte for byte, never deleted; nothing else touched.
    const disk = inspectStorage(storage);
    expect(disk.bad).toEqual([]);
    expect(disk.quarantined).toHaveLength(1);
    expect(fs.readFileSync(path.join(storage, "quarantine", disk.quarantined[0]!))).toEqual(damaged);
    expect(fs.existsSync(tornPath)).toBe(false);

    // The relay comes back: the host gets what it lost from it, and keeps it.
    relay = await relays.relay({ dataDir: relayDir, port });
    await eventually(async () => (await host.read(url)).text === FIRST + SECOND, 30_000, 250);
    await eventually(async () => (await host.syncStatus(url)).document === "on-relay", 15_000, 200);
    expect(await host.stop()).toBe(0);
    await relay.kill();
    host = await hosts.start({ dataDir });
    expect((await host.read(url)).text).toBe(FIRST + SECOND);
    expect((await host.call<HostStatus>("status")).problems).toEqual([]);
    expect(inspectStorage(storage).quarantined).toEqual(disk.quarantined);
  });

  it("F8: a relay chunk overwritten with garbage: quarantined and logged by document; a writer's copy restores it; other documents still served", async () => {
    const relayDir = tempDir("relay-f8-");
    const token = await addToken(relayDir, "writer");
    const port = await freePort();
    let relay = await relays.relay({ dataDir: relayDir, port });
    const dataDir = tempDir("host-f8-");
    const host = await hosts.start({ dataDir });
    await host.addRelay("Home relay", relay.url, token);
    const damagedUrl = await host.createDocument("Overwritten on the relay");
    const otherUrl = await host.createDocument("Untouched");
    await host.type(damagedUrl, FIRST);
    await host.type(otherUrl, "Nothing happened to this one.");
    for (const url of [damagedUrl, otherUrl]) await eventually(async () => (await host.syncStatus(url)).document === "on-relay", 15_000, 200);
    // The relay keeps everything it has confirmed: stop it cleanly, then damage its copy.
    await host.call("removeRelay", { id: (await host.call<{ relays: { id: string }[] }>("getSettings")).relays[0]!.id });
    expect(await relay.stop()).toBe(0);

    const storage = path.join(relayDir, "documents");
    const documentId = damagedUrl.slice("automerge:".length);
    const chunks = documentChunks(storage, documentId).filter((f) => !f.includes(`${path.sep}sync-state${path.sep}`));
    expect(chunks.length).toBeGreaterThan(0);
    const garbage = new Map<string, Buffer>();
    for (const chunk of chunks) {
      const bytes = randomBytes(fs.statSync(path.join(storage, chunk)).size);
      fs.writeFileSync(path.join(storage, chunk), bytes);
      garbage.set(chunk, bytes);
    }

    relay = await relays.relay({ dataDir: relayDir, port });
    const reader = relays.client(relay.url, token);
    // The damaged document is not served from garbage; the other one is served as ever.
    const other = await eventually(() => reader.find<WriterDocument>(otherUrl as never), 15_000, 250);
    expect(plainText(other.doc())).toBe("Nothing happened to this one.");
    await expect(reader.find(damagedUrl as never)).rejects.toThrow(/unavailable/);
    await eventually(() => /corrupt chunk quarantined/.test(relay.logs()), 10_000);
    const logged = relay
      .logs()
      .split("\n")
      .filter((line) => line.includes("corrupt chunk quarantined"))
      .map((line) => JSON.parse(line) as { documentId: string; reason: string });
    expect(new Set(logged.map((l) => l.documentId))).toEqual(new Set([documentId]));
    const disk = inspectStorage(storage);
    expect(disk.bad).toEqual([]);
    expect(disk.quarantined).toHaveLength(chunks.length);
    const kept = disk.quarantined.map((q) => fs.readFileSync(path.join(storage, "quarantine", q)));
    for (const bytes of garbage.values()) expect(kept.some((k) => k.equals(bytes))).toBe(true);

    // The writer reconnects: the relay gets the document back from the writer's copy.
    await host.addRelay("Home relay", relay.url, token);
    await eventually(async () => (await host.syncStatus(damagedUrl)).document === "on-relay", 30_000, 250);
    const restored = relays.client(relay.url, token);
    const handle = await eventually(() => restored.find<WriterDocument>(damagedUrl as never), 15_000, 250);
    expect(plainText(handle.doc())).toBe(FIRST);
    expect((await host.read(damagedUrl)).text).toBe(FIRST);
  });
});
