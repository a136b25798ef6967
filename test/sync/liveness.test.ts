/**
 * Liveness (src/node/sync/liveness.ts): a connection is judged by how long nothing came
 * from it, it is pinged only when quiet, and a stall of this process's own event loop
 * is never taken for the other end's silence.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Liveness, watchSocket } from "../../src/node/sync/liveness";
import { quietPeriod } from "../support/wait";

describe("Liveness", () => {
  it("pings once after the quiet period, and calls a connection dead only after the silence", () => {
    const l = new Liveness({ pingAfterMs: 1000, deadAfterMs: 5000 }, 0);
    expect(l.check(999)).toBe("alive");
    expect(l.check(1000)).toBe("ping");
    l.pinged(1000);
    expect(l.check(1500)).toBe("alive");
    expect(l.unansweredMs(1500)).toBe(500);
    expect(l.check(4999)).toBe("alive");
    expect(l.check(5000)).toBe("dead");
  });

  it("starts over whenever anything is heard", () => {
    const l = new Liveness({ pingAfterMs: 1000, deadAfterMs: 5000 }, 0);
    l.pinged(1000);
    l.heard(4000);
    expect(l.unansweredMs(4000)).toBe(0);
    expect(l.check(4999)).toBe("alive");
    expect(l.check(5000)).toBe("ping");
    expect(l.check(8999)).not.toBe("dead");
    expect(l.check(9000)).toBe("dead");
  });

  it("refuses times that cannot work", () => {
    expect(() => new Liveness({ pingAfterMs: 0, deadAfterMs: 10 })).toThrow(RangeError);
    expect(() => new Liveness({ pingAfterMs: 100, deadAfterMs: 100 })).toThrow(RangeError);
  });
});

/**
 * A WebSocket server in a worker thread (its own event loop, so that blocking this one
 * does not silence it): "chatty" sends a frame every 20 ms, "mute" stops reading after
 * the first frame, so it answers nothing, pings included.
 */
async function serverInWorker(mode: "chatty" | "mute"): Promise<{ url: string; worker: Worker }> {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require("node:worker_threads");
    const { WebSocketServer } = require(workerData.ws);
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" }, () => parentPort.postMessage(wss.address().port));
    wss.on("connection", (socket) => {
      if (workerData.mode === "chatty") {
        const timer = setInterval(() => socket.send("tick"), 20);
        socket.on("close", () => clearInterval(timer));
      } else {
        socket.once("message", () => socket._socket.pause());
      }
    });
    `,
    { eval: true, workerData: { mode, ws: createRequire(import.meta.url).resolve("ws") } },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  workers.push(worker);
  return { url: `ws://127.0.0.1:${port}`, worker };
}

const workers: Worker[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

async function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  sockets.push(socket);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  return socket;
}

describe("watchSocket", () => {
  it("gives up a peer that stops answering, after the silence and not before", async () => {
    const { url } = await serverInWorker("mute");
    const socket = await open(url);
    socket.send("hello");
    const started = Date.now();
    const silent = await new Promise<number>((resolve) => watchSocket(socket, { pingAfterMs: 100, deadAfterMs: 400 }, resolve));
    const elapsed = Date.now() - started;
    expect(silent).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeGreaterThanOrEqual(400);
  });

  it("does not take a stall of its own event loop for the other end's silence", async () => {
    const { url } = await serverInWorker("chatty");
    const socket = await open(url);
    let dead = false;
    const stop = watchSocket(socket, { pingAfterMs: 100, deadAfterMs: 300 }, () => (dead = true));
    // Block this thread for twice the dead time: the server keeps talking meanwhile, and
    // its frames wait in the socket until the loop turns again.
    const until = Date.now() + 600;
    while (Date.now() < until) {
      // busy
    }
    await quietPeriod(200, "several of the watcher's turns after the stall (it checks every 50 ms here): none may call the server dead");
    stop();
    expect(dead).toBe(false);
  });
});
