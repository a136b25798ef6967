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
}

/** The name of the file, in the data directory. */
const TOKENS_FILE = "tokens.json";
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
export class TokenStore {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(path.resolve(dataDir), TOKENS_FILE);
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
    if (parsed.version !== 1 || !Array.isArray(parsed.tokens)) throw new Error(`${this.file} is not a token file of this relay`);
    return (parsed.tokens as unknown[]).filter(isTokenRecord);
  }

  /** Creates a token named `name` and returns it: the only time it is ever seen. */
  async add(name: string, access: TokenAccess): Promise<string> {
    if (!NAME.test(name)) throw new TokenNameError(`A token name is 1-64 letters, digits, "_", ".", "@" or "-": ${JSON.stringify(name)}`);
    return this.#locked(async () => {
      const tokens = await this.list();
      if (tokens.some((t) => t.name === name)) throw new TokenNameError(`There is already a token named "${name}". Revoke it first, or choose another name.`);
      const token = generateToken();
      tokens.push({ name, hash: hashToken(token), access, createdAt: new Date().toISOString() });
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

  async #write(tokens: TokenRecord[]): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, tokens }, null, 2) + "\n");
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
    typeof r.createdAt === "string"
  );
}

/**
 * The tokens a running relay accepts: the token file as last read, read again when it
 * changes on disk (`poll`, every second and whenever an unknown token is presented, so
 * that a token added a moment ago by `token add` works at once).
 */
export class TokenWatch {
  readonly #store: TokenStore;
  #records: TokenRecord[] = [];
  #stamp = "";

  constructor(store: TokenStore) {
    this.#store = store;
  }

  get records(): readonly TokenRecord[] {
    return this.#records;
  }

  /** Reads the file; throws if it cannot be read (the relay does not start without it). */
  async open(): Promise<void> {
    this.#stamp = await this.#stampNow();
    this.#records = await this.#store.list();
  }

  find(token: string): TokenRecord | undefined {
    return findToken(this.#records, token);
  }

  /**
   * Rereads the file if it changed since the last read. Returns the new records, or
   * undefined when nothing changed; throws (keeping the previous records) when the
   * file changed but cannot be read.
   */
  async poll(): Promise<readonly TokenRecord[] | undefined> {
    const stamp = await this.#stampNow();
    if (stamp === this.#stamp) return undefined;
    const records = await this.#store.list();
    this.#stamp = stamp;
    this.#records = records;
    return records;
  }

  async #stampNow(): Promise<string> {
    try {
      const stat = await fs.stat(this.#store.file);
      return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
      return "missing";
    }
  }
}
