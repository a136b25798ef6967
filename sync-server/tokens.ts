import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../src/node/atomicFile";

/** What a token allows. */
export type TokenAccess = "full" | "read-only" | "relay";

/** One token as kept on disk: never the token itself, only its hash. */
export interface TokenRecord {
  name: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  access: TokenAccess;
  createdAt: string;
  /** When it stops working (ISO time); absent: never. */
  expiresAt?: string;
}

/**
 * Where a relay's tokens are kept: `tokens.json` in its data directory (TokenStore), or,
 * for a relay cluster, a table in its PostgreSQL database that every relay of the
 * cluster reads (PostgresTokenStore).
 */
export interface TokenBackend {
  /** Where they are, for messages. */
  readonly description: string;
  list(): Promise<TokenRecord[]>;
  /** Creates a token and returns it: the only time it is ever seen. */
  add(name: string, access: TokenAccess, expiresAt?: Date): Promise<string>;
  /** Removes the token; false if there was none. */
  revoke(name: string): Promise<boolean>;
  /** Something that changes whenever the tokens do (TokenWatch rereads them then). */
  stamp(): Promise<string>;
  /** When each token was last accepted by a relay (ISO times, by name). */
  lastUsed(): Promise<Record<string, string>>;
  /**
   * Records when tokens were last accepted (a running relay, now and then), by hash: a
   * name revoked and given to a new token must not pass the old token's use on to it.
   */
  recordUse(used: ReadonlyMap<string, string>): Promise<void>;
  close?(): Promise<void>;
}

/** Whether the token has expired at `now`. */
export function isExpired(record: TokenRecord, now = Date.now()): boolean {
  return record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now;
}

/**
 * When a token given `--expires TEXT` stops working: `90d`, `12h`, `2w` from now, or a
 * date (`2027-03-31`, the start of that day, UTC) or time (ISO 8601). Throws a
 * TokenNameError with a plain message otherwise, or for a time already past.
 */
export function parseExpiry(text: string, now = new Date()): Date {
  const trimmed = text.trim();
  const relative = /^(\d{1,5})\s*([hdw])$/i.exec(trimmed);
  let when: Date;
  if (relative) {
    const hours = { h: 1, d: 24, w: 24 * 7 }[relative[2]!.toLowerCase() as "h" | "d" | "w"];
    when = new Date(now.getTime() + Number(relative[1]) * hours * 3_600_000);
  } else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    when = new Date(trimmed.length === 10 ? `${trimmed}T00:00:00Z` : trimmed);
    // Date rolls 2027-02-30 over to March 2nd: a day the calendar does not have is refused.
    const [year, month, day] = trimmed.slice(0, 10).split("-").map(Number) as [number, number, number];
    const calendar = new Date(Date.UTC(year, month - 1, day));
    if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) throw new TokenNameError(`--expires: there is no such day: ${JSON.stringify(text)}`);
  } else {
    throw new TokenNameError(`--expires takes a duration (90d, 12h, 2w) or a date (2027-03-31): ${JSON.stringify(text)}`);
  }
  if (Number.isNaN(when.getTime())) throw new TokenNameError(`--expires: not a date: ${JSON.stringify(text)}`);
  if (when.getTime() <= now.getTime()) throw new TokenNameError(`--expires: ${when.toISOString()} has already passed`);
  return when;
}

/** Throws a TokenNameError unless `name` can name a token. */
export function checkName(name: string): void {
  if (!NAME.test(name)) throw new TokenNameError(`A token name is 1-64 letters, digits, "_", ".", "@" or "-": ${JSON.stringify(name)}`);
}

/** The name of the file, in the data directory. */
const TOKENS_FILE = "tokens.json";
/**
 * When each token was last accepted, written by the running relay (now and then, and
 * when it stops): a file of its own, so that the relay never races the token commands'
 * rewrites of tokens.json.
 */
const USED_FILE = "tokens-used.json";
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

/** A token name that is already taken, or not a valid name. */
export class TokenNameError extends Error {
  override readonly name = "TokenNameError";
}

/** Bytes of randomness in a relay token: 256 bits, 43 characters of base64url. */
const TOKEN_BYTES = 32;
const TOKEN = /^[A-Za-z0-9_-]{20,200}$/;

/** A new relay token: high-entropy random, base64url. Shown once, never stored. */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

/**
 * The form a token is kept in: SHA-256, hex. A slow password hash is not needed for
 * 256-bit random tokens: nobody can search that space, hashed fast or slow.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Whether `token` could be one of ours (charset and length), before any hashing. */
function isWellFormedToken(token: string): boolean {
  return TOKEN.test(token);
}

/** Compares two token hashes (hex) in constant time. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * The relay's tokens, in `<data>/tokens.json` (mode 0600), rewritten atomically (temp
 * file, fsync, rename, fsync of the directory) so that a relay reading it while the
 * CLI writes it sees the old list or the new one, never half of either.
 */
export class TokenStore implements TokenBackend {
  readonly file: string;
  readonly #usedFile: string;

  constructor(dataDir: string) {
    this.file = path.join(path.resolve(dataDir), TOKENS_FILE);
    this.#usedFile = path.join(path.resolve(dataDir), USED_FILE);
  }

  get description(): string {
    return this.file;
  }

  /** The tokens on disk; an empty list if the file does not exist yet. */
  async list(): Promise<TokenRecord[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const parsed = JSON.parse(text) as { version?: unknown; tokens?: unknown };
    if ((parsed.version !== 1 && parsed.version !== 2) || !Array.isArray(parsed.tokens)) throw new Error(`${this.file} is not a token file of this relay`);
    return (parsed.tokens as unknown[]).filter(isTokenRecord);
  }

  /** Creates a token named `name` and returns it: the only time it is ever seen. */
  async add(name: string, access: TokenAccess, expiresAt?: Date): Promise<string> {
    checkName(name);
    return this.#locked(async () => {
      const tokens = await this.list();
      if (tokens.some((t) => t.name === name)) throw new TokenNameError(`There is already a token named "${name}". Revoke it first, or choose another name.`);
      const token = generateToken();
      tokens.push({ name, hash: hashToken(token), access, createdAt: new Date().toISOString(), ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) });
      await this.#write(tokens);
      return token;
    });
  }

  /** Removes the token named `name`; false if there was none. */
  async revoke(name: string): Promise<boolean> {
    return this.#locked(async () => {
      const tokens = await this.list();
      const kept = tokens.filter((t) => t.name !== name);
      if (kept.length === tokens.length) return false;
      await this.#write(kept);
      return true;
    });
  }

  async stamp(): Promise<string> {
    try {
      const stat = await fs.stat(this.file);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return "missing";
    }
  }

  async lastUsed(): Promise<Record<string, string>> {
    const byHash = await this.#usedByHash();
    return Object.fromEntries((await this.list()).flatMap((r) => (byHash[r.hash] ? [[r.name, byHash[r.hash]!]] : [])));
  }

  /**
   * `tokens-used.json`: `{ version: 1, byHash: { <token hash>: <ISO time> } }`, written by
   * the running relay alone (never the token commands, which only read it). Keyed by hash,
   * like tokens.json, so that a name revoked and reused starts again at "never".
   */
  async recordUse(used: ReadonlyMap<string, string>): Promise<void> {
    if (used.size === 0) return;
    const merged = await this.#usedByHash();
    for (const [hash, at] of used) if (!merged[hash] || merged[hash] < at) merged[hash] = at;
    // Revoked tokens' entries go: the file stays as long as the token list.
    const current = new Set((await this.list()).map((r) => r.hash));
    const kept = Object.fromEntries(Object.entries(merged).filter(([hash]) => current.has(hash)));
    await writeFileAtomic(this.#usedFile, JSON.stringify({ version: 1, byHash: kept }, null, 2) + "\n");
  }

  async #usedByHash(): Promise<Record<string, string>> {
    try {
      const parsed = JSON.parse(await fs.readFile(this.#usedFile, "utf8")) as { version?: unknown; byHash?: unknown };
      if (parsed.version !== 1 || typeof parsed.byHash !== "object" || parsed.byHash === null) return {};
      return Object.fromEntries(Object.entries(parsed.byHash as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string"));
    } catch {
      // Missing (never written yet) or unreadable: nothing is known of last use.
      return {};
    }
  }

  /**
   * Runs a read-modify-write of the file with `tokens.json.lock` held, so that two
   * `token add` run at once (a script, two operators) do not lose one of the tokens.
   * A lock older than 30 s is a CLI that died holding it, and is broken.
   */
  async #locked<T>(task: () => Promise<T>): Promise<T> {
    const lock = `${this.file}.lock`;
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await (await fs.open(lock, "wx", 0o600)).close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const age = await fs.stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age > 30_000) await fs.rm(lock, { force: true });
        else if (Date.now() > deadline) throw new Error(`${lock} is held by another token command; remove it if none is running`);
        else await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    try {
      return await task();
    } finally {
      await fs.rm(lock, { force: true });
    }
  }

  /**
   * Version 1 while no token expires, so that a relay of an earlier release still reads
   * the file; version 2 once one does, so that an earlier release, which knows nothing
   * of expiry and would let an expired token in, refuses the file instead.
   */
  async #write(tokens: TokenRecord[]): Promise<void> {
    const version = tokens.some((t) => t.expiresAt !== undefined) ? 2 : 1;
    await writeFileAtomic(this.file, JSON.stringify({ version, tokens }, null, 2) + "\n");
  }
}

/**
 * Finds the token a client presented among `records`, comparing hashes in constant
 * time and looking at every record whatever matches, so that timing says nothing.
 */
function findToken(records: readonly TokenRecord[], token: string): TokenRecord | undefined {
  if (!isWellFormedToken(token)) return undefined;
  const hash = hashToken(token);
  let found: TokenRecord | undefined;
  for (const record of records) if (hashesEqual(record.hash, hash) && !found) found = record;
  return found;
}

function isTokenRecord(value: unknown): value is TokenRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.name === "string" &&
    typeof r.hash === "string" &&
    /^[0-9a-f]{64}$/.test(r.hash) &&
    (r.access === "full" || r.access === "read-only" || r.access === "relay") &&
    typeof r.createdAt === "string" &&
    (r.expiresAt === undefined || (typeof r.expiresAt === "string" && !Number.isNaN(Date.parse(r.expiresAt))))
  );
}

/**
 * The tokens a running relay accepts: the token file as last read, read again when it
 * changes on disk (`poll`, every second and whenever an unknown token is presented, so
 * that a token added a moment ago by `token add` works at once).
 */
export class TokenWatch {
  readonly #store: TokenBackend;
  #records: TokenRecord[] = [];
  #stamp = "";
  /** When tokens were accepted since the last flush, by hash. */
  readonly #used = new Map<string, string>();

  constructor(store: TokenBackend) {
    this.#store = store;
  }

  get records(): readonly TokenRecord[] {
    return this.#records;
  }

  /** Where the tokens are, for messages. */
  get description(): string {
    return this.#store.description;
  }

  /** Reads the tokens; throws if they cannot be read (the relay does not start without them). */
  async open(): Promise<void> {
    this.#stamp = await this.#store.stamp();
    this.#records = await this.#store.list();
  }

  /** The record of a token a client presented, expired or not (the caller tells which). */
  find(token: string): TokenRecord | undefined {
    return findToken(this.#records, token);
  }

  /** A token was accepted now: its "last used" (token list) moves on at the next flush. */
  used(record: TokenRecord): void {
    this.#used.set(record.hash, new Date().toISOString());
  }

  /** Writes when tokens were last accepted (every minute, and when the relay stops). */
  async flushUse(): Promise<void> {
    if (this.#used.size === 0) return;
    const used = new Map(this.#used);
    this.#used.clear();
    try {
      await this.#store.recordUse(used);
    } catch (error) {
      // Kept for the next flush (uses noted meanwhile are later, and win).
      for (const [hash, at] of used) if (!this.#used.has(hash)) this.#used.set(hash, at);
      throw error;
    }
  }

  /**
   * Rereads the tokens if they changed since the last read. Returns the new records, or
   * undefined when nothing changed; throws (keeping the previous records) when they
   * changed but cannot be read.
   */
  async poll(): Promise<readonly TokenRecord[] | undefined> {
    const stamp = await this.#store.stamp();
    if (stamp === this.#stamp) return undefined;
    const records = await this.#store.list();
    this.#stamp = stamp;
    this.#records = records;
    return records;
  }

  async close(): Promise<void> {
    await this.flushUse();
    await this.#store.close?.();
  }
}
