import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DirectoryLockedError, errorCode } from "./errors";

/**
 * One writer per data directory, through a `LOCK` file naming its holder.
 *
 * Hand-written rather than proper-lockfile: that library decides a lock is stale by its
 * age, so after a crash or a SIGKILL the next start would wait (or have to guess a
 * timeout). Here the lock names its process, and a lock whose process is gone is taken
 * over at once.
 */

/** Name of the lock file inside the data directory. */
const LOCK_FILE = "LOCK";

/** What the lock file says about its holder. */
interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Linux boot ID: a lock from before a reboot is stale whatever its pid now names. */
  bootId?: string;
}

/**
 * Lock files this process holds. A lock naming our own pid is ours only if it is in
 * here; otherwise a previous process with the same pid left it (containers restart the
 * app with the same small pid every time).
 */
const held = new Set<string>();

/** A held lock on a data directory. */
export class DirectoryLock {
  /** Path of the lock file. */
  readonly path: string;
  readonly #content: string;

  private constructor(lockPath: string, content: string) {
    this.path = lockPath;
    this.#content = content;
  }

  /**
   * Takes the lock on `dir` (which must exist), or throws {@link DirectoryLockedError}
   * when a live process holds it. A lock left by a dead process, by a previous boot, or
   * one that cannot be read is taken over.
   */
  static async acquire(dir: string): Promise<DirectoryLock> {
    const realDir = await fs.realpath(dir);
    const lockPath = path.join(realDir, LOCK_FILE);
    const bootId = await readBootId();
    const owner: LockOwner = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), bootId };
    const content = JSON.stringify(owner);
    // Each round either takes the lock, throws, or clears a stale lock and tries again;
    // a few rounds only run out if other processes keep racing for the same directory.
    for (let round = 0; round < 5; round++) {
      if (await createExclusive(lockPath, content)) {
        held.add(lockPath);
        return new DirectoryLock(lockPath, content);
      }
      const existing = await readLock(lockPath);
      if (existing === undefined) continue;
      const holder = existing.owner;
      if (holder && isAlive(holder, lockPath, bootId)) {
        throw new DirectoryLockedError(dir, holder.pid, holder.hostname === os.hostname() ? undefined : holder.hostname);
      }
      await removeStale(lockPath, existing.raw);
    }
    throw new Error(`Could not take the lock ${lockPath}: other processes keep taking it.`);
  }

  /** Releases the lock, unless someone else has taken it over meanwhile. Idempotent. */
  async release(): Promise<void> {
    if (!held.delete(this.path)) return;
    const current = await fs.readFile(this.path, "utf8").catch(() => undefined);
    if (current === this.#content) await fs.rm(this.path, { force: true });
  }
}

/** Creates the lock file with O_EXCL; false if it already exists. */
async function createExclusive(lockPath: string, content: string): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(lockPath, "wx");
  } catch (error) {
    if (errorCode(error) === "EEXIST") return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
    await handle.close();
    return true;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(lockPath, { force: true });
    throw error;
  }
}

/** The lock file's text and, if it parses, its owner; undefined if the file is gone. */
async function readLock(lockPath: string): Promise<{ raw: string; owner: LockOwner | undefined } | undefined> {
  for (let attempt = 0; ; attempt++) {
    let raw: string;
    try {
      raw = await fs.readFile(lockPath, "utf8");
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      // Unreadable (a directory, no permission...): treat it as a lock nobody holds.
      return { raw: "", owner: undefined };
    }
    const owner = parseOwner(raw);
    // A process that has just created the file may not have written it yet: look again
    // once before calling it unreadable.
    if (owner || attempt > 0) return { raw, owner };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== "object" || value === null) return undefined;
    const { pid, hostname, startedAt, bootId } = value as Record<string, unknown>;
    if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
    if (typeof hostname !== "string") return undefined;
    return {
      pid,
      hostname,
      startedAt: typeof startedAt === "string" ? startedAt : "",
      bootId: typeof bootId === "string" ? bootId : undefined,
    };
  } catch {
    return undefined;
  }
}

function isAlive(owner: LockOwner, lockPath: string, bootId: string | undefined): boolean {
  // Another host's processes cannot be checked from here (shared or synced folder):
  // refuse rather than risk two writers; the error tells the user how to clear it.
  if (owner.hostname !== os.hostname()) return true;
  if (owner.bootId !== undefined && bootId !== undefined && owner.bootId !== bootId) return false;
  if (owner.pid === process.pid) return held.has(lockPath);
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return errorCode(error) !== "ESRCH";
  }
}

/**
 * Removes a lock judged stale from its text `raw`. Another process may have replaced it
 * with its own live lock since we read it: the lock is moved aside atomically, and put
 * back if it turns out not to be the one we judged.
 */
async function removeStale(lockPath: string, raw: string): Promise<void> {
  const aside = path.join(path.dirname(lockPath), `.tmp-stale-lock-${randomBytes(6).toString("hex")}`);
  try {
    await fs.rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw error;
  }
  const moved = await fs.readFile(aside, "utf8").catch(() => raw);
  // link() does not overwrite: if yet another process has taken the lock meanwhile, it keeps it.
  if (moved !== raw) await fs.link(aside, lockPath).catch(() => undefined);
  await fs.rm(aside, { force: true, recursive: true });
}

async function readBootId(): Promise<string | undefined> {
  if (process.platform !== "linux") return undefined;
  const id = await fs.readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => undefined);
  return id?.trim() || undefined;
}
