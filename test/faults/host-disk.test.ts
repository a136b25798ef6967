// The disk under a host or a relay misbehaves: F8 (a torn or overwritten chunk file)
// and F9 (a full or read-only disk while saving, on a small tmpfs of the test's own;
// permission denied, for a host run as an ordinary user).
import fs from "node:fs";
import path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { HostStatus } from "../../src/shared/api";
import { plainText, type WriterDocument } from "../../src/shared/document";
import { decodeChunk } from "../../src/node/storage/chunkFile";
import { documentChunks, inspectStorage } from "../support/dataDir";
import { useHosts, type HostProcess } from "../support/host";
import { addToken, eventually, freePort, tempDir, useRelays } from "../support/relay";
import { smallDisk } from "../support/smallDisk";

const hosts = useHosts();
const relays = useRelays();

// Long enough (several kB, little repetition) that automerge-repo keeps the second
// session's change as an incremental chunk beside the first session's snapshot rather
// than compacting both into one (it compacts while a document is under 1 kB).
const FIRST = Array.from({ length: 400 }, (_, i) => createHash("sha256").update(String(i)).digest("hex").slice(0, 3 + (i % 7))).join(" ") + ".";
const SECOND = " The second part, written after a restart.";
const THIRD = " A third part, in a session of its own.";

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

    // Sessions until the document is in more than one chunk on disk, the last session's
    // change in a chunk of its own. Usually two: but when a busy machine saved the new
    // document before its text arrived, the first session ends with a snapshot under 1 kB,
    // and automerge-repo folds the second session into it; a third session then writes a
    // chunk of its own.
    await host.type(url, FIRST);
    await eventually(async () => (await host.syncStatus(url)).document === "on-relay", 15_000, 200);
    expect(await host.stop()).toBe(0);
    let beforeLast = FIRST;
    let whole = FIRST;
    const storage = path.join(dataDir, "documents");
    for (const part of [SECOND, THIRD]) {
      host = await hosts.start({ dataDir });
      await host.type(url, part);
      await eventually(async () => (await host.syncStatus(url)).document === "on-relay", 15_000, 200);
      expect(await host.stop()).toBe(0);
      beforeLast = whole;
      whole += part;
      if (documentChunks(storage, documentId).filter((f) => !f.includes(`${path.sep}sync-state${path.sep}`)).length > 1) break;
    }

    // The power cut: the last chunk written is cut to half its length.
    const torn = newestChunk(storage, documentId);
    const tornPath = path.join(storage, torn);
    const size = fs.statSync(tornPath).size;
    fs.truncateSync(tornPath, Math.floor(size / 2));
    const damaged = fs.readFileSync(tornPath);

    // Offline (the relay is down), the host opens what is good and says what is not.
    await relay.kill();
    host = await hosts.start({ dataDir });
    expect((await host.read(url)).text).toBe(beforeLast);
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
    await eventually(async () => (await host.read(url)).text === whole, 30_000, 250);
    await eventually(async () => (await host.syncStatus(url)).document === "on-relay", 15_000, 200);
    expect(await host.stop()).toBe(0);
    await relay.kill();
    host = await hosts.start({ dataDir });
    expect((await host.read(url)).text).toBe(whole);
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

/** Saved, as the renderer's "Saved" indicator asks: the host has these changes on disk. */
async function isSaved(host: HostProcess, url: string): Promise<boolean> {
  const { hashes } = await host.read(url);
  return (await host.call<{ saved: boolean }>("confirmSaved", { url, heads: hashes })).saved;
}

describe("a disk that fails while saving", () => {
  it("F9: disk full: the writer is told, keeps typing, nothing is dropped, and it all lands once there is room", async () => {
    const disk = smallDisk("16m");
    const dataDir = path.join(disk.dir, "writer");
    let host = await hosts.start({ dataDir });
    const url = await host.createDocument("Written on a full disk");
    await host.type(url, "Before the disk filled.");
    await eventually(() => isSaved(host, url), 10_000);

    disk.fill();
    const words: string[] = [];
    for (let i = 0; i < 60; i++) {
      const word = ` full${i}`;
      await host.type(url, word);
      words.push(word);
    }
    const full = "Before the disk filled." + words.join("");
    const status = (await eventually(async () => {
      const s = await host.call<HostStatus>("status");
      return s.storageOk ? undefined : s;
    }, 10_000))!;
    const failed = status.problems.filter((p) => p.kind === "write-failed");
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.message).toBe("Could not save to disk: the disk is full. Your changes are kept and saving is retried.");
    // Not "Saved": the indicator does not lie, and the text is all there in memory.
    expect(await isSaved(host, url)).toBe(false);
    expect((await host.read(url)).text).toBe(full);

    disk.free();
    await eventually(async () => (await host.call<HostStatus>("status")).storageOk, 30_000, 250);
    await eventually(() => isSaved(host, url), 10_000);

    // On disk for real: SIGKILL, not a clean quit that could save what the retries missed.
    await host.kill();
    host = await hosts.start({ dataDir });
    expect((await host.read(url)).text).toBe(full);
    expect(await host.call<HostStatus>("status")).toEqual({ storageOk: true, problems: [] });
    expect(inspectStorage(path.join(dataDir, "documents"))).toMatchObject({ bad: [], quarantined: [] });
  });

  it("F9: disk full for a long session and the host killed before it frees up: what was saved before is never lost", async () => {
    const disk = smallDisk("16m");
    const dataDir = path.join(disk.dir, "writer");
    let host = await hosts.start({ dataDir });
    const url = await host.createDocument("Compacted on a full disk");
    const before = Array.from({ length: 40 }, (_, i) => ` saved${i}`).join("");
    for (let i = 0; i < 40; i++) await host.type(url, ` saved${i}`);
    await eventually(() => isSaved(host, url), 10_000);

    // Many more changes than are on disk: automerge-repo compacts (a new snapshot, then
    // the old chunks removed) while no write can succeed.
    disk.fill();
    for (let i = 0; i < 300; i++) await host.type(url, ` lost${i}`);
    expect((await host.call<HostStatus>("status")).storageOk).toBe(false);
    await host.kill();

    disk.free();
    host = await hosts.start({ dataDir });
    const { text } = await host.read(url);
    expect(text.startsWith(before)).toBe(true);
    expect(inspectStorage(path.join(dataDir, "documents"))).toMatchObject({ bad: [], quarantined: [] });
  });

  it("F9: read-only disk: the writer is told, and everything lands once it is writable again", async () => {
    const disk = smallDisk("16m");
    const dataDir = path.join(disk.dir, "writer");
    let host = await hosts.start({ dataDir });
    const url = await host.createDocument("Written on a read-only disk");
    await host.type(url, "Before.");
    await eventually(() => isSaved(host, url), 10_000);

    disk.readOnly(true);
    await host.type(url, " While read-only.");
    // A new document needs new directories: their creation fails for the same reason.
    const created = await host.createDocument("Begun on a read-only disk");
    await host.type(created, "New.");
    const { problems } = (await eventually(async () => {
      const s = await host.call<HostStatus>("status");
      return !s.storageOk && s.problems.some((p) => p.documentUrl === created) ? s : undefined;
    }, 10_000))!;
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) expect(problem).toMatchObject({ kind: "write-failed", message: "Could not save to disk: the disk is read-only. Your changes are kept and saving is retried." });
    expect(await isSaved(host, url)).toBe(false);
    expect(await isSaved(host, created)).toBe(false);

    disk.readOnly(false);
    await eventually(async () => (await host.call<HostStatus>("status")).storageOk, 30_000, 250);
    await eventually(async () => (await isSaved(host, url)) && (await isSaved(host, created)), 10_000);
    await host.kill();
    host = await hosts.start({ dataDir });
    expect((await host.read(url)).text).toBe("Before. While read-only.");
    expect((await host.read(created)).text).toBe("New.");
  });

  it("F9: permission denied (a host run as an ordinary user): the writer is told, and everything lands once it is allowed again", async () => {
    // Root ignores file permissions, so this host runs as nobody, on a directory it owns.
    const nobody = { uid: 65534, gid: 65534 };
    const dataDir = tempDir("host-f9-eacces-");
    fs.chownSync(dataDir, nobody.uid, nobody.gid);
    let host = await hosts.start({ dataDir, ...nobody });
    const url = await host.createDocument("Written without permission");
    await host.type(url, "Before.");
    await eventually(() => isSaved(host, url), 10_000);

    // The document's directories lose their write permission (as a sync tool or an
    // administrator might leave them).
    const documentId = url.slice("automerge:".length);
    const documentDir = path.join(dataDir, "documents", documentId.slice(0, 2), documentId);
    const dirs = [documentDir, ...fs.readdirSync(documentDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(documentDir, e.name))];
    for (const dir of dirs) fs.chmodSync(dir, 0o500);
    for (let i = 0; i < 30; i++) await host.type(url, ` denied${i}`);
    const expected = "Before." + Array.from({ length: 30 }, (_, i) => ` denied${i}`).join("");
    const { problems } = (await eventually(async () => {
      const s = await host.call<HostStatus>("status");
      return s.storageOk ? undefined : s;
    }, 10_000))!;
    expect(problems.find((p) => p.documentUrl === url)).toMatchObject({ kind: "write-failed", message: "Could not save to disk: permission denied. Your changes are kept and saving is retried." });
    expect(await isSaved(host, url)).toBe(false);
    expect((await host.read(url)).text).toBe(expected);

    for (const dir of dirs) fs.chmodSync(dir, 0o700);
    await eventually(async () => (await host.call<HostStatus>("status")).storageOk, 30_000, 250);
    await eventually(() => isSaved(host, url), 10_000);
    await host.kill();
    host = await hosts.start({ dataDir, ...nobody });
    expect((await host.read(url)).text).toBe(expected);
    expect(await host.call<HostStatus>("status")).toEqual({ storageOk: true, problems: [] });
  });
});
