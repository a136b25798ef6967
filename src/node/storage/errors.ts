/**
 * A storage key (or key prefix) that must not become a path: wrong type, a part with
 * characters outside `[A-Za-z0-9_-]`, too long, too many parts, or a reserved name.
 * Thrown before anything touches the disk.
 */
export class InvalidStorageKeyError extends RangeError {
  override readonly name = "InvalidStorageKeyError";

  constructor(
    /** The key as the caller passed it; may be anything, since callers can be untyped. */
    readonly key: unknown,
    /** Why the key was refused, for logs. */
    readonly reason: string,
  ) {
    super(`Invalid storage key ${describeKey(key)}: ${reason}`);
  }
}

/**
 * The data directory is held by another live process (or, across hosts, by a process
 * we cannot check). A second instance must not write to it: two writers would
 * interleave chunk saves and compactions.
 */
export class DirectoryLockedError extends Error {
  override readonly name = "DirectoryLockedError";

  constructor(
    /** The data directory, resolved. */
    readonly dir: string,
    /** The process ID written in the lock file. */
    readonly pid: number,
    /** The host named in the lock file, when it is not this one. */
    readonly hostname?: string,
  ) {
    const who = hostname === undefined ? `pid ${pid}` : `pid ${pid} on host "${hostname}"`;
    const hint =
      hostname === undefined ? "" : ` If Writer is not running on "${hostname}", delete ${dir}/LOCK.`;
    super(
      `Another Writer process (${who}) is already using ${dir}. Close it first, or choose another data directory.${hint}`,
    );
  }
}

/**
 * A save or remove that did not reach the disk (disk full, permission denied, read-only
 * file system...). Never swallowed: the caller shows it and retries with the data it
 * still holds in memory.
 */
export class StorageWriteError extends Error {
  override readonly name = "StorageWriteError";
  /** The system error code (`ENOSPC`, `EACCES`, `EROFS`...), when there is one. */
  readonly code: string | undefined;

  constructor(
    /** The key being written or removed. */
    readonly key: readonly string[],
    cause: unknown,
  ) {
    const code = errorCode(cause);
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`Could not write storage key ${describeKey(key)}: ${detail}`, { cause });
    this.code = code;
  }
}

/** The `code` of a Node system error, if `error` is one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

/** A short, safe rendering of an untrusted key for messages (never throws, never huge). */
function describeKey(key: unknown): string {
  let text: string;
  try {
    text = Array.isArray(key)
      ? `[${key.map((part) => (typeof part === "string" ? JSON.stringify(part) : typeof part)).join(", ")}]`
      : typeof key;
  } catch {
    text = "(unprintable)";
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * A document's latest save has not reached the disk (it failed and is held in memory to
 * be retried, RetryingStorage): whatever asked must not be told it is stored.
 */
export class StorageNotDurableError extends Error {
  override readonly name = "StorageNotDurableError";

  constructor(readonly documentId: string) {
    super(`${documentId} is not on disk yet: saving it keeps failing (held in memory and retried)`);
  }
}

/** The storage's back end cannot be used at all (a database that cannot be reached or refuses the relay): nothing can start on it. */
export class StorageUnavailableError extends Error {
  override readonly name = "StorageUnavailableError";

  constructor(
    /** The back end, as fit for a log line (no password). */
    readonly backend: string,
    cause: unknown,
  ) {
    super(`Cannot use the storage at ${backend}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
