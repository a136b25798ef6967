// The keystroke fast path (src/shared/sync/changeBroadcast.ts) through the real relay
// process and two real hosts, each with a renderer Repo on a MessageChannel as in
// Electron: a change reaches the other renderer, and nobody sends an echo.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MessageChannel } from "node:worker_threads";
import { next as A } from "@automerge/automerge";
import { Repo, type DocHandle, type NetworkAdapterInterface, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Host } from "../../src/host/Host";
import { shareChangesFast } from "../../src/shared/sync/changeBroadcast";
import { addToken, eventually, metric, useRelays } from "../support/relay";
import { pace, quietPeriod, settled } from "../support/wait";

type Doc = { text: string };
type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];

const { relay } = useRelays();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A host on a fresh directory, with the relay in its settings, and its renderer Repo. */
async function desktop(name: string, relayUrl: string, token: string): Promise<{ host: Host; renderer: Repo; received: { ephemeral: string[] } }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `fast-path-${name}-`));
  const host = await Host.open({ dataDir, user: { name }, logger: pino({ level: "silent" }) });
  const { port1, port2 } = new MessageChannel();
  host.connect(new MessageChannelNetworkAdapter(port1 as unknown as Port));
  const adapter: NetworkAdapterInterface = new MessageChannelNetworkAdapter(port2 as unknown as Port);
  const received = { ephemeral: [] as string[] };
  adapter.on("message", (m) => {
    if (m.type === "ephemeral") received.ephemeral.push(m.senderId);
  });
  const renderer = new Repo({ network: [adapter], peerId: `renderer-${name}` as PeerId, syncDebounceRate: 0 });
  cleanups.push(() => host.close(), () => renderer.shutdown(), () => fs.rm(dataDir, { recursive: true, force: true }));
  const added = await host.handle({ method: "addRelay", name: "team", url: relayUrl, token });
  if (!added.ok) throw new Error(added.error.message);
  return { host, renderer, received };
}

describe("the keystroke fast path", () => {
  it("carries every keystroke renderer to renderer through two hosts and the relay, with no echoes", async () => {
    const r = await relay();
    const token = await addToken(r.dataDir, "team");
    const ada = await desktop("ada", r.url, token);
    const bob = await desktop("bob", r.url, token);
    const created = ada.host.repo.create<Doc>({ text: "" });
    // The relay stores it first; then both renderers open it through their hosts.
    await eventually(async () => (await ada.host.handle({ method: "syncStatus", url: created.url })).ok && (await metric(r.url, "relay_documents_in_memory")) > 0, 20_000, 200);
    const a: DocHandle<Doc> = await eventually(() => ada.renderer.find<Doc>(created.url), 20_000, 250);
    const b: DocHandle<Doc> = await eventually(() => bob.renderer.find<Doc>(created.url), 20_000, 250);
    shareChangesFast(a);
    shareChangesFast(b);
    // The opening sync is over (the relay's traffic has stopped) before counting.
    const counts = ["relay_messages_received_total", "relay_messages_sent_total"].flatMap((name) => ['{type="sync"}', '{type="ephemeral"}'].map((labels) => [name, labels] as const));
    await settled(async () => (await Promise.all(counts.map(([name, labels]) => metric(r.url, name, labels)))).join(), 300);
    const before = await metric(r.url, "relay_messages_received_total", '{type="ephemeral"}');
    const sentBefore = await metric(r.url, "relay_messages_sent_total", '{type="ephemeral"}');

    for (const ch of "keystrokes") {
      a.change((d) => A.splice(d, ["text"], d.text.length, 0, ch));
      await pace(20);
    }
    await eventually(() => b.doc().text === "keystrokes", 10_000);
    // In Bob's host too, on its disk (in its document worker: it had nothing of it on disk).
    await eventually(async () => {
      const saved = await bob.host.handle({ method: "confirmSaved", url: created.url, heads: A.getHeads(b.doc()) });
      return saved.ok && (saved.value as { saved: boolean }).saved;
    }, 10_000);
    await eventually(async () => (await metric(r.url, "relay_messages_sent_total", '{type="ephemeral"}')) - sentBefore >= 10 && bob.received.ephemeral.length >= 10, 10_000);
    await quietPeriod(500, "an echo would follow the last broadcast: none may reach the relay or Ada's renderer");

    // Ten broadcasts reached the relay: Ada's host's, none echoed back by Bob's host;
    // and ten left it, to Bob's host, none echoed back to Ada's.
    expect((await metric(r.url, "relay_messages_received_total", '{type="ephemeral"}')) - before).toBe(10);
    expect((await metric(r.url, "relay_messages_sent_total", '{type="ephemeral"}')) - sentBefore).toBe(10);
    // Bob's renderer got all ten; Ada's none of its own back.
    expect(bob.received.ephemeral.filter((s) => s === "renderer-ada")).toHaveLength(10);
    expect(ada.received.ephemeral).toEqual([]);
    // And sync agrees: the same heads everywhere.
    const heads = [...a.heads()].sort();
    expect([...b.heads()].sort()).toEqual(heads);
    await eventually(() => JSON.stringify([...ada.host.repo.handles[a.documentId]!.heads()].sort()) === JSON.stringify(heads));
  });
});
