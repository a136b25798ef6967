import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { cbor, Repo, type PeerId } from "@automerge/automerge-repo";
import { plainRelay as startPlainRelay, upgradeServer } from "../support/plainRelay";
import { eventually } from "../support/wait";
import { RelayClientAdapter, type RelayConnectionState } from "../../src/node/sync/RelayClientAdapter";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(onUpgrade: Parameters<typeof upgradeServer>[0]): Promise<string> {
  const s = await upgradeServer(onUpgrade);
  cleanups.push(() => s.close());
  return s.url;
}

async function plainRelay(token: string) {
  const relay = await startPlainRelay(token);
  cleanups.push(() => relay.close());
  return relay;
}

function client(endpoints: { url: string; token: string | null }[]) {
  const adapter = new RelayClientAdapter({ endpoints, backoff: { initialMs: 100, maxMs: 400 }, handshakeTimeoutMs: 1000 });
  const states: RelayConnectionState[] = [];
  adapter.onState((s) => states.push(s));
  const repo = new Repo({ network: [adapter], peerId: `client-${Math.random()}` as PeerId });
  cleanups.push(() => repo.shutdown());
  return { adapter, repo, states };
}

describe("RelayClientAdapter", () => {
  it("syncs a document with a relay through a bearer token", async () => {
    const relay = await plainRelay("secret");
    const a = client([{ url: relay.url, token: "secret" }]);
    const b = client([{ url: relay.url, token: "secret" }]);
    await eventually(() => a.adapter.state.status === "connected" && b.adapter.state.status === "connected");
    const handle = a.repo.create({ text: "hello" });
    const found = await b.repo.find<{ text: string }>(handle.url);
    expect(found.doc().text).toBe("hello");
  });

  it("reports a refused token as unauthorized and keeps retrying with backoff", async () => {
    const relay = await plainRelay("secret");
    const a = client([{ url: relay.url, token: "wrong" }]);
    await eventually(() => a.adapter.state.status === "waiting");
    const state = a.adapter.state;
    expect(state.status === "waiting" && state.lastError.code).toBe("unauthorized");
    await eventually(() => a.states.filter((s) => s.status === "connecting").length >= 3);
  });

  it("fails over down the list when the first relay is unreachable, and says why", async () => {
    const dead = await server((_req, socket) => socket.destroy());
    const relay = await plainRelay("secret");
    const a = client([{ url: "ws://127.0.0.1:1", token: "secret" }, { url: dead, token: "secret" }, { url: relay.url, token: "secret" }]);
    await eventually(() => a.adapter.state.status === "connected");
    expect(a.adapter.state).toMatchObject({ status: "connected", url: relay.url });
    const tried = a.states.filter((s) => s.status === "connecting").map((s) => (s as { url: string }).url);
    expect(tried.slice(0, 3)).toEqual(["ws://127.0.0.1:1", dead, relay.url]);
    expect(a.states.find((s) => s.status === "connecting" && s.lastError?.code === "unreachable")).toBeDefined();
  });

  it("names a protocol version mismatch and a relay that speaks garbage", async () => {
    const wss = new WebSocketServer({ noServer: true });
    cleanups.push(() => void wss.close());
    let mode: "version" | "garbage" = "version";
    const url = await server((req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        ws.on("message", (data: Buffer) => {
          const join = cbor.decode(new Uint8Array(data)) as { senderId: string };
          if (mode === "version") ws.send(cbor.encode({ type: "peer", senderId: "relay", selectedProtocolVersion: "9", targetId: join.senderId, peerMetadata: {} }));
          else ws.send(Buffer.from([0xff, 0x00, 0x13]));
        });
      }),
    );
    const a = client([{ url, token: null }]);
    await eventually(() => a.adapter.state.status === "waiting");
    expect(a.adapter.state.status === "waiting" && a.adapter.state.lastError.code).toBe("version-mismatch");
    mode = "garbage";
    await eventually(() => a.adapter.state.status === "waiting" && a.adapter.state.lastError.code === "protocol");
    expect(a.adapter.state.status === "waiting" && a.adapter.state.lastError.message).toMatch(/not valid CBOR/);
  });

  it("reconnects by itself when the relay comes back, and the Repo resyncs", async () => {
    const relay = await plainRelay("secret");
    const a = client([{ url: relay.url, token: "secret" }]);
    await eventually(() => a.adapter.state.status === "connected");
    const handle = a.repo.create({ n: 1 });
    await eventually(() => relay.repo.handles[handle.documentId]?.isReady() === true);
    // Cut every socket from the relay's side: the client must notice and come back.
    for (const ws of relay.server.clients) ws.terminate();
    await eventually(() => a.states.some((s) => s.status === "connecting" && s.lastError !== null));
    await eventually(() => a.adapter.state.status === "connected");
    handle.change((d) => (d.n = 2));
    await eventually(() => (relay.repo.handles[handle.documentId]?.doc() as { n: number } | undefined)?.n === 2);
  });
});
