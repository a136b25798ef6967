// The relay's contract through its CLI: HTTP endpoints, token commands, two clients
// syncing, and SIGTERM flushing before it exits 0. Its fault rows (S1, S2, F4, F11) are
// in test/faults/relay-lifecycle.test.ts.
import { describe, expect, it } from "vitest";
import { addToken, documentFiles, eventually, rawConnect, upgradeStatus, useRelays } from "../support/relay";

const { relay, client } = useRelays();

describe("relay basics", () => {
  it("answers /healthz and /metrics, never cacheable", async () => {
    const r = await relay();
    const http = r.url.replace(/^ws/, "http");
    const health = await fetch(`${http}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
    expect(health.headers.get("cache-control")).toBe("no-store");
    const metrics = await fetch(`${http}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("cache-control")).toBe("no-store");
    const text = await metrics.text();
    for (const name of ["relay_connections", "relay_documents_in_memory", "relay_messages_received_total", "relay_rejected_connections_total", "process_resident_memory_bytes", "process_cpu_seconds_total"]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    const other = await fetch(`${http}/nope`);
    expect(other.status).toBe(404);
    expect(other.headers.get("cache-control")).toBe("no-store");
  });

  it("token commands run at the same time keep every token", async () => {
    const r = await relay();
    const tokens = await Promise.all(["t1", "t2", "t3", "t4"].map((name) => addToken(r.dataDir, name, { cli: true })));
    for (const token of tokens) expect(await upgradeStatus(r.url, { Authorization: `Bearer ${token}` })).toBe(101);
  });

  it("--allow-anonymous lets tokenless clients in, loudly; RELAY_ALLOW_ANONYMOUS=0 does not", async () => {
    const off = await relay({ env: { RELAY_ALLOW_ANONYMOUS: "0" } });
    expect(await upgradeStatus(off.url)).toBe(401);
    const on = await relay({ args: ["--allow-anonymous"] });
    expect(await upgradeStatus(on.url)).toBe(101);
    expect(await upgradeStatus(on.url, { Authorization: "Bearer not-a-token-not-a-token-not-a-token" })).toBe(401);
    expect(on.logs()).toMatch(/"level":40[^\n]*ANONYMOUS ACCESS IS ON/);
  });

  it("takes every setting from the environment, and a flag wins over its variable", async () => {
    const envOnly = await relay({ env: { RELAY_MAX_MESSAGE_BYTES: "2048" } });
    const token = await addToken(envOnly.dataDir, "alice");
    const small = await rawConnect(envOnly.url, token);
    small.send(new Uint8Array(10_000));
    expect((await small.closed).code).toBe(1009);

    const flagWins = await relay({ env: { RELAY_MAX_MESSAGE_BYTES: "2048" }, args: ["--max-message-bytes", "65536"] });
    const token2 = await addToken(flagWins.dataDir, "alice");
    const big = await rawConnect(flagWins.url, token2);
    big.send(new Uint8Array(10_000));
    // Accepted as a frame, refused as a message: not CBOR.
    expect((await big.closed).code).toBe(4002);
  });

  it("two automerge-repo clients sync a document through it", async () => {
    const r = await relay();
    const token = await addToken(r.dataDir, "alice");
    const a = client(r.url, token);
    const b = client(r.url, token);
    const handle = a.create<{ text: string }>({ text: "hello" });
    const found = await eventually(() => b.find<{ text: string }>(handle.url), 10_000, 250);
    expect(found.doc().text).toBe("hello");
    handle.change((d) => (d.text = "hello, world"));
    await eventually(() => found.doc().text === "hello, world");
    found.change((d) => (d.text += "!"));
    await eventually(() => handle.doc().text === "hello, world!");
  });

  it("SIGTERM: flushes what it holds and exits 0", async () => {
    const r = await relay({ args: ["--save-debounce-ms", "2000"] });
    const token = await addToken(r.dataDir, "alice");
    const a = client(r.url, token);
    const handle = a.create<{ n: number }>({ n: 0 });
    await eventually(() => documentFiles(r.dataDir).length > 0);
    // With a 2 s save debounce, these changes are in the relay's memory only...
    for (let i = 1; i <= 5; i++) handle.change((d) => (d.n = i));
    // Once the relay has them: its heads, as the client last heard them, are ours.
    const ours = JSON.stringify([...handle.heads()].sort());
    await eventually(() =>
      a.peers.some((peer) => {
        const storageId = a.getStorageIdOfPeer(peer);
        const theirs = storageId && handle.getSyncInfo(storageId)?.lastHeads;
        return !!theirs && JSON.stringify([...theirs].sort()) === ours;
      }),
    );
    // ...until SIGTERM flushes them.
    expect(await r.stop()).toBe(0);
    expect(r.logs()).toMatch(/everything flushed/);
    const again = await relay({ dataDir: r.dataDir });
    const b = client(again.url, token);
    const found = await eventually(() => b.find<{ n: number }>(handle.url), 10_000, 250);
    expect(found.doc().n).toBe(5);
  });
});
