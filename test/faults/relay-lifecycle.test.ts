// A relay's life as its clients live it: SIGKILLed mid-session and restarted (F4),
// restarted while a host is connecting (F11), tokens refused and revoked (S1, S2). Real
// relay processes through the CLI, real host processes, real sockets.
import { describe, expect, it } from "vitest";
import type { HostProcess } from "../support/host";
import { useProxies } from "../support/proxy";
import { addToken, documentFiles, eventually, freePort, metric, revokeToken, tempDir, upgradeStatus, useRelays } from "../support/relay";
import { converged, expectedText, useHosts } from "../support/replicas";
import { pace } from "../support/wait";

const relays = useRelays();
const host = useHosts();
const proxy = useProxies();

const range = (n: number, word: (i: number) => string) => Array.from({ length: n }, (_, i) => word(i));

/**
 * Types `words` one by one, `everyMs` apart, counting them in `progress.typed`; resolves
 * with the slowest type call (ms).
 */
async function typeAll(h: HostProcess, url: string, words: string[], at: "start" | "end", everyMs: number, progress = { typed: 0 }): Promise<number> {
  let slowest = 0;
  for (const word of words) {
    const started = Date.now();
    await h.type(url, word, at);
    slowest = Math.max(slowest, Date.now() - started);
    progress.typed++;
    await pace(everyMs);
  }
  return slowest;
}

/** A relay with one token, Ada and Bob on it, and a document Ada wrote and Bob has opened. */
async function sharedDocument(firstText: string, relayUrl?: (port: number) => Promise<string>) {
  const dataDir = tempDir();
  const token = await addToken(dataDir, "team");
  const r = await relays.relay({ dataDir, port: await freePort() });
  const [ada, bob] = await Promise.all([host("ada"), host("bob")]);
  const adaUrl = relayUrl ? await relayUrl(r.port) : r.url;
  await ada.addRelay("Team", adaUrl, token);
  await bob.addRelay("Team", r.url, token);
  const url = await ada.createDocument("Shared");
  await ada.type(url, firstText);
  await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 15_000);
  await bob.call("openSharedDocument", { url });
  await converged(url, [ada, bob]);
  return { dataDir, token, relay: r, ada, bob, url };
}

describe("relay lifecycle", () => {
  it("F4: the relay SIGKILLed while two hosts type and restarted: they reconnect by themselves, typing never waits, nothing is lost", async () => {
    const { dataDir, token, relay: first, ada, bob, url } = await sharedDocument("Before. ");
    const adaWords = range(80, (i) => `a${i} `);
    const bobWords = range(60, (i) => `b${i} `);
    const [adaTyped, bobTyped] = [{ typed: 0 }, { typed: 0 }];
    const typing = Promise.all([typeAll(ada, url, adaWords, "end", 50, adaTyped), typeAll(bob, url, bobWords, "start", 80, bobTyped)]);
    // Killed mid-session: both have typed a while, and go on typing.
    await eventually(() => adaTyped.typed >= 10 && bobTyped.typed >= 10, 20_000, 20);
    await first.kill();
    await eventually(async () => (await ada.syncStatus()).connection !== "connected" && (await bob.syncStatus()).connection !== "connected", 20_000, 100);
    // Both type on without the relay (ten words each, unless done) before it is back.
    const [adaDown, bobDown] = [adaTyped.typed, bobTyped.typed];
    await eventually(() => adaTyped.typed >= Math.min(adaDown + 10, adaWords.length) && bobTyped.typed >= Math.min(bobDown + 10, bobWords.length), 20_000, 20);
    const second = await relays.relay({ dataDir, port: first.port });
    const slowest = await typing;
    // Each keystroke was saved on the writer's machine without waiting for the relay.
    expect(Math.max(...slowest)).toBeLessThan(2000);

    const end = await converged(url, [ada, bob], [relays.client(second.url, token)], 60_000);
    expect(end.text).toBe(expectedText(bobWords, "Before. ", adaWords));
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay" && (await bob.syncStatus(url)).document === "on-relay", 30_000);
  });

  // Found by this suite: the relay used to answer with its heads as soon as a change was
  // in its memory, before its save (debounced), so the host showed "on-relay" for changes
  // a SIGKILL then lost. With a 1 s save debounce that lost them every time. Now a relay's
  // sync messages leave only once its copy is on disk (RelayServerAdapter#sendWhenStored).
  it("F4: every change the relay confirmed before it was SIGKILLed is on its disk after the restart", async () => {
    const dataDir = tempDir();
    const token = await addToken(dataDir, "team");
    const first = await relays.relay({ dataDir, port: await freePort(), args: ["--save-debounce-ms", "1000"] });
    const ada = await host("ada");
    await ada.addRelay("Team", first.url, token);
    const url = await ada.createDocument("Confirmed");
    for (let i = 0; i < 20; i++) await ada.type(url, `w${i} `);
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 15_000, 50);
    const confirmed = await ada.read(url);
    // Ada's machine is gone: only the relay's copy is left.
    await ada.kill();
    await first.kill();

    const second = await relays.relay({ dataDir, port: first.port });
    const carl = await host("carl");
    await carl.addRelay("Team", second.url, token);
    await carl.call("openSharedDocument", { url });
    const seen = await converged(url, [carl], [relays.client(second.url, token)], 30_000);
    expect(seen).toEqual(confirmed);
  });

  it("F11: a host whose connection reaches the relay while it starts up syncs as soon as it is ready", async () => {
    // A patient proxy holds the host's connection attempts while nothing listens, and
    // hands each to the relay the moment its port opens: the first bytes the restarted
    // relay sees are a host connecting.
    let line: Awaited<ReturnType<typeof proxy>> | undefined;
    const { dataDir, token, relay: first, ada, bob, url } = await sharedDocument("Before. ", async (port) => {
      line = await proxy(port, { patientMs: 60_000 });
      return line.url;
    });
    await first.stop();
    await eventually(async () => (await ada.syncStatus()).connection !== "connected", 20_000, 100);
    await ada.type(url, "while it was down. ");
    await bob.type(url, "Bob too. ", "start");
    const waitedBefore = line!.stats.waitedForTarget;
    // The relay starts only once a host's reconnection attempt is being held for it (the
    // hosts retry with backoff: started too soon, no attempt lands in the start-up; seen
    // in CI, where the relay was back before any host tried).
    const acceptedBefore = line!.stats.accepted;
    await eventually(() => line!.stats.accepted > acceptedBefore, 30_000, 50);
    const second = await relays.relay({ dataDir, port: first.port });
    const readyAt = Date.now();
    const end = await converged(url, [ada, bob], [relays.client(second.url, token)], 30_000);
    const syncedMs = Date.now() - readyAt;
    console.log(`F11: synced ${syncedMs} ms after the relay was ready; connections held for the relay: ${line!.stats.waitedForTarget - waitedBefore}`);
    expect(end.text).toBe("Bob too. Before. while it was down. ");
    expect(line!.stats.waitedForTarget).toBeGreaterThan(waitedBefore);
    // No stall: well within one heartbeat-and-backoff cycle of the relay being ready.
    expect(syncedMs).toBeLessThan(15_000);
  });

  it("F11: a host set up before its relay ever started syncs once the relay is up", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const token = await addToken(dataDir, "team");
    const ada = await host("ada");
    await ada.addRelay("Team", `ws://127.0.0.1:${port}`, token);
    const url = await ada.createDocument("Early");
    await ada.type(url, "written before the relay existed");
    const waiting = await eventually(async () => {
      const s = await ada.syncStatus(url);
      return s.error?.code === "unreachable" ? s : undefined;
    }, 15_000);
    expect(waiting!.connection).toBe("offline");
    const r = await relays.relay({ dataDir, port });
    const onRelay = relays.client(r.url, token);
    const end = await converged(url, [ada], [onRelay], 45_000);
    expect(end.text).toBe("written before the relay existed");
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 15_000);
  });

  it("S1: no token, a bad token or a revoked one get HTTP 401 at the upgrade; the host says so and the relay stores nothing", async () => {
    const dataDir = tempDir();
    const good = await addToken(dataDir, "alice");
    const gone = await addToken(dataDir, "gone");
    await revokeToken(dataDir, "gone");
    const r = await relays.relay({ dataDir });
    expect(await upgradeStatus(r.url)).toBe(401);
    expect(await upgradeStatus(`${r.url}/?token=wrong-token-wrong-token-wrong-token-xx`)).toBe(401);
    expect(await upgradeStatus(r.url, { Authorization: "Bearer nope" })).toBe(401);
    expect(await upgradeStatus(r.url, { Authorization: `Bearer ${gone}` })).toBe(401);
    expect(await upgradeStatus(`${r.url}/?token=${gone}`)).toBe(401);
    expect(await upgradeStatus(r.url, { Authorization: `Bearer ${good}` })).toBe(101);
    expect(await upgradeStatus(`${r.url}/?token=${good}`)).toBe(101);

    // Hosts with no token, a wrong one and a revoked one, each with a document to sync.
    const cases = [
      { name: "none", token: null },
      { name: "wrong", token: "wrong-token-wrong-token-wrong-token-xx" },
      { name: "revoked", token: gone },
    ];
    for (const { name, token } of cases) {
      const h = await host(name);
      await h.addRelay("Team", r.url, token);
      const url = await h.createDocument(`From ${name}`);
      await h.type(url, "must not reach the relay");
      let seen: unknown;
      const status = await eventually(async () => {
        const s = await h.syncStatus(url);
        seen = s;
        return s.error?.code === "unauthorized" ? s : undefined;
      }, 15_000).catch((error: unknown) => {
        // What the host said instead, and what it logged, for whoever reads the failure.
        throw new Error(`${String(error)}; the "${name}" host's last status: ${JSON.stringify(seen)}\n${h.output.join("")}`);
      });
      expect(status!.connection).not.toBe("connected");
      expect(status!.document).toBeNull();
      expect(status!.error!.message).toBe("Team: the relay did not accept this token (missing, wrong, revoked or expired)");
    }
    expect(documentFiles(r.dataDir)).toEqual([]);
    expect(await metric(r.url, "relay_rejected_connections_total", '{reason="missing-token"}')).toBeGreaterThanOrEqual(2);
    expect(await metric(r.url, "relay_rejected_connections_total", '{reason="bad-token"}')).toBeGreaterThanOrEqual(6);
    expect(await metric(r.url, "relay_documents_in_memory")).toBe(0);
  });

  it("S2: a token revoked while its host is connected: closed within seconds, the host says why, others keep syncing", async () => {
    const dataDir = tempDir();
    const [doomed, kept] = await Promise.all([addToken(dataDir, "doomed"), addToken(dataDir, "kept")]);
    const r = await relays.relay({ dataDir });
    const [ada, bob] = await Promise.all([host("ada"), host("bob")]);
    await ada.addRelay("Team", r.url, doomed);
    await bob.addRelay("Team", r.url, kept);
    const url = await ada.createDocument("Revoked");
    await ada.type(url, "Ada, still trusted. ");
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 15_000);
    await bob.call("openSharedDocument", { url });
    await converged(url, [ada, bob]);

    // From the operator's command (a process of its own) to the host cut off.
    const revokedAt = Date.now();
    await revokeToken(dataDir, "doomed");
    const status = await eventually(async () => {
      const s = await ada.syncStatus(url);
      return s.connection !== "connected" && s.error?.code === "unauthorized" ? s : undefined;
    }, 15_000, 100);
    const closedMs = Date.now() - revokedAt;
    console.log(`S2: the host was cut off ${closedMs} ms after the revocation`);
    // The CLI takes a second or two to start, the relay checks its token file every
    // second, the host polls: "within seconds", with room for a loaded machine.
    expect(closedMs).toBeLessThan(10_000);
    expect(status!.error!.message).toMatch(/^Team: the relay closed the connection: token revoked/);

    // What Ada writes now stays hers; Bob keeps syncing with the relay.
    await ada.type(url, "after the revocation. ");
    await bob.type(url, "Bob, still here. ", "start");
    const onRelay = relays.client(r.url, kept);
    const shared = await converged(url, [bob], [onRelay]);
    expect(shared.text).toBe("Bob, still here. Ada, still trusted. ");
    await eventually(async () => (await bob.syncStatus(url)).document === "on-relay", 10_000);
    expect((await ada.syncStatus()).connection).not.toBe("connected");
  });
});
