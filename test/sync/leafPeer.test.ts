import { MessageChannel } from "node:worker_threads";
import { Repo, type DocHandle, type Message, type NetworkAdapterInterface } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { afterEach, describe, expect, it } from "vitest";
import { leafPeer } from "../../src/shared/sync/leafPeer";
import { eventually, quietPeriod } from "../support/wait";

type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];
const repos: Repo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.shutdown()));
});

/**
 * A host with two windows on one document. Returns what the host received from window
 * B, message by message, and each window's handle.
 */
async function hostWithTwoWindows(wrapB: (a: NetworkAdapterInterface) => NetworkAdapterInterface) {
  const host = new Repo({ network: [] });
  repos.push(host);
  const doc = host.create<{ words: string }>({ words: "hello" });
  const fromB: Message[] = [];
  const windows: DocHandle<{ words: string }>[] = [];
  for (const name of ["A", "B"]) {
    const { port1, port2 } = new MessageChannel();
    const hostSide = new MessageChannelNetworkAdapter(port1 as unknown as Port);
    if (name === "B") hostSide.on("message", (m) => fromB.push(m));
    host.networkSubsystem.addNetworkAdapter(hostSide);
    const windowSide = new MessageChannelNetworkAdapter(port2 as unknown as Port);
    const window = new Repo({ network: [name === "B" ? wrapB(windowSide) : windowSide] });
    repos.push(window);
    windows.push(await window.find<{ words: string }>(doc.url));
  }
  return { fromB, a: windows[0]!, b: windows[1]! };
}

describe("a window (leafPeer) sends only its own ephemeral messages", () => {
  it("gets window A's broadcasts, hands none back, and its own still reach A", async () => {
    const { fromB, a, b } = await hostWithTwoWindows((adapter) => leafPeer(adapter));
    const atB: unknown[] = [];
    const atA: unknown[] = [];
    b.on("ephemeral-message", ({ message }) => atB.push(message));
    a.on("ephemeral-message", ({ message }) => atA.push(message));
    for (let i = 0; i < 5; i++) a.broadcast({ from: "A", i });
    await eventually(() => atB.length === 5, 5000);
    b.broadcast({ from: "B" });
    await eventually(() => atA.length === 1, 5000);
    await quietPeriod(200, "an echo of A's broadcasts would have come back from B by now");
    const ephemeral = fromB.filter((m) => m.type === "ephemeral");
    expect(ephemeral).toHaveLength(1);
    expect(atA).toEqual([{ from: "B" }]);
    // Sync still goes both ways.
    b.change((d) => (d.words = "hello from B"));
    await eventually(() => a.doc().words === "hello from B", 5000);
  });

  it("(without it, window B hands each of A's broadcasts back to the host)", async () => {
    const { fromB, a, b } = await hostWithTwoWindows((adapter) => adapter);
    const atB: unknown[] = [];
    b.on("ephemeral-message", ({ message }) => atB.push(message));
    for (let i = 0; i < 5; i++) a.broadcast({ from: "A", i });
    await eventually(() => atB.length === 5, 5000);
    await eventually(() => fromB.filter((m) => m.type === "ephemeral").length === 5, 5000);
  });
});
