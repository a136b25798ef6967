import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { cbor, Repo, type PeerId } from "@automerge/automerge-repo";
import { plainRelay as startPlainRelay, upgradeServer } from "../support/plainRelay";
import { eventually, quietPeriod } from "../support/wait";
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

async function plainRelay(token: string, port = 0) {
  const relay = await startPlainRelay(token, undefined, port);
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
  it("an attempt given up for a new relay list does not act later: the new connection stays the only one", async () => {
    // A server that takes the upgrade and never answers: the attempt waits for its handshake timeout.
    const held: { destroy(): void }[] = [];
    const stalled = await server((_req, socket) => void held.push(socket));
    cleanups.push(() => held.forEach((socket) => socket.destroy()));
    const relay = await plainRelay("secret");
    const opened: WebSocket[] = [];
    relay.server.on("connection", (ws: WebSocket) => opened.push(ws));
    const a = client([{ url: stalled, token: "secret" }]);
    await eventually(() => a.adapter.state.status === "connecting");
    a.adapter.setEndpoints([{ url: relay.url, token: "secret" }]);
    await eventually(() => a.adapter.state.status === "connected");
    // The stalled attempt's handshake timeout (1 s) passes: nothing may change.
    await quietPeriod(1500, "past the abandoned attempt's 1 s handshake timeout");
    expect(a.adapter.state).toMatchObject({ status: "connected", url: relay.url });
    expect(opened.filter((ws) => ws.readyState === ws.OPEN)).toHaveLength(1);
    expect(a.states.filter((s) => s.status === "connecting" && s.url === relay.url)).toHaveLength(1);
  });

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

  it("tells a server that is not a relay from a refused token", async () => {
    const web = await server((_req, socket) => socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
    const other = await server((_req, socket) => socket.end("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"intranet\"\r\nContent-Length: 0\r\n\r\n"));
    for (const url of [web, other]) {
      const a = client([{ url, token: "secret" }]);
      await eventually(() => a.adapter.state.status === "waiting");
      const state = a.adapter.state;
      expect(state.status === "waiting" && state.lastError).toMatchObject({ code: "refused", message: expect.stringMatching(/is not a Writer relay \(it answered HTTP 40[14]/) as string });
    }
  });

  it("is back within 1.5 s of the relay answering again, however long it was away; Try now does not wait at all", async () => {
    const port = await freePort();
    const adapter = new RelayClientAdapter({ endpoints: [{ url: `ws://127.0.0.1:${port}`, token: "secret" }] });
    const repo = new Repo({ network: [adapter], peerId: `client-${Math.random()}` as PeerId });
    cleanups.push(() => repo.shutdown());
    await quietPeriod(8000, "the relay is away long enough for a doubling backoff to reach several seconds");
    const waits: number[] = [];
    adapter.onState((s) => s.status === "waiting" && waits.push(s.retryAt - Date.now()));
    await eventually(() => waits.length > 0);
    // Every pause while nothing answers is 1.5 s at most (it was up to 30 s).
    expect(Math.max(...waits)).toBeLessThanOrEqual(1500);
    const relay = await plainRelay("secret", port);
    const back = Date.now();
    await eventually(() => adapter.state.status === "connected");
    const took = Date.now() - back;
    console.log(`back ${took} ms after the relay answered`);

    // Try now: from a pause of many seconds (a refused token backs off), at once.
    await relay.close();
    await plainRelay("other", port);
    await eventually(() => adapter.state.status === "waiting" && adapter.state.lastError.code === "unauthorized");
    const asked = Date.now();
    adapter.retryNow();
    expect(adapter.state.status).toBe("connecting");
    expect(Date.now() - asked).toBeLessThan(100);
  });
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}
