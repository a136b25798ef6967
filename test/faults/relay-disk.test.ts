// F13: the relay's disk fills up while writers type. F14: a document worker dies while a
// writer types into a document it holds. "On the relay" means on the relay's
// disk: a change the relay holds only in memory (its save failing, retried) is never
// confirmed to a writer; writers are told the relay cannot save; /healthz and /metrics
// say so; and a relay SIGKILLed then loses nothing a writer was told it had.
import path from "node:path";
import { next as A } from "@automerge/automerge";
import { generateAutomergeUrl, parseAutomergeUrl, type AutomergeUrl } from "@automerge/automerge-repo";
import { describe, expect, it } from "vitest";
import { addToken, eventually, metric, rawConnect, tempDir, useRelays } from "../support/relay";
import { converged, useHosts } from "../support/replicas";
import { smallDisk } from "../support/smallDisk";
import { pace } from "../support/wait";

const relays = useRelays();
const host = useHosts();

describe("the relay's disk", () => {
  it("F13: a full disk: nothing unsaved is confirmed, writers are told, and after a SIGKILL and a freed disk nothing is lost", async () => {
    const disk = smallDisk("4m");
    const dataDir = path.join(disk.dir, "relay");
    const token = await addToken(dataDir, "team");
    const first = await relays.relay({ dataDir });
    const ada = await host("ada");
    await ada.addRelay("Team", first.url, token);
    const url = await ada.createDocument("Written on a full disk");
    await ada.type(url, "Before the disk filled. ");
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 15_000, 50);
    const before = await ada.read(url);

    disk.fill();
    // Ada keeps typing; all along, the host never says "on the relay" for what she typed
    // since, and once the relay has noticed, it says why.
    const claimed: string[] = [];
    for (let i = 0; i < 30; i++) {
      await ada.type(url, `full${i} `);
      await pace(50);
      const status = await ada.syncStatus(url);
      if (status.document === "on-relay") claimed.push(`after full${i}: ${JSON.stringify(status)}`);
    }
    const told = await eventually(async () => {
      const status = await ada.syncStatus(url);
      return status.error?.message.includes("cannot save right now; your changes are kept here") ? status : undefined;
    }, 15_000);
    expect(told).toMatchObject({ connection: "connected", document: "pending", error: { message: "Team: cannot save right now; your changes are kept here" } });
    expect(claimed).toEqual([]);
    // The self-hoster's view: unhealthy, with the reason, and a gauge to alert on.
    const health = await fetch(`${first.url.replace(/^ws/, "http")}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { reason: string }).reason).toMatch(/^cannot save to its disk/);
    expect(await metric(first.url, "relay_storage_failing")).toBe(1);

    // The relay dies with the disk still full; Ada's machine goes too.
    const typed = await ada.read(url);
    await first.kill();
    await ada.kill();
    disk.free();
    const second = await relays.relay({ dataDir, port: first.port });
    // What the relay has now is at least what Ada was told it had.
    const reader = relays.client(second.url, token);
    const onDisk = await converged(url, [], [reader], 30_000);
    expect(onDisk.text.startsWith(before.text)).toBe(true);

    // Ada comes back: her words, kept on her side, reach the relay; nothing is lost.
    const again = await host("ada", ada.dataDir);
    const end = await converged(url, [again], [relays.client(second.url, token)], 30_000);
    expect(end.text).toBe(typed.text);
    await eventually(async () => (await again.syncStatus(url)).document === "on-relay" && (await again.syncStatus(url)).error === null, 15_000, 100);
    expect(await metric(second.url, "relay_storage_failing")).toBe(0);
  });

  it("S12: changes a connection sends while the relay cannot save are held within its byte budget: past it, slowed, then closed", async () => {
    const MiB = 1024 * 1024;
    const disk = smallDisk("4m");
    const dataDir = path.join(disk.dir, "relay");
    const token = await addToken(dataDir, "team");
    const relay = await relays.relay({ dataDir, args: ["--max-held-bytes-per-connection", String(2 * MiB), "--workers", "0"] });
    const held = () => metric(relay.url, "relay_held_bytes", '{kind="unsaved"}');
    disk.fill();
    const pusher = await rawConnect(relay.url, token, { join: "pusher" });
    try {
      // Changes of 600 KB each, into a document the relay can only keep in memory.
      let doc = A.from<{ t: string }>({ t: "" });
      const documentId = parseAutomergeUrl(generateAutomergeUrl()).documentId;
      const changes = [A.getLastLocalChange(doc)!];
      for (let i = 0; i < 5 && pusher.socket.readyState === pusher.socket.OPEN; i++) {
        doc = A.change(doc, (d) => A.splice(d, ["t"], 0, 0, String(i).repeat(600_000)));
        changes.push(A.getLastLocalChange(doc)!);
        pusher.send({ type: "sync", senderId: "pusher", targetId: pusher.relayPeerId, documentId, data: A.encodeSyncMessage({ heads: A.getHeads(doc), need: [], have: [], changes: changes.splice(0) }) });
        await pace(100);
      }
      // Past its budget the relay stops reading the connection and counts it. The held bytes
      // themselves are seen above the budget only until the close releases them, which a
      // poll on a busy machine can miss; the counter cannot be missed.
      // The waits are bounds, not measures: the relay applies 600 KB changes and retries
      // saves meanwhile, and on a busy machine its 5 s grace ends late.
      await eventually(async () => (await metric(relay.url, "relay_slowed_total")) >= 1, 30_000, 50);
      const closed = await Promise.race([pusher.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 30_000))]);
      expect(closed?.code).toBe(4011);
      expect(closed?.reason).toMatch(/holds too much for this connection/);
      await eventually(async () => (await held()) === 0, 15_000, 50);
    } finally {
      pusher.socket.terminate();
      disk.free();
    }
  });

  it("F14: a document worker crashes while a writer types: nothing it had not saved was confirmed, and nothing is lost", async () => {
    const dataDir = tempDir();
    const token = await addToken(dataDir, "team");
    // Every document in the one worker; saves a little later than usual, so that a crash
    // finds changes not yet on disk. SIGUSR2 crashes the worker (RELAY_FAULT_INJECTION).
    const relay = await relays.relay({ dataDir, env: { RELAY_FAULT_INJECTION: "1" }, args: ["--workers", "1", "--worker-threshold-bytes", "0", "--save-debounce-ms", "300"] });
    const ada = await host("ada");
    await ada.addRelay("Team", relay.url, token);
    const url = await ada.createDocument("Held by a worker");
    await ada.type(url, "Start. ");
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 15_000, 50);

    // What Ada is told the relay has: heads that did not move while the host said "on the relay".
    let confirmed: string[] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const before = await ada.read(url);
        const status = await ada.syncStatus(url);
        const after = await ada.read(url);
        if (status.document === "on-relay" && before.hashes.join() === after.hashes.join()) confirmed = before.hashes;
        await pace(20);
      }
    })();
    const crashes = 4;
    const count = (text: string) => relay.logs().split("\n").filter((l) => l.includes(text)).length;
    for (let crash = 0; crash < crashes; crash++) {
      // Each crash hits a worker that is up and holding the document.
      await eventually(() => count("document worker ready") > crash, 15_000, 20);
      for (let i = 0; i < 12; i++) {
        await ada.type(url, `c${crash}w${i} `);
        await pace(25);
      }
      process.kill(relay.pid, "SIGUSR2");
      await eventually(() => count("document worker exited") > crash, 10_000, 20);
    }
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 30_000, 50);
    watching = false;
    await watch;
    const typed = await ada.read(url);
    // Typing over, the host says "on the relay" for all of it: the last confirmation.
    if ((await ada.syncStatus(url)).document === "on-relay" && (await ada.read(url)).hashes.join() === typed.hashes.join()) confirmed = typed.hashes;
    expect(confirmed.length).toBeGreaterThan(0);
    const dropped = await metric(relay.url, "relay_sync_messages_dropped_total");
    const restarted = await metric(relay.url, "relay_closed_connections_total", '{reason="worker-restart"}');
    console.log(`F14: ${crashes} worker crashes; replies of lost copies not sent: ${dropped}; connections told to sync again: ${restarted}`);

    // The relay and Ada's machine die; the relay's disk has everything Ada was told it had.
    await relay.kill();
    await ada.kill();
    const second = await relays.relay({ dataDir, port: relay.port });
    const reader = relays.client(second.url, token);
    const copy = await reader.find(url as AutomergeUrl);
    await eventually(() => A.hasHeads(copy.doc() as A.Doc<unknown>, confirmed), 15_000, 100);

    // Ada comes back: whatever the crashes lost, her host still had, and sends.
    const again = await host("ada", ada.dataDir);
    const end = await converged(url, [again], [relays.client(second.url, token)], 30_000);
    expect(end.text).toBe(typed.text);
  });
});
