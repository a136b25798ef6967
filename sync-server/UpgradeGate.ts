import type http from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { clientAddress } from "./clientAddress";
import { CloseCode } from "../src/node/protocol";
import { hashesEqual, isExpired } from "./tokens";
import type { Metrics } from "./metrics";
import type { ConnectionLimits, Credential, RelayServerAdapter } from "./RelayServerAdapter";
import type { TokenWatch } from "./tokens";

export interface UpgradeGateOptions {
  adapter: RelayServerAdapter;
  tokens: TokenWatch;
  allowAnonymous: boolean;
  maxConnections: number;
  limits: ConnectionLimits;
  /** TCP connections that have not finished their HTTP request or upgrade; beyond it the oldest is dropped. */
  maxPendingUpgrades: number;
  /** Time a connection has to finish its HTTP request or upgrade. */
  requestTimeoutMs: number;
  /** Why the relay cannot take writers now (a relay cluster without its bus), if so: upgrades get 503 with this reason. */
  unavailable?: () => string | undefined;
  /** Client addresses come from X-Forwarded-For (see clientAddress). */
  trustProxy: boolean;
  logger: Logger;
  metrics: Metrics;
}

/** Unknown tokens one client address may try per window before its next ones are refused unread. */
const FAILED_ATTEMPTS_LIMIT = 10;
const FAILED_ATTEMPTS_WINDOW_MS = 60_000;
/** Addresses remembered at most (oldest forgotten first), so that the record cannot grow without bound. */
const FAILED_ATTEMPTS_ADDRESSES = 10_000;
/** A token read that takes this long is logged: revocations wait on it. */
const SLOW_TOKEN_READ_MS = 2000;

/**
 * The relay's door: every TCP connection until it has sent a whole request, and every
 * WebSocket upgrade, which gets in only with a token the relay knows (or anonymously,
 * when allowed), within the relay's and the token's connection limits. A token revoked
 * in the token file closes its connections.
 */
export class UpgradeGate {
  readonly #options: UpgradeGateOptions;
  /** Sockets that have not yet sent a whole request or upgrade, oldest first, with when they came. */
  readonly #pending = new Map<Duplex, number>();
  /**
   * When each client address last sent unknown tokens (times within the window, oldest
   * first). An unknown token makes the relay reread its token file (a token added a
   * moment ago must work at once), so a client sending made-up tokens would have the
   * relay read the file for each; past the limit, its unknown tokens are refused without
   * it. Known tokens from the same address are never refused: an office behind one NAT
   * address keeps working while one of its machines has a wrong token.
   */
  readonly #failures = new Map<string, number[]>();
  #closing = false;
  /** The token read running now, and the one asked for meanwhile (see pollTokens). */
  #polling: Promise<void> | undefined;
  #pollAgain: Promise<void> | undefined;

  constructor(options: UpgradeGateOptions) {
    this.#options = options;
  }

  /** The relay is shutting down: every upgrade is refused from now on. */
  close(): void {
    this.#closing = true;
  }

  /** Connections that have not finished their request or upgrade. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * A new TCP connection: counted as pending until its request or upgrade is read. Past
   * the cap, the oldest pending one goes (a writer's upgrade takes milliseconds; sockets
   * held open without a request are the ones that wait), so that no one can hold every
   * socket the process has with half-sent requests.
   */
  connection(socket: Duplex): void {
    this.#pending.set(socket, Date.now());
    socket.once("close", () => this.#pending.delete(socket));
    while (this.#pending.size > this.#options.maxPendingUpgrades) {
      const oldest = this.#pending.keys().next().value!;
      this.#pending.delete(oldest);
      this.#options.metrics.inc("relay_rejected_connections_total", { reason: "too-many-pending" });
      oldest.destroy();
    }
  }

  /** The connection sent a whole HTTP request (not an upgrade). */
  requested(socket: Duplex): void {
    this.#pending.delete(socket);
  }

  /** Drops sockets that have not finished a request in requestTimeoutMs, even those that never sent a byte. */
  sweep(): void {
    const cutoff = Date.now() - this.#options.requestTimeoutMs;
    for (const [socket, since] of this.#pending) {
      if (since > cutoff) break;
      this.#pending.delete(socket);
      this.#options.metrics.inc("relay_rejected_connections_total", { reason: "request-timeout" });
      socket.destroy();
    }
  }

  /** A WebSocket upgrade: handed to the adapter with its credential, or refused with an HTTP status. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, retried = false): void {
    this.#pending.delete(socket);
    socket.on("error", () => undefined);
    const { adapter, limits, logger, metrics } = this.#options;
    const refuse = (status: number, text: string, reason: string) => {
      metrics.inc("relay_rejected_connections_total", { reason });
      const extra = status === 401 ? 'WWW-Authenticate: Bearer realm="writer-relay"\r\n' : "";
      socket.end(`HTTP/1.1 ${status} ${text}\r\nCache-Control: no-store\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (this.#closing) return refuse(503, "Service Unavailable", "shutting-down");
    if (adapter.connectionCount >= this.#options.maxConnections) return refuse(503, "Service Unavailable", "capacity");
    const unavailable = this.#options.unavailable?.();
    if (unavailable) return refuse(503, "Service Unavailable", unavailable);
    const token = bearerToken(req);
    const address = clientAddress(req, this.#options.trustProxy);
    let credential: Credential;
    if (token === undefined) {
      if (!this.#options.allowAnonymous) return refuse(401, "Unauthorized", "missing-token");
      credential = { name: "anonymous", hash: "", access: "full" };
    } else {
      const record = this.#options.tokens.find(token);
      if (!record && this.#failedTooOften(address)) {
        logger.warn({ remoteAddress: address, limit: FAILED_ATTEMPTS_LIMIT }, "upgrade refused: too many unknown tokens from this address");
        return refuse(429, "Too Many Requests", "failed-attempts");
      }
      if (!record && !retried) {
        // A token added a moment ago by `token add` works at once, not after the next poll.
        void this.pollTokens().then(() => {
          if (!socket.destroyed) this.upgrade(req, socket, head, true);
        });
        return;
      }
      if (!record) {
        this.#failed(address);
        logger.info({ remoteAddress: address }, "upgrade refused: unknown or revoked token");
        return refuse(401, "Unauthorized", "bad-token");
      }
      if (isExpired(record)) {
        logger.info({ remoteAddress: address, token: record.name, expiredAt: record.expiresAt }, "upgrade refused: token expired");
        return refuse(401, "Unauthorized", "expired-token");
      }
      this.#options.tokens.used(record);
      credential = { name: record.name, hash: record.hash, access: record.access };
    }
    // One token cannot take every slot: the others' writers still get in.
    if (adapter.connectionsOf(credential.hash) >= limits.maxConnectionsPerToken) {
      logger.warn({ token: credential.name, limit: limits.maxConnectionsPerToken }, "upgrade refused: the token holds as many connections as it may");
      return refuse(429, "Too Many Requests", "token-connections");
    }
    adapter.handleUpgrade(req, socket, head, credential, address);
  }

  /** Whether `address` sent as many unknown tokens as it may within the window. */
  #failedTooOften(address: string): boolean {
    const times = this.#failures.get(address);
    if (!times) return false;
    const cutoff = Date.now() - FAILED_ATTEMPTS_WINDOW_MS;
    while (times.length > 0 && times[0]! <= cutoff) times.shift();
    if (times.length === 0) this.#failures.delete(address);
    return times.length >= FAILED_ATTEMPTS_LIMIT;
  }

  #failed(address: string): void {
    const times = this.#failures.get(address) ?? [];
    this.#failures.delete(address);
    times.push(Date.now());
    this.#failures.set(address, times.slice(-FAILED_ATTEMPTS_LIMIT));
    if (this.#failures.size > FAILED_ATTEMPTS_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value!);
  }

  /**
   * Rereads the tokens when they changed, and closes connections whose token went. One
   * read at a time: a poll asked for while one runs (the timer's each second, or an
   * unknown token's) runs once after it. So reads never pile up on a slow database, and
   * an older read never lands after a newer one and brings a revoked token back. The
   * promise settles once a read that started after the call has ended.
   */
  pollTokens(): Promise<void> {
    if (!this.#polling) {
      // Never rejects (an error is logged), so that the poll asked for meanwhile still runs.
      this.#polling = this.#readTokens()
        .catch((error: unknown) => this.#options.logger.error({ err: error }, "could not apply the tokens just read"))
        .finally(() => {
          this.#polling = undefined;
        });
      return this.#polling;
    }
    this.#pollAgain ??= this.#polling.then(() => {
      this.#pollAgain = undefined;
      return this.pollTokens();
    });
    return this.#pollAgain;
  }

  async #readTokens(): Promise<void> {
    const { adapter, logger, allowAnonymous, tokens } = this.#options;
    const started = Date.now();
    let records;
    try {
      records = await tokens.poll();
    } catch (error) {
      logger.error({ err: error, tokens: tokens.description, ms: Date.now() - started }, "could not read the tokens; keeping the previous ones until they can be read");
      return;
    }
    const ms = Date.now() - started;
    if (ms >= SLOW_TOKEN_READ_MS) logger.warn({ tokens: tokens.description, ms }, "reading the tokens was slow: a revocation takes that long to apply");
    if (records) {
      const closed = adapter.closeWhere((c) => (c.hash === "" ? allowAnonymous : records.some((r) => r.access === c.access && hashesEqual(r.hash, c.hash))), CloseCode.Unauthorized, "token revoked");
      logger.info({ tokens: records.length, closed }, "tokens reloaded");
    }
    // Tokens expire by the clock, not by a change of the file: looked at on every poll.
    const now = Date.now();
    const expired = this.#options.tokens.records.filter((r) => isExpired(r, now));
    if (expired.length === 0) return;
    const closed = adapter.closeWhere((c) => !expired.some((r) => hashesEqual(r.hash, c.hash)), CloseCode.Unauthorized, "token expired");
    if (closed > 0) logger.info({ closed, tokens: expired.map((r) => r.name) }, "closed the connections of expired tokens");
  }
}

/** The token of an upgrade request: `Authorization: Bearer`, else `?token=`. */
function bearerToken(req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : "";
  }
  try {
    const token = new URL(req.url ?? "/", "http://relay").searchParams.get("token");
    return token ?? undefined;
  } catch {
    return "";
  }
}
