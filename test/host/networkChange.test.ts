import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Repo, type PeerId } from "@automerge/automerge-repo";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { RelaySync, relayTokenKey, watchNetwork } from "../../src/host/RelaySync";
import { plainTextCipher, SecretStore } from "../../src/host/secrets";
import { plainRelay } from "../support/plainRelay";
import { eventually, quietPeriod } from "../support/wait";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("a change of network", () => {
  it("is noticed once per change, and not without one", async () => {
    let network = "192.168.1.20";
    let changes = 0;
    const stop = watchNetwork(() => changes++, { fingerprint: () => network, everyMs: 20 });
    cleanups.push(stop);
    await quietPeriod(100, "several looks at an unchanged network");
    expect(changes).toBe(0);
    network = "10.0.0.7";
    await eventually(() => changes === 1, 2000, 10);
    await quietPeriod(100, "several more looks at the new, unchanged network");
    expect(changes).toBe(1);
  });

  it("makes the host try its relay at once, not at the end of a long pause", async () => {
    // A relay that refuses the token: the pause between attempts doubles (up to 30 s).
    const relay = await plainRelay("the right one");
    cleanups.push(() => relay.close());
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-network-"));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const secrets = await SecretStore.open(path.join(dir, "secrets.json"), plainTextCipher("test"), () => undefined);
    await secrets.set(relayTokenKey("relay0001"), "an old one");
    let network = "192.168.1.20";
    const sync = new RelaySync({
      relays: [{ id: "relay0001", name: "Team relay", url: relay.url }],
      secrets,
      logger: pino({ level: "silent" }),
      onConnected: () => undefined,
      network: { fingerprint: () => network, everyMs: 50 },
    });
    cleanups.push(() => sync.stop());
    const repo = new Repo({ network: [sync.adapter], peerId: "network-test" as PeerId });
    cleanups.push(() => repo.shutdown());

    // Wait for a pause of more than 1.5 s ahead.
    await eventually(() => sync.adapter.state.status === "waiting" && sync.adapter.state.retryAt - Date.now() > 1500, 30_000, 20);
    const state = sync.adapter.state;
    if (state.status !== "waiting") throw new Error("not waiting");
    let triedAt: number | undefined;
    cleanups.push(sync.adapter.onState((s) => void (s.status === "connecting" && (triedAt ??= Date.now()))));
    network = "10.0.0.7";
    const changed = Date.now();
    await eventually(() => triedAt !== undefined, 1000, 5);
    expect(triedAt!).toBeLessThan(state.retryAt);
    console.log(`tried again ${triedAt! - changed} ms after the network changed, ${state.retryAt - triedAt!} ms before the pause would have ended`);
  });
});
