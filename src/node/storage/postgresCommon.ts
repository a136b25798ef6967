/** What the relay's PostgreSQL stores (chunks, tokens) share. */
import { createRequire } from "node:module";
import type pg from "pg";

let pgModule: typeof pg | undefined;

/**
 * The PostgreSQL client, loaded when a store first needs it. A relay on files (and the
 * desktop host) never does: loaded with the program, it was a sixth of a relay's start
 * (about 0.25 s of processor time in the process and again in each document worker).
 * A plain import would not do: bundled into one file, an import of the store's module
 * is hoisted to the top, and loads `pg` with the program.
 */
export function loadPg(): typeof pg {
  return (pgModule ??= createRequire(import.meta.url)("pg") as typeof pg);
}

/** SQLSTATEs of a concurrent `CREATE ... IF NOT EXISTS` racing another relay's. */
const RACED_DDL = new Set(["23505", "42P07", "42710"]);

/**
 * Runs a `CREATE ... IF NOT EXISTS`. Relays starting together race to create the same
 * table; the loser sees a duplicate in the catalogue. The table is there then: try
 * once more to be sure.
 */
export async function createIfMissing(pool: pg.Pool, statement: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query(statement);
      return;
    } catch (error) {
      if (attempt < 3 && RACED_DDL.has((error as { code?: string }).code ?? "")) continue;
      throw error;
    }
  }
}

/** A connection URL fit for a log line: its password replaced. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(a PostgreSQL URL that does not parse)";
  }
}
