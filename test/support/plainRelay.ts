import http from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { Repo, type Chunk, type PeerId, type StorageAdapterInterface, type StorageKey } from "@automerge/automerge-repo";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";

/** An HTTP server on a free loopback port; `onUpgrade` decides what each upgrade gets. */
export async function upgradeServer(onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Once upgraded, the socket is ours: the server no longer handles its errors. A
    // client that gives up while refused resets it (ECONNRESET), which without a
    // listener is an uncaught exception that fails the whole run (as the real relay
    // does, sync-server/Relay.ts).
    socket.on("error", () => undefined);
    onUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface PlainRelay {
  url: string;
  repo: Repo;
  server: WebSocketServer;
  close(): Promise<void>;
}

/**
 * A stock automerge-repo relay in this process that lets in only `token`: enough to
 * test a client's side of syncing without starting the real relay. It has storage
 * (in memory by default) because a relay without any tells clients nothing of its
 * heads: automerge-repo reports remote heads per storage ID.
 */
export async function plainRelay(token: string, storage: StorageAdapterInterface = new MemoryStorage(), port = 0): Promise<PlainRelay> {
  const wss = new WebSocketServer({ noServer: true });
  const repo = new Repo({ network: [new WebSocketServerAdapter(wss as never)], storage, peerId: `relay-${Math.random().toString(36).slice(2)}` as PeerId, sharePolicy: async () => false });
  const server = await upgradeServer((req, socket, head) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      // As the real relay says it (sync-server/Relay.ts): clients tell a relay's refusal from any other server's.
      socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="writer-relay"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  }, port);
  return {
    url: server.url,
    repo,
    server: wss,
    close: async () => {
      await repo.shutdown();
      wss.close();
      await server.close();
    },
  };
}


/** Storage in a Map, for relays in tests. */
export class MemoryStorage implements StorageAdapterInterface {
  readonly #data = new Map<string, Uint8Array>();

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    return this.#data.get(key.join("/"));
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    this.#data.set(key.join("/"), data);
  }

  async remove(key: StorageKey): Promise<void> {
    this.#data.delete(key.join("/"));
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const p = prefix.join("/");
    return [...this.#data].filter(([k]) => k === p || k.startsWith(p + "/")).map(([k, data]) => ({ key: k.split("/"), data }));
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    for (const { key } of await this.loadRange(prefix)) this.#data.delete(key.join("/"));
  }
}
