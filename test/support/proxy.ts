// A TCP proxy of our own between a client and a relay (or between two peered relays),
// for the network faults of ../../../shared/FAILURE-MODES.md: cut every live connection,
// partition (connections stay open, nothing gets through either way), refuse new ones,
// slow every chunk down, and heal.
import net from "node:net";
import { afterEach } from "vitest";

export interface ProxyOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /**
   * While the target refuses connections (a relay restarting), keep retrying it for
   * this long with the client's connection held open, rather than closing it at once:
   * the client's connection then reaches the target the moment it starts listening.
   */
  patientMs?: number;
}

/** One client connection and its connection to the target. */
interface Link {
  client: net.Socket;
  upstream: net.Socket | null;
  /** Chunks held back by the delay, per direction, in order. */
  toUpstream: Buffer[];
  toClient: Buffer[];
}

type Mode = "open" | "partitioned" | "refusing";

/**
 * Listens on 127.0.0.1 and forwards every connection to `127.0.0.1:target`.
 *
 * A partition pauses both sockets of every link (new ones included, their target not
 * even dialled): bytes wait in the kernel's buffers as they would behind a dead router,
 * the endpoints' own heartbeats decide when to give up, and whatever they did not give
 * up on flows again, intact and in order, when the partition heals.
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #links = new Set<Link>();
  #target: number;
  #mode: Mode = "open";
  #delayMs = 0;
  readonly #patientMs: number;
  /** Connections accepted so far, and how many waited for the target to come up. */
  readonly stats = { accepted: 0, waitedForTarget: 0 };

  private constructor(server: net.Server, target: number, patientMs: number) {
    this.#server = server;
    this.#target = target;
    this.#patientMs = patientMs;
    server.on("connection", (client) => this.#accept(client));
  }

  static async start(target: number, options: ProxyOptions = {}): Promise<TcpProxy> {
    const server = net.createServer({ pauseOnConnect: true });
    const proxy = new TcpProxy(server, target, options.patientMs ?? 0);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    proxies.add(proxy);
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** `ws://127.0.0.1:PORT` */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Live client connections. */
  get connections(): number {
    return this.#links.size;
  }

  /** Forwards new connections to another port from now on (live ones keep theirs). */
  retarget(port: number): void {
    this.#target = port;
  }

  /** Destroys every live connection, both sides, as a dropped line would (reset). */
  cut(): void {
    for (const link of [...this.#links]) this.#close(link);
  }

  /** Nothing gets through either way, on live connections and new ones, until heal(). */
  partition(): void {
    this.#mode = "partitioned";
    for (const link of this.#links) {
      link.client.pause();
      link.upstream?.pause();
    }
  }

  /**
   * Every live connection dies without a word, for good: nothing passes either way and
   * nothing is closed, as when a laptop sleeps or its network changes. New connections
   * work as usual.
   */
  strand(): void {
    for (const link of this.#links) {
      link.client.pause();
      link.upstream?.pause();
    }
  }

  /** Cuts every live connection and resets new ones at once, until heal(). */
  refuse(): void {
    this.#mode = "refusing";
    this.cut();
  }

  /** Holds every chunk this long before passing it on (both ways, order kept). */
  delay(ms: number): void {
    this.#delayMs = ms;
  }

  /** Back to forwarding everything at once; a partition's held bytes flow again. */
  heal(): void {
    const was = this.#mode;
    this.#mode = "open";
    this.#delayMs = 0;
    if (was !== "partitioned") return;
    for (const link of [...this.#links]) {
      if (link.upstream) {
        link.client.resume();
        link.upstream.resume();
      } else {
        this.#dial(link, Date.now());
      }
    }
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    proxies.delete(this);
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.stats.accepted++;
    if (this.#mode === "refusing") {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: null, toUpstream: [], toClient: [] };
    this.#links.add(link);
    client.setNoDelay(true);
    client.on("error", () => this.#close(link));
    client.on("close", () => this.#close(link));
    client.on("data", (chunk: Buffer) => this.#forward(link, chunk, "toUpstream"));
    // Until its target answers, the client's bytes wait in the kernel (paused socket).
    if (this.#mode === "open") this.#dial(link, Date.now());
  }

  #dial(link: Link, since: number): void {
    const upstream = net.connect({ host: "127.0.0.1", port: this.#target });
    upstream.setNoDelay(true);
    upstream.once("connect", () => {
      if (!this.#links.has(link)) {
        upstream.destroy();
        return;
      }
      if (Date.now() - since > 50) this.stats.waitedForTarget++;
      link.upstream = upstream;
      upstream.on("data", (chunk: Buffer) => this.#forward(link, chunk, "toClient"));
      upstream.on("close", () => this.#close(link));
      if (this.#mode === "partitioned") upstream.pause();
      else link.client.resume();
    });
    let failed = false;
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (failed) return;
      failed = true;
      if (link.upstream === upstream) {
        this.#close(link);
        return;
      }
      // The target is not listening (yet): a patient proxy tries again.
      if (error.code === "ECONNREFUSED" && Date.now() - since < this.#patientMs && this.#links.has(link) && this.#mode !== "refusing") {
        setTimeout(() => this.#links.has(link) && this.#dial(link, since), 20);
        return;
      }
      this.#close(link);
    });
  }

  #forward(link: Link, chunk: Buffer, direction: "toUpstream" | "toClient"): void {
    const to = direction === "toUpstream" ? link.upstream : link.client;
    if (!to) return;
    if (this.#delayMs === 0 && link[direction].length === 0) {
      to.write(chunk);
      return;
    }
    // One timer per chunk, and a queue per direction so that a changed delay never
    // lets a later chunk overtake an earlier one.
    link[direction].push(chunk);
    setTimeout(() => {
      const next = link[direction].shift();
      if (next && !to.destroyed) to.write(next);
    }, this.#delayMs);
  }

  #close(link: Link): void {
    if (!this.#links.delete(link)) return;
    link.client.resetAndDestroy();
    link.upstream?.resetAndDestroy();
  }
}

const proxies = new Set<TcpProxy>();

/** Proxies for one test file, closed after each test whatever its outcome. */
export function useProxies(): (target: number, options?: ProxyOptions) => Promise<TcpProxy> {
  afterEach(async () => {
    await Promise.all([...proxies].map((p) => p.close()));
  });
  return (target, options) => TcpProxy.start(target, options);
}
