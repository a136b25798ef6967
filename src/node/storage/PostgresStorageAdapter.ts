import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";
import type pg from "pg";
import { createIfMissing, loadPg, withoutPassword } from "./postgresCommon";
import { StorageUnavailableError, StorageWriteError } from "./errors";
import type { ChunkBackend } from "./stack";
import { isValidKeyPart, validateKey } from "./keys";

/** Options of {@link PostgresStorageAdapter.open}. */
export interface PostgresStorageOptions {
  /** `postgres://user:password@host:port/database` (libpq's URL form; `?sslmode=` as pg takes it). */
  url: string;
  /** The table the chunks are in (default `writer_chunks`); several relay clusters may share a database with their own tables. */
  table?: string;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** A query that takes longer is abandoned as failed (default 30 s): a relay must not wait on a hung database forever. */
  queryTimeoutMs?: number;
  /** The pool lost a connection outside a query (the database restarted, the network dropped). */
  onConnectionError?: (error: Error) => void;
}

/** Table names are interpolated into SQL (they cannot be parameters): only plain identifiers. */
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * An automerge-repo storage adapter on PostgreSQL, for relay clusters: every relay of a
 * cluster reads and writes the same chunks, so any relay can serve any document.
 *
 * - One row per chunk: `key` is the storage key's parts joined by `/` (parts are
 *   validated by {@link validateKey}: `[A-Za-z0-9_-]`, so `/` never occurs in a part),
 *   `document_id` its first part, indexed, because automerge-repo loads and removes by
 *   document; `seq` keeps the order chunks were first saved in, the order ranges come
 *   back in (as from the files). A save is one `INSERT … ON CONFLICT DO UPDATE`, a remove one `DELETE`: each
 *   call is its own transaction, and returns only once it is committed (with PostgreSQL's
 *   default `synchronous_commit = on`, once it is in the write-ahead log on disk), so the
 *   relay's "confirmed only when stored" holds as it does on files.
 * - Compaction with several relays writing one document: automerge-repo's compaction
 *   writes a snapshot holding everything its Repo has loaded, then removes exactly the
 *   chunks it had loaded or written itself, by key. A chunk another relay wrote after it
 *   last loaded is not among them and stays; one it did load is folded into the snapshot
 *   it just committed. Incremental chunks are keyed by the hash of their content, so a key
 *   never names two different contents. No relay therefore deletes a change that is not
 *   in a committed snapshot.
 * - Only plain SQL (no advisory locks, no server-side functions, no `LIKE` on keys), so
 *   that it runs unchanged on PostgreSQL-compatible distributed databases (see
 *   sync-server/README.md, "Running a cluster").
 * - Errors are thrown as they come: the storage stack's `RetryingStorage` keeps a failed
 *   save in memory and retries it, and the relay confirms nothing until it succeeds.
 */
export class PostgresStorageAdapter implements StorageAdapterInterface, ChunkBackend {
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly description: string;
  #closed = false;

  private constructor(pool: pg.Pool, table: string, url: string) {
    this.#pool = pool;
    this.#table = table;
    this.description = `${withoutPassword(url)} (table ${table})`;
  }

  /** Connects, creates the table if it is not there, and checks that the database answers. */
  static async open(options: PostgresStorageOptions): Promise<PostgresStorageAdapter> {
    const adapter = PostgresStorageAdapter.connect(options);
    try {
      await adapter.#createTable();
    } catch (error) {
      await adapter.close().catch(() => undefined);
      throw new StorageUnavailableError(adapter.description, error);
    }
    return adapter;
  }

  /** A pool on a table that `open` created (a relay's document workers): no round trip yet. */
  static connect(options: PostgresStorageOptions): PostgresStorageAdapter {
    const table = options.table ?? "writer_chunks";
    if (!TABLE_NAME.test(table)) throw new RangeError(`Not a plain table name: ${JSON.stringify(table)}`);
    const pool = new (loadPg().Pool)({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      query_timeout: options.queryTimeoutMs ?? 30_000,
      connectionTimeoutMillis: 10_000,
      // Node's own keepalive notices a dead database host (a cut cable sends no RST).
      keepAlive: true,
      application_name: "writer-relay",
    });
    // An idle connection the database dropped is an event, not a crash of the relay.
    pool.on("error", (error) => options.onConnectionError?.(error));
    return new PostgresStorageAdapter(pool, table, options.url);
  }

  async #createTable(): Promise<void> {
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
        key text PRIMARY KEY,
        document_id text NOT NULL,
        kind text NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        data bytea NOT NULL,
        saved_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX IF NOT EXISTS ${this.#table}_document ON ${this.#table} (document_id)`,
    ];
    for (const statement of statements) await createIfMissing(this.#pool, statement);
  }

  /** The table, for health checks and tests. */
  get table(): string {
    return this.#table;
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const parts = validateKey(key);
    const result = await this.#query<{ data: Buffer }>(`SELECT data FROM ${this.#table} WHERE key = $1`, [parts.join("/")]);
    const row = result.rows[0];
    return row ? bytes(row.data) : undefined;
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    const parts = validateKey(key);
    try {
      await this.#query(
        `INSERT INTO ${this.#table} (key, document_id, kind, data, saved_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data, saved_at = EXCLUDED.saved_at`,
        // A copy: the caller may change its array once save has been called.
        [parts.join("/"), parts[0], parts[1] ?? "", Buffer.from(data)],
      );
    } catch (error) {
      // Its `code` is then PostgreSQL's SQLSTATE (53100: disk full, 25006: read-only...).
      throw new StorageWriteError(parts, error);
    }
  }

  async remove(key: StorageKey): Promise<void> {
    const parts = validateKey(key);
    await this.#query(`DELETE FROM ${this.#table} WHERE key = $1`, [parts.join("/")]);
  }

  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    const { where, values } = this.#prefix(keyPrefix);
    const result = await this.#query<{ key: string; data: Buffer }>(`SELECT key, data FROM ${this.#table} WHERE ${where} ORDER BY seq`, values);
    return result.rows.map((row) => ({ key: row.key.split("/"), data: bytes(row.data) }));
  }

  async removeRange(keyPrefix: StorageKey): Promise<void> {
    const { where, values } = this.#prefix(keyPrefix);
    await this.#query(`DELETE FROM ${this.#table} WHERE ${where}`, values);
  }

  /** Bytes of a document's snapshot and incremental chunks (the relay routes long documents to its workers by it). */
  async sizeOnDisk(documentId: string): Promise<number> {
    if (!isValidKeyPart(documentId)) return 0;
    const result = await this.#query<{ size: string | null }>(`SELECT sum(octet_length(data)) AS size FROM ${this.#table} WHERE document_id = $1 AND kind IN ('snapshot', 'incremental')`, [documentId]);
    return Number(result.rows[0]?.size ?? 0);
  }

  /** Whether a document has a snapshot or incremental chunk stored. */
  async hasDocument(documentId: string): Promise<boolean> {
    if (!isValidKeyPart(documentId)) return false;
    const result = await this.#query(`SELECT 1 FROM ${this.#table} WHERE document_id = $1 AND kind IN ('snapshot', 'incremental') LIMIT 1`, [documentId]);
    return result.rows.length > 0;
  }

  /** Every document with a snapshot or incremental chunk, a page at a time (by the index, never the whole table at once). */
  async *documentIds(): AsyncGenerator<string> {
    let after = "";
    for (;;) {
      const result = await this.#query<{ document_id: string }>(
        `SELECT DISTINCT document_id FROM ${this.#table} WHERE document_id > $1 AND kind IN ('snapshot', 'incremental') ORDER BY document_id LIMIT 500`,
        [after],
      );
      for (const row of result.rows) yield row.document_id;
      if (result.rows.length < 500) return;
      after = result.rows[result.rows.length - 1]!.document_id;
    }
  }

  /** Whether the database answers now (for /healthz). */
  async ping(): Promise<void> {
    if (this.#closed) throw new Error("PostgreSQL storage is closed");
    // Quicker than the queries' own time limit: a health check that hangs tells nothing.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#pool.query("SELECT 1"),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("PostgreSQL did not answer in 3 s")), 3000);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  /**
   * The rows under a key prefix. `[]` is every row; `[doc]` is the document's rows (by the
   * index); a longer prefix is the key itself or keys that continue it after a `/`.
   * Compared with `left()` rather than `LIKE`, where `_` (allowed in key parts) is a
   * wildcard.
   */
  #prefix(keyPrefix: StorageKey): { where: string; values: unknown[] } {
    const parts = validateKey(keyPrefix, { allowEmpty: true });
    if (parts.length === 0) return { where: "TRUE", values: [] };
    if (parts.length === 1) return { where: "document_id = $1", values: [parts[0]] };
    const joined = parts.join("/");
    return { where: "document_id = $1 AND (key = $2 OR left(key, $3) = $4)", values: [parts[0], joined, joined.length + 1, `${joined}/`] };
  }

  #query<Row extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    if (this.#closed) return Promise.reject(new Error("PostgreSQL storage is closed"));
    return this.#pool.query<Row>(text, values);
  }
}

/** pg returns bytea as a Buffer; automerge-repo wants plain Uint8Arrays (tests compare them strictly). */
function bytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
}
