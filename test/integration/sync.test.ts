/**
 * Real host processes syncing through real relay processes over loopback: co-editing
 * and failover to a peered relay. The fault rows (a relay killed and restarted, F4, and
 * the rest) are in test/faults.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HostProcess } from "../support/host";
import { addToken, eventually, revokeToken, tempDir, useRelays } from "../support/relay";

const { relay } = useRelays();
const hosts: HostProcess[] = [];

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.kill()));
});

async function host(name: string, dataDir?: string): Promise<HostProcess> {
  const h = await HostProcess.start({ name, dataDir });
  hosts.push(h);
  return h;
}

/** Both hosts have the same text and the same heads for `url`. */
async function converged(url: string, ...hs: HostProcess[]): Promise<string> {
  return eventually<string | undefined>(async () => {
    const reads = await Promise.all(hs.map((h) => h.read(url).catch(() => null)));
    if (reads.some((r) => r === null)) return undefined;
    const [first, ...rest] = reads as { text: string; heads: string[] }[];
    return rest.every((r) => r.text === first!.text && r.heads.join() === first!.heads.join()) ? first!.text : undefined;
  }, 15_000) as Promise<string>;
}

/** A relay with one token, Ada and Bob on it, and a document Ada wrote and Bob has opened. */
async function sharedDocument(title: string, firstText: string) {
  const dataDir = tempDir();
  const token = await addToken(dataDir, "team");
  const r = await relay({ dataDir });
  const [ada, bob] = await Promise.all([host("ada"), host("bob")]);
  await ada.addRelay("Team", r.url, token);
  await bob.addRelay("Team", r.url, token);
  const url = await ada.createDocument(title);
  await ada.type(url, firstText);
  await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 10_000);
  await bob.call("openSharedDocument", { url });
  await converged(url, ada, bob);
  return { dataDir, relay: r, ada, bob, url };
}

describe("hosts syncing through the relay", () => {
  it("two hosts co-edit one document through a relay and converge", async () => {
    const { ada, bob, url } = await sharedDocument("Together", "Ada writes. ");
    expect((await bob.read(url)).text).toContain("Ada writes.");
    // Both type at once, many times: every keystroke of both ends up on both.
    for (let i = 0; i < 20; i++) {
      await Promise.all([ada.type(url, `a${i} `), bob.type(url, `b${i} `, "start")]);
    }
    const text = await converged(url, ada, bob);
    for (let i = 0; i < 20; i++) {
      expect(text).toContain(`a${i} `);
      expect(text).toContain(`b${i} `);
    }
    expect((await ada.syncStatus(url)).document).toBe("on-relay");
  });

  it("when a relay dies for good, hosts fail over to a peered relay within seconds and keep syncing", async () => {
    const dirA = tempDir();
    const dirB = tempDir();
    const [clientA, clientB, peerAB, peerBA] = await Promise.all([addToken(dirA, "writers"), addToken(dirB, "writers"), addToken(dirB, "relay-a", { relay: true }), addToken(dirA, "relay-b", { relay: true })]);
    const a = await relay({ dataDir: dirA });
    const b = await relay({ dataDir: dirB, peers: [`${a.url}/?token=${peerBA}`] });
    // A learns of B after B's port is known: restart A with its peer.
    await a.stop();
    const a2 = await relay({ dataDir: dirA, port: a.port, peers: [`${b.url}/?token=${peerAB}`] });

    const [ada, bob] = await Promise.all([host("ada"), host("bob")]);
    // Ada prefers A and falls back to B; Bob uses only B.
    await ada.addRelay("A", a2.url, clientA);
    await ada.addRelay("B", b.url, clientB);
    await bob.addRelay("B", b.url, clientB);
    await eventually(async () => (await ada.syncStatus()).relay?.name === "A" && (await ada.syncStatus()).connection === "connected", 10_000);
    const url = await ada.createDocument("Failover");
    await ada.type(url, "written through A. ");
    await bob.call("openSharedDocument", { url });
    await converged(url, ada, bob);

    await a2.kill();
    const killedAt = Date.now();
    await eventually(async () => (await ada.syncStatus()).relay?.name === "B" && (await ada.syncStatus()).connection === "connected", 10_000);
    const failoverMs = Date.now() - killedAt;
    expect(failoverMs).toBeLessThan(10_000);
    console.log(`failover from A to B: ${failoverMs} ms after A was killed`);
    await ada.type(url, "written through B. ");
    const text = await converged(url, ada, bob);
    expect(text).toContain("written through A. ");
    expect(text).toContain("written through B. ");
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 10_000);
  });

  it("names a refused token, and a token revoked while connected, in the host's status", async () => {
    const dataDir = tempDir();
    const token = await addToken(dataDir, "ada");
    const r = await relay({ dataDir });
    const ada = await host("ada");
    const id = await ada.addRelay("Team", r.url, "not-the-token-0123456789abcdefghijklmnopqrstu");
    const refused = await eventually(async () => {
      const s = await ada.syncStatus();
      return s.error?.code === "unauthorized" ? s : undefined;
    }, 10_000);
    expect(refused!.connection).toBe("offline");
    expect(refused!.error?.message).toMatch(/^Team: .*token/);

    await ada.call("updateRelay", { id, token });
    await eventually(async () => (await ada.syncStatus()).connection === "connected", 10_000);
    await revokeToken(dataDir, "ada");
    const revoked = await eventually(async () => {
      const s = await ada.syncStatus();
      return s.connection !== "connected" && s.error?.code === "unauthorized" ? s : undefined;
    }, 15_000);
    expect(revoked!.error?.message).toMatch(/Team/);
  });

  it("tells the writer when the relay refuses changes from a read-only token, and keeps the relay's copy as it was", async () => {
    const dataDir = tempDir();
    const [full, readOnly] = await Promise.all([addToken(dataDir, "editor"), addToken(dataDir, "reader", { readOnly: true })]);
    const r = await relay({ dataDir });
    const [ada, rita] = await Promise.all([host("ada"), host("rita")]);
    await ada.addRelay("Team", r.url, full);
    await rita.addRelay("Team", r.url, readOnly);
    const url = await ada.createDocument("Read me");
    await ada.type(url, "Only Ada writes here.");
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 10_000);
    await rita.call("openSharedDocument", { url });
    await eventually(async () => (await rita.read(url).catch(() => null))?.text.includes("Only Ada writes here."), 10_000);

    await rita.type(url, " Rita tries.");
    const status = await eventually(async () => {
      const s = await rita.syncStatus(url);
      return s.error?.code === "refused" ? s : undefined;
    }, 10_000);
    expect(status!.error!.message).toMatch(/^Team: .*read-only/);
    expect(status!.document).toBe("pending");
    // Ada keeps receiving nothing of Rita's: the relay's copy never changed.
    await ada.type(url, " Ada again.");
    await eventually(async () => (await rita.read(url)).text.includes("Ada again."), 10_000);
    expect((await ada.read(url)).text).not.toContain("Rita tries.");

    // Comments are changes like any other: a reader sees Ada's, and cannot add one.
    await ada.comment(url, "Ada writes", "Is this true?");
    await eventually(async () => (await rita.comments(url)).some((c) => c.messages[0] === "Is this true?"), 10_000);
    await rita.comment(url, "Only", "Rita's comment");
    await ada.comment(url, "here", "A second one from Ada");
    await eventually(async () => (await rita.comments(url)).some((c) => c.messages[0] === "A second one from Ada"), 10_000);
    expect((await ada.comments(url)).map((c) => c.messages[0])).toEqual(["Is this true?", "A second one from Ada"]);
  });

  it("fails over within seconds from a relay that stops answering without closing (frozen, cut off)", async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const [tokenA, tokenB] = await Promise.all([addToken(dirA, "ada"), addToken(dirB, "ada")]);
    const [a, b] = await Promise.all([relay({ dataDir: dirA }), relay({ dataDir: dirB })]);
    const ada = await host("ada");
    await ada.addRelay("A", a.url, tokenA);
    await ada.addRelay("B", b.url, tokenB);
    await eventually(async () => (await ada.syncStatus()).relay?.name === "A" && (await ada.syncStatus()).connection === "connected", 10_000);
    // SIGSTOP: the socket stays open, nothing answers (as with a power cut or a partition).
    process.kill(a.pid, "SIGSTOP");
    const frozenAt = Date.now();
    try {
      await eventually(async () => (await ada.syncStatus()).relay?.name === "B" && (await ada.syncStatus()).connection === "connected", 20_000, 200);
      const failoverMs = Date.now() - frozenAt;
      console.log(`failover from a frozen relay: ${failoverMs} ms`);
      expect(failoverMs).toBeLessThan(15_000);
    } finally {
      process.kill(a.pid, "SIGCONT");
    }
  });
});
