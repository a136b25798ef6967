// Network faults between real host processes and real relay processes, made by our own
// TCP proxy (test/support/proxy.ts): a writer cut off for a long session (F3), a host
// moving to another relay mid-session (F6), and a partition between peered relays (F12).
import { describe, expect, it } from "vitest";
import type { HostProcess } from "../support/host";
import { useProxies } from "../support/proxy";
import { addToken, eventually, tempDir, useRelays } from "../support/relay";
import { converged, expectedText, useHosts } from "../support/replicas";

const relays = useRelays();
const proxy = useProxies();
const host = useHosts();

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number, word: (i: number) => string) => Array.from({ length: n }, (_, i) => word(i));

/** Types `words` one by one at `at`, `everyMs` apart. */
async function typeAll(h: HostProcess, url: string, words: string[], at: "start" | "end", everyMs: number): Promise<void> {
  for (const word of words) {
    await h.type(url, word, at);
    await pause(everyMs);
  }
}

describe("network faults", () => {
  it("F3: a writer cut off by a partition types for a long session while another keeps editing; after the heal both have every edit", async () => {
    const dataDir = tempDir();
    const token = await addToken(dataDir, "team");
    const r = await relays.relay({ dataDir });
    const line = await proxy(r.port);
    const [ada, bob] = await Promise.all([host("ada"), host("bob")]);
    // Ada reaches the relay through the proxy, Bob directly.
    await ada.addRelay("Team", line.url, token);
    await bob.addRelay("Team", r.url, token);
    const url = await ada.createDocument("Offline session");
    await ada.type(url, "Shared start. ");
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 15_000);
    await bob.call("openSharedDocument", { url });
    await converged(url, [ada, bob]);

    // The line goes dead without closing: nothing tells Ada but her own heartbeat.
    line.partition();
    const adaWords = range(150, (i) => `a${i} `);
    const bobWords = range(60, (i) => `b${i} `);
    const typing = Promise.all([typeAll(ada, url, adaWords.slice(0, 100), "end", 60), typeAll(bob, url, bobWords, "start", 150)]);
    // Ada sees that she is offline (and why) while she keeps typing.
    const offline = await eventually(async () => {
      const s = await ada.syncStatus(url);
      return s.connection !== "connected" ? s : undefined;
    }, 30_000, 200);
    expect(offline!.document).toBeNull();
    await typing;
    await typeAll(ada, url, adaWords.slice(100), "end", 60);
    // Nothing of either side crossed the partition.
    expect((await ada.read(url)).text).toBe(expectedText([], "Shared start. ", adaWords));
    expect((await bob.read(url)).text).toBe(expectedText(bobWords, "Shared start. ", []));

    line.heal();
    const onRelay = relays.client(r.url, token);
    const end = await converged(url, [ada, bob], [onRelay], 60_000);
    expect(end.text).toBe(expectedText(bobWords, "Shared start. ", adaWords));
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay" && (await bob.syncStatus(url)).document === "on-relay", 30_000);
  });
});
