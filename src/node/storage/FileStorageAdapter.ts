import type { Chunk, StorageAdapterInterface, StorageKey } from "@automerge/automerge-repo";
import { randomBytes } from "node:crypto";
import type { Dirent, Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { decodeChunk, encodeChunk } from "./chunkFile";
import { errorCode, InvalidStorageKeyError, StorageWriteError } from "./errors";
import { isValidKeyPart, MAX_KEY_PARTS, validateKey } from "./keys";
import { DirectoryLock } from "./lock";
import { makeDirectory, syncDirectory } from "../atomicFile";
import { SerialByKey } from "../../shared/serialByKey";

/** A chunk that failed verification on load, and where it went. */
export interface CorruptionReport {
  /** The chunk's storage key. */
  key: string[];
  /** The key's first part: the document ID for automerge-repo's chunks. */
  documentId: string;
  /** Where the chunk was found. */
  path: string;
  /**
   * Where it was moved. Equals `path` if moving it failed (`reason` says why): it then
   * stays in place, is still never returned, and is reported again on the next load.
   */
  quarantinedTo: string;
  /** What did not verify: empty, truncated, bad magic bytes, checksum mismatch... */
  reason: string;
}

/** Options of {@link FileStorageAdapter.open}. */
export interface FileStorageOptions {
  /**
   * Called for each corrupt chunk met on load, after it has been quarantined. Should not
   * throw: if it does, the load that met the chunk rejects (the chunk stays quarantined).
   */
  onCorrupt?: (report: CorruptionReport) => void;
}

/** Where corrupt chunks are moved; never read, never removed by this adapter. */
const QUARANTINE_DIR = "quarantine";
const CHUNK_SUFFIX = ".chunk";
/** Prefix of files being written; a leftover one is a write a crash interrupted. */
const TEMP_PREFIX = ".tmp-";
const MAX_CORRUPTIONS_KEPT = 100;

/**
 * An automerge-repo storage adapter on plain files, replacing
 * `@automerge/automerge-repo-storage-nodefs`, which writes with a plain `writeFile` (no
 * temp file, no fsync, no rename: a crash can leave a torn chunk), caches every chunk
 * in memory without bound, and turns keys into paths without validating them.
 *
 * - Writes are atomic and durable: temp file, fsync, rename, fsync of the directory.
 * - Keys are validated ({@link validateKey}) before they become paths, and the path is
 *   checked to be inside the data directory.
 * - Every file carries a header with a checksum (see `chunkFile.ts`); a chunk that does
 *   not verify is never returned: it is moved to `quarantine/` and reported.
 * - No cache: memory is what the current call reads.
 * - One writer per directory ({@link DirectoryLock}); operations on one key run one at
 *   a time, in call order, so the last save wins and no reader sees a half-written file.
 *
 * Layout: the key `[k0, k1, ..., kn]` lives at `<dir>/<k0 first 2 chars>/k0/k1/.../kn.chunk`,
 * and `[k0]` at `<dir>/<k0 first 2 chars>/k0.chunk`. The first level spreads documents over
 * directories of bounded size. Only files end in `.chunk` and key parts contain no dot,
 * so a key and a longer key it prefixes (`["a"]`, `["a", "b"]`) never collide, and
 * `LOCK`, `quarantine/` and `.tmp-*` files can never be mistaken for chunks.
 */
export class FileStorageAdapter implements StorageAdapterInterface {
  /** The data directory, resolved. */
  readonly dir: string;
  /** Undefined for an adapter opened by {@link openUnderLock}: the lock is someone else's. */
  readonly #lock: DirectoryLock | undefined;
  readonly #onCorrupt: ((report: CorruptionReport) => void) | undefined;
  readonly #corruptions: CorruptionReport[] = [];
  /** Each key's operations, one at a time, by file path. */
  readonly #queues = new SerialByKey();
  #lastSequence = 0n;
  #closed = false;

  private constructor(dir: string, lock: DirectoryLock | undefined, options: FileStorageOptions) {
    this.dir = dir;
    this.#lock = lock;
    this.#onCorrupt = options.onCorrupt;
  }

  /**
   * Opens (creating it if needed) the data directory `dir` and takes its lock. Throws
   * {@link DirectoryLockedError} if another live process has it. Temp files left by an
   * interrupted write are removed.
   */
  static async open(dir: string, options: FileStorageOptions = {}): Promise<FileStorageAdapter> {
    const root = path.resolve(dir);
    await makeDirectory(root);
    const lock = await DirectoryLock.acquire(root);
    try {
      await makeDirectory(path.join(root, QUARANTINE_DIR));
      await removeTempFiles(root);
    } catch (error) {
      await lock.release();
      throw error;
    }
    return new FileStorageAdapter(root, lock, options);
  }

  /**
   * Opens a directory whose lock another adapter of this same process holds: for the
   * relay's document worker threads (sync-server/workers/), which share the relay's
   * data directory. The one-writer rule holds per document instead: the relay hands
   * each document to exactly one thread at a time. The caller keeps the lock-holding
   * adapter open for as long as this one is used.
   */
  static openUnderLock(dir: string, options: FileStorageOptions = {}): FileStorageAdapter {
    return new FileStorageAdapter(path.resolve(dir), undefined, options);
  }

  /** Bytes of a document's chunks on disk (documentSizeOnDisk). */
  sizeOnDisk(documentId: string): Promise<number> {
    return documentSizeOnDisk(this.dir, documentId);
  }

  /**
   * Whether any snapshot or incremental chunk of `documentId` is on disk, from the
   * directory layout (documentChunkFiles), which is cheaper than loading the chunks.
   */
  async hasDocument(documentId: string): Promise<boolean> {
    for await (const _file of documentChunkFiles(this.dir, documentId)) return true;
    return false;
  }

  /** Every document ID with a snapshot or incremental chunk on disk. */
  async *documentIds(): AsyncGenerator<string> {
    let shards: string[];
    try {
      shards = await fs.readdir(this.dir);
    } catch {
      return;
    }
    for (const shard of shards) {
      if (shard.length !== 2) continue;
      let ids: string[];
      try {
        ids = await fs.readdir(path.join(this.dir, shard));
      } catch {
        continue;
      }
      for (const id of ids) if (id.startsWith(shard) && !id.includes(".") && (await this.hasDocument(id))) yield id;
    }
  }

  /** What this back end is, for logs. */
  get description(): string {
    return this.dir;
  }

  /** The most recent corruption reports (the last 100), oldest first. */
  get corruptions(): readonly CorruptionReport[] {
    return this.#corruptions;
  }

  /** Loads the value of `key`; undefined if there is none or it was corrupt (and reported). */
  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const checked = validateKey(key);
    this.#assertOpen();
    return (await this.#read(checked))?.payload;
  }

  /** Saves `data` under `key`, atomically and durably. Throws {@link StorageWriteError}. */
  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    const checked = validateKey(key);
    if (!(data instanceof Uint8Array)) throw new TypeError("Storage data must be a Uint8Array");
    this.#assertOpen();
    const file = this.#pathOf(checked);
    // Encoded now: the sequence follows call order, and the caller may reuse `data`.
    const bytes = encodeChunk(data, this.#nextSequence());
    await this.#serialize(file, () => this.#write(checked, file, bytes));
  }

  /** Removes the value of `key`, if any. Throws {@link StorageWriteError}. */
  async remove(key: StorageKey): Promise<void> {
    const checked = validateKey(key);
    this.#assertOpen();
    await this.#remove(checked);
  }

  /**
   * Loads every value whose key starts with `keyPrefix` (part by part: `["a"]` does not
   * match `["ab"]`), in the order they were saved. Corrupt chunks are quarantined,
   * reported and left out.
   */
  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    const prefix = validateKey(keyPrefix, { allowEmpty: true });
    this.#assertOpen();
    const loaded: { key: string[]; payload: Uint8Array; sequence: bigint }[] = [];
    for (const key of await this.#keysUnder(prefix)) {
      const chunk = await this.#read(key);
      if (chunk) loaded.push({ key: [...key], ...chunk });
    }
    loaded.sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
    return loaded.map(({ key, payload }) => ({ key, data: payload }));
  }

  /** Removes every value whose key starts with `keyPrefix`; never touches the quarantine. */
  async removeRange(keyPrefix: StorageKey): Promise<void> {
    const prefix = validateKey(keyPrefix, { allowEmpty: true });
    this.#assertOpen();
    for (const key of await this.#keysUnder(prefix)) await this.#remove(key);
  }

  /**
   * Waits for the operations under way, then releases the lock. Later calls are
   * refused: writing without the lock would break the one-writer rule.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queues.idle();
    await this.#lock?.release();
  }

  async #read(key: readonly string[]): Promise<{ payload: Uint8Array; sequence: bigint } | undefined> {
    const file = this.#pathOf(key);
    // Under the key's queue, so that a corrupt file is never confused with, and
    // quarantined in place of, a good one a concurrent save is renaming over it.
    return this.#serialize(file, async () => {
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(file);
      } catch (error) {
        const code = errorCode(error);
        if (code === "ENOENT" || code === "ENOTDIR") return undefined;
        throw error;
      }
      const chunk = decodeChunk(bytes);
      if (chunk.ok) return chunk;
      await this.#quarantine(key, file, chunk.reason);
      return undefined;
    });
  }

  async #write(key: readonly string[], file: string, bytes: Buffer): Promise<void> {
    const parent = path.dirname(file);
    const temp = path.join(parent, TEMP_PREFIX + randomBytes(8).toString("hex"));
    try {
      const firstCreated = await makeDirectory(parent);
      const handle = await fs.open(temp, "wx");
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, file);
      // The rename is durable once the directory is; a new directory's own entry is
      // durable once its parent is, up to the first directory that already existed.
      for (let dir = parent; ; dir = path.dirname(dir)) {
        await syncDirectory(dir);
        if (firstCreated === undefined || dir === path.dirname(firstCreated) || dir === this.dir) break;
      }
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      throw new StorageWriteError(key, error);
    }
  }

  async #remove(key: readonly string[]): Promise<void> {
    const file = this.#pathOf(key);
    // No directory fsync: a removal undone by a crash only brings back a chunk that is
    // still valid, and automerge loads the same changes twice without harm.
    await this.#serialize(file, async () => {
      try {
        await fs.unlink(file);
      } catch (error) {
        const code = errorCode(error);
        if (code === "ENOENT" || code === "ENOTDIR") return;
        throw new StorageWriteError(key, error);
      }
    });
  }

  async #quarantine(key: readonly string[], file: string, reason: string): Promise<void> {
    const relative = path.relative(this.dir, file).split(path.sep).join("__");
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    let target = path.join(this.dir, QUARANTINE_DIR, `${stamp}-${relative}`);
    if (await exists(target)) target += `-${randomBytes(4).toString("hex")}`;
    let quarantinedTo = target;
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(file, target);
    } catch (error) {
      quarantinedTo = file;
      reason += ` (could not move it to quarantine: ${error instanceof Error ? error.message : String(error)})`;
    }
    const report: CorruptionReport = { key: [...key], documentId: key[0] ?? "", path: file, quarantinedTo, reason };
    this.#corruptions.push(report);
    if (this.#corruptions.length > MAX_CORRUPTIONS_KEPT) this.#corruptions.shift();
    this.#onCorrupt?.(report);
  }

  /** Keys of the chunk files at or under `prefix`, from the directory tree. */
  async #keysUnder(prefix: readonly string[]): Promise<string[][]> {
    const first = prefix[0];
    if (first === undefined) {
      // Everything: each shard directory holds the keys whose first part starts with
      // its name. `quarantine` (too long for a shard), `LOCK` and temp files are skipped.
      const keys: string[][] = [];
      for (const shard of await listDirectory(this.dir)) {
        if (!shard.isDirectory() || shard.name.length > 2 || !isValidKeyPart(shard.name)) continue;
        const inShard = await walk(path.join(this.dir, shard.name), []);
        keys.push(...inShard.filter((key) => shardOf(key[0] ?? "") === shard.name));
      }
      return keys;
    }
    const keys: string[][] = [];
    if (await isFile(this.#pathOf(prefix))) keys.push([...prefix]);
    keys.push(...(await walk(this.#resolve(prefix, [shardOf(first), ...prefix]), prefix)));
    return keys;
  }

  /** The chunk file of a validated key (see the layout above). */
  #pathOf(key: readonly string[]): string {
    const first = key[0] ?? "";
    const last = key[key.length - 1] ?? "";
    return this.#resolve(key, [shardOf(first), ...key.slice(0, -1), last + CHUNK_SUFFIX]);
  }

  /** Joins `segments` under the data directory, refusing anything that lands outside it. */
  #resolve(key: readonly string[], segments: string[]): string {
    const resolved = path.resolve(this.dir, ...segments);
    const relative = path.relative(this.dir, resolved);
    // Validation already rules this out; this is the second line of defence.
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
      throw new InvalidStorageKeyError(key, "resolves outside the data directory");
    }
    return resolved;
  }

  /** Runs `task` after every earlier operation on the same file has finished. */
  #serialize<T>(file: string, task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedError());
    return this.#queues.run(file, task);
  }

  #assertOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): Error {
    return new Error(`The storage at ${this.dir} is closed`);
  }

  /** Microseconds since the epoch, strictly increasing within this adapter. */
  #nextSequence(): bigint {
    const now = BigInt(Date.now()) * 1000n;
    this.#lastSequence = now > this.#lastSequence ? now : this.#lastSequence + 1n;
    return this.#lastSequence;
  }
}

function shardOf(firstPart: string): string {
  return firstPart.slice(0, 2);
}

/** The key part a chunk file stands for, or undefined if `entry` is not a chunk file. */
function chunkName(entry: { name: string; isFile(): boolean }): string | undefined {
  return entry.isFile() && entry.name.endsWith(CHUNK_SUFFIX) ? entry.name.slice(0, -CHUNK_SUFFIX.length) : undefined;
}

/** Keys of the chunk files below `dir`, which holds the keys starting with `prefix`. */
async function walk(dir: string, prefix: readonly string[]): Promise<string[][]> {
  const keys: string[][] = [];
  if (prefix.length >= MAX_KEY_PARTS) return keys;
  // Symbolic links are neither chunks nor directories here: never followed out of the tree.
  for (const entry of await listDirectory(dir)) {
    const name = chunkName(entry);
    if (name !== undefined && isValidKeyPart(name)) keys.push([...prefix, name]);
    else if (entry.isDirectory() && isValidKeyPart(entry.name)) {
      keys.push(...(await walk(path.join(dir, entry.name), [...prefix, entry.name])));
    }
  }
  return keys;
}

async function listDirectory(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw error;
  }
}

/** Whether `file` exists; `isFile` also requires it to be a regular file, not a link. */
async function exists(file: string): Promise<boolean> {
  return (await lstatOrUndefined(file)) !== undefined;
}

async function isFile(file: string): Promise<boolean> {
  return (await lstatOrUndefined(file))?.isFile() ?? false;
}

async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(file);
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}

/** Removes the temp files of writes a crash interrupted; the files they were to replace are intact. */
async function removeTempFiles(dir: string, top = true): Promise<void> {
  for (const entry of await listDirectory(dir)) {
    const full = path.join(dir, entry.name);
    if (entry.name.startsWith(TEMP_PREFIX)) await fs.rm(full, { force: true, recursive: true });
    else if (entry.isDirectory() && !(top && entry.name === QUARANTINE_DIR)) await removeTempFiles(full, false);
  }
}

/**
 * The snapshot and incremental chunk files of a document in the layout above, listed
 * without reading them: `<dir>/<first 2 chars>/<id>/<kind>/*.chunk`. Anything that is
 * not a valid key part yields nothing (an ID from the network never becomes a path).
 */
async function* documentChunkFiles(dir: string, documentId: string): AsyncGenerator<string> {
  if (!isValidKeyPart(documentId)) return;
  const base = path.join(dir, documentId.slice(0, 2), documentId);
  for (const kind of ["snapshot", "incremental"]) {
    let names: string[];
    try {
      names = await fs.readdir(path.join(base, kind));
    } catch {
      continue; // Missing: no chunk of this kind.
    }
    for (const name of names) if (name.endsWith(".chunk")) yield path.join(base, kind, name);
  }
}

/**
 * Bytes of a document's snapshot and incremental chunks on disk (0 if it has none): how
 * long it will take to load (the document workers go by it).
 */
export async function documentSizeOnDisk(dir: string, documentId: string): Promise<number> {
  let total = 0;
  for await (const file of documentChunkFiles(dir, documentId)) {
    try {
      total += (await fs.stat(file)).size;
    } catch {
      // Compacted away meanwhile.
    }
  }
  return total;
}
