import { next as A } from "@automerge/automerge";
import { generateAutomergeUrl, parseAutomergeUrl, Repo, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { PortGuard } from "../../../src/main/PortGuard";
import { eventually } from "../../support/wait";

const HOST = "host-abc";
const PAGE = "renderer-1";
type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];

function syncData(): Uint8Array {
  return A.generateSyncMessage(A.from({ a: 1 }), A.initSyncState())[1]!;
}
const DOC = parseAutomergeUrl(generateAutomergeUrl()).documentId;

function arrived(): PortGuard {
  const guard = new PortGuard(HOST);
  expect(guard.check({ type: "arrive", senderId: PAGE, peerMetadata: {} })).toHaveProperty("message");
  return guard;
}

describe("PortGuard (what a renderer posts on its Electron sync port)", () => {
  it("lets the handshake and well-formed repo messages through, rebuilt from their checked fields", () => {
    const guard = arrived();
    const checked = guard.check({ type: "sync", senderId: PAGE, targetId: HOST, documentId: DOC, data: syncData(), extra: "dropped" });
    expect(checked).toHaveProperty("message");
    expect((checked as { message: Record<string, unknown> }).message.extra).toBeUndefined();
    // Ephemeral messages travel with their author, who may be another writer.
    expect(guard.check({ type: "ephemeral", senderId: "renderer-far", targetId: HOST, documentId: DOC, data: new Uint8Array([1]), count: 1, sessionId: "s1" })).toHaveProperty("message");
    expect(guard.check({ type: "leave", senderId: PAGE })).toHaveProperty("message");
  });

  it.each([
    ["null", null],
    ["an array", []],
    ["a string", "arrive"],
    ["a message before the arrival", { type: "sync", senderId: PAGE, targetId: HOST, documentId: DOC, data: new Uint8Array([1]) }],
    ["an arrival with the host's own peer ID", { type: "arrive", senderId: HOST }],
    ["an arrival with a bad peer ID", { type: "arrive", senderId: "../x" }],
    ["a leave before any arrival", { type: "leave", senderId: PAGE }],
    ["an arrival for another peer", { type: "arrive", senderId: PAGE, targetId: "someone-else" }],
  ])("refuses %s as the first message", (_, data) => {
    expect(new PortGuard(HOST).check(data)).toHaveProperty("refusal");
  });

  it.each([
    ["an arrival of a second peer", { type: "arrive", senderId: "renderer-2" }],
    ["a renderer claiming storage", { type: "welcome", senderId: PAGE, targetId: HOST, peerMetadata: { storageId: "x" } }],
    ["a sync message from another peer", { type: "sync", senderId: "renderer-2", targetId: HOST, documentId: DOC, data: syncData() }],
    ["a message for another peer", { type: "sync", senderId: PAGE, targetId: "host-other", documentId: DOC, data: syncData() }],
    ["sync data that is not Automerge", { type: "sync", senderId: PAGE, targetId: HOST, documentId: DOC, data: new Uint8Array([1, 2, 3]) }],
    ["a hostile document ID", { type: "request", senderId: PAGE, targetId: HOST, documentId: "../../etc", data: syncData() }],
    ["__proto__ as a document ID", { type: "sync", senderId: PAGE, targetId: HOST, documentId: "__proto__", data: syncData() }],
    ["an unknown type", { type: "explode", senderId: PAGE, targetId: HOST }],
    ["a peer message", { type: "peer", senderId: PAGE, targetId: HOST, peerMetadata: {}, selectedProtocolVersion: "1" }],
    ["a leave from another peer", { type: "leave", senderId: "renderer-2" }],
  ])("refuses %s", (_, data) => {
    expect(arrived().check(data)).toHaveProperty("refusal");
  });
});

describe("a renderer and a host through a guarded port", () => {
  const repos: Repo[] = [];
  afterEach(async () => {
    await Promise.all(repos.splice(0).map((r) => r.shutdown().catch(() => undefined)));
  });

  it("sync, as the app does it, is never refused", async () => {
    const { port1, port2 } = new MessageChannel();
    const refusals: string[] = [];
    const host = new Repo({ network: [], peerId: HOST as PeerId });
    const guard = new PortGuard(HOST);
    // The guard between the port and the host's adapter, as src/main's domPort puts it.
    const guarded = {
      postMessage: (m: unknown) => port1.postMessage(m),
      addEventListener: (type: string, listener: (e: { data: unknown }) => void) => {
        if (type !== "message") return;
        port1.on("message", (data: unknown) => {
          const checked = guard.check(data);
          if ("refusal" in checked) refusals.push(checked.refusal);
          else listener({ data: checked.message });
        });
      },
      removeEventListener: () => undefined,
      start: () => port1.start(),
      close: () => port1.close(),
    } as unknown as Port;
    host.networkSubsystem.addNetworkAdapter(new MessageChannelNetworkAdapter(guarded));
    const page = new Repo({ network: [new MessageChannelNetworkAdapter(port2 as unknown as Port)], peerId: PAGE as PeerId });
    repos.push(host, page);
    const handle = page.create<{ text: string }>({ text: "hello" });
    handle.broadcast({ hello: true });
    await eventually(() => refusals.length > 0 || Object.keys(host.peers).length > 0, 5000);
    expect(refusals).toEqual([]);
    const found = await host.find<{ text: string }>(handle.url);
    handle.change((d) => (d.text = "hello, host"));
    await eventually(() => found.doc().text === "hello, host", 5000);
    expect(refusals).toEqual([]);
  });
});
