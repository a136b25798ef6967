import type pg from "pg";
import { createIfMissing, loadPg, withoutPassword } from "../src/node/storage/postgresCommon";
import { checkName, generateToken, hashToken, TokenNameError, type TokenAccess, type TokenBackend, type TokenRecord } from "./tokens";

/**
 * A relay cluster's tokens, in its PostgreSQL database (table `writer_tokens`), so that
 * a token added, revoked or expired is the same on every relay: each relay rereads the
 * table every second (TokenWatch), so a revocation closes that token's connections on
 * every relay within about a second. Like tokens.json, it keeps only SHA-256 hashes;
 * plain SQL only (see PostgresStorageAdapter).
 */
export class PostgresTokenStore implements TokenBackend {
  readonly #pool: pg.Pool;
  readonly description: string;

  private constructor(pool: pg.Pool, description: string) {
    this.#pool = pool;
    this.description = description;
  }

  /**
   * `timeoutMs` bounds every query, in the server (statement_timeout, which also ends a
   * wait on a lock) and in the client (a connection that stops answering is dropped and
   * the next query gets a new one). A relay reads the tokens every second and gives a
   * read, and a connection, a few seconds: a read that hung without a bound would leave
   * a revoked token working on that relay for as long as it hung.
   */
  static async open(url: string, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}): Promise<PostgresTokenStore> {
    const pool = new (loadPg().Pool)({
      connectionString: url,
      max: 2,
      connectionTimeoutMillis: Math.min(timeoutMs, 10_000),
      statement_timeout: timeoutMs,
      query_timeout: timeoutMs + 500,
      application_name: "writer-relay tokens",
    });
    pool.on("error", () => undefined);
    const store = new PostgresTokenStore(pool, `${withoutPassword(url)} (table writer_tokens)`);
    try {
      await createIfMissing(
        pool,
        `CREATE TABLE IF NOT EXISTS writer_tokens (
          name text PRIMARY KEY,
          hash text NOT NULL UNIQUE,
          access text NOT NULL,
          created_at timestamptz NOT NULL,
          expires_at timestamptz,
          last_used_at timestamptz
        )`,
      );
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return store;
  }

  async list(): Promise<TokenRecord[]> {
    const { rows } = await this.#pool.query<{ name: string; hash: string; access: TokenAccess; created_at: Date; expires_at: Date | null }>(
      "SELECT name, hash, access, created_at, expires_at FROM writer_tokens ORDER BY name",
    );
    return rows
      .filter((r) => r.access === "full" || r.access === "read-only" || r.access === "relay")
      .map((r) => ({ name: r.name, hash: r.hash, access: r.access, createdAt: r.created_at.toISOString(), ...(r.expires_at ? { expiresAt: r.expires_at.toISOString() } : {}) }));
  }

  async add(name: string, access: TokenAccess, expiresAt?: Date): Promise<string> {
    checkName(name);
    const token = generateToken();
    const { rowCount } = await this.#pool.query(
      "INSERT INTO writer_tokens (name, hash, access, created_at, expires_at) VALUES ($1, $2, $3, now(), $4) ON CONFLICT (name) DO NOTHING",
      [name, hashToken(token), access, expiresAt ?? null],
    );
    if (rowCount === 0) throw new TokenNameError(`There is already a token named "${name}". Revoke it first, or choose another name.`);
    return token;
  }

  async revoke(name: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query("DELETE FROM writer_tokens WHERE name = $1", [name]);
    return (rowCount ?? 0) > 0;
  }

  /** The tokens themselves (the table is small): any change, on any relay's command, shows. */
  async stamp(): Promise<string> {
    return JSON.stringify(await this.list());
  }

  async lastUsed(): Promise<Record<string, string>> {
    const { rows } = await this.#pool.query<{ name: string; last_used_at: Date }>("SELECT name, last_used_at FROM writer_tokens WHERE last_used_at IS NOT NULL");
    return Object.fromEntries(rows.map((r) => [r.name, r.last_used_at.toISOString()]));
  }

  async recordUse(used: ReadonlyMap<string, string>): Promise<void> {
    for (const [hash, at] of used) {
      await this.#pool.query("UPDATE writer_tokens SET last_used_at = GREATEST(COALESCE(last_used_at, $2::timestamptz), $2::timestamptz) WHERE hash = $1", [hash, at]);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
