import { MessageChannel } from "node:worker_threads";
import { Repo, type NetworkAdapterInterface } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { afterEach, describe, expect, it } from "vitest";
import { readyWhenPeered } from "../../src/shared/sync/readyWhenPeered";

type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];
const repos: Repo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.shutdown()));
});

/** A host with one document that answers its window only after `lateMs` (a loaded machine). */
async function slowHost(lateMs: number, wrap: (a: NetworkAdapterInterface) => NetworkAdapterInterface) {
  const { port1, port2 } = new MessageChannel();
  const host = new Repo({ network: [] });
  repos.push(host);
  const handle = host.create<{ words: string }>();
  handle.change((d) => (d.words = "still here"));
  const window = new Repo({ network: [wrap(new MessageChannelNetworkAdapter(port2 as unknown as Port))] });
  repos.push(window);
  setTimeout(() => host.networkSubsystem.addNetworkAdapter(new MessageChannelNetworkAdapter(port1 as unknown as Port)), lateMs);
  return { window, url: handle.url };
}

describe("a window's adapter is ready once its host has answered", () => {
  it("finds the host's document though the host answers after 300 ms", async () => {
    const { window, url } = await slowHost(300, (a) => readyWhenPeered(a));
    const found = await window.find<{ words: string }>(url);
    expect(found.doc().words).toBe("still here");
  });

  it("(without it, the same window decides at 100 ms that nobody has the document)", async () => {
    const { window, url } = await slowHost(300, (a) => a);
    await expect(window.find(url)).rejects.toThrow(/unavailable/);
  });
});
