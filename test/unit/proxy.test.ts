// The fault suite's TCP proxy (test/support/proxy.ts) against an echo server on loopback.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/ports";
import { useProxies } from "../support/proxy";
import { eventually, quietPeriod } from "../support/wait";

const proxy = useProxies();
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** An echo server; `accepted` counts its connections. */
async function echo(port = 0): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
}

/** A client socket and everything it has received, as text. */
function connect(port: number): { socket: net.Socket; received: () => string; closed: Promise<void> } {
  const socket = net.connect(port, "127.0.0.1");
  sockets.push(socket);
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, received: () => text, closed };
}

describe("TcpProxy", () => {
  it("forwards both ways, and cut() closes live connections", async () => {
    const target = await echo();
    const p = await proxy(target.port);
    const c = connect(p.port);
    c.socket.write("hello");
    await eventually(() => c.received() === "hello", 5000, 20);
    expect(p.connections).toBe(1);
    p.cut();
    await c.closed;
    expect(p.connections).toBe(0);
  });

  it("a partition holds bytes of live and new connections, and heal() delivers them in order", async () => {
    const target = await echo();
    const p = await proxy(target.port);
    const live = connect(p.port);
    live.socket.write("a");
    await eventually(() => live.received() === "a", 5000, 20);
    p.partition();
    live.socket.write("b");
    live.socket.write("c");
    const fresh = connect(p.port);
    fresh.socket.write("new");
    await eventually(() => p.stats.accepted === 2, 5000, 20);
    await quietPeriod(300, "a partition lets nothing through, either way: no byte may cross in 300 ms");
    expect(live.received()).toBe("a");
    expect(fresh.received()).toBe("");
    // The new connection never reached the other side of the partition.
    expect(target.accepted()).toBe(1);
    p.heal();
    await eventually(() => live.received() === "abc" && fresh.received() === "new", 5000, 20);
  });

  it("refuse() resets new connections until heal()", async () => {
    const target = await echo();
    const p = await proxy(target.port);
    p.refuse();
    const refused = connect(p.port);
    await refused.closed;
    expect(target.accepted()).toBe(0);
    p.heal();
    const ok = connect(p.port);
    ok.socket.write("back");
    await eventually(() => ok.received() === "back", 5000, 20);
  });

  it("delay() holds every chunk back", async () => {
    const target = await echo();
    const p = await proxy(target.port);
    p.delay(300);
    const c = connect(p.port);
    await new Promise((resolve) => c.socket.once("connect", resolve));
    const sent = Date.now();
    c.socket.write("slow");
    await eventually(() => c.received() === "slow", 5000, 10);
    // Once on the way there, once on the way back.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(550);
  });

  it("a patient proxy holds a connection until its target starts listening", async () => {
    const port = await freePort();
    const p = await proxy(port, { patientMs: 5000 });
    const c = connect(p.port);
    c.socket.write("early");
    await eventually(() => p.connections === 1, 5000, 20);
    await quietPeriod(300, "nothing listens yet, for longer than the proxy's 50 ms 'waited' mark: it must hold the connection, not drop it");
    expect(p.connections).toBe(1);
    await echo(port);
    await eventually(() => c.received() === "early", 5000, 20);
    expect(p.stats.waitedForTarget).toBe(1);
  });
});
