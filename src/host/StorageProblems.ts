import type { StorageKey } from "@automerge/automerge-repo";
import type { Logger } from "pino";
import type { HostStatus, StorageProblem } from "../shared/api";

/** Most problems kept for the status view; older ones are in the log. */
const MAX_PROBLEMS = 50;

/** Which thread's storage a report comes from: the main thread's or the document worker's. */
export type StorageThread = "main" | "worker";

/** A chunk that failed its checks and was moved aside (the storage's onCorrupt report). */
export interface CorruptChunk {
  documentId: string;
  path: string;
  quarantinedTo: string;
  reason: string;
}

/**
 * What the writer is told about the disk: the storages' reports (a save that failed, a
 * damaged chunk set aside) turned into problems the status view lists, and whether
 * saving works now. Reports can come while the host is still opening, before the
 * library knows document titles: those problems are named once `nameDocuments` is called.
 */
export class StorageProblems {
  readonly #logger: Logger;
  readonly #problems: StorageProblem[] = [];
  /** The storages whose saves are failing now. */
  readonly #failing = new Set<StorageThread>();
  #describe: ((documentId: string) => string) | undefined;
  /** Problems to name again once documents can be described. */
  readonly #unnamed: (() => void)[] = [];

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  status(): HostStatus {
    return { storageOk: this.#failing.size === 0, problems: [...this.#problems] };
  }

  /** From now on documents are named by `describe` (their titles), including in problems already reported. */
  nameDocuments(describe: (documentId: string) => string): void {
    this.#describe = describe;
    for (const rename of this.#unnamed.splice(0)) rename();
  }

  corrupt(c: CorruptChunk): void {
    this.#logger.error({ documentId: c.documentId, path: c.path, quarantinedTo: c.quarantinedTo, reason: c.reason }, "corrupt chunk quarantined");
    const problem: StorageProblem = { kind: "corrupt-chunk", documentUrl: `automerge:${c.documentId}`, message: "", at: Date.now() };
    const name = () => {
      const what = this.#describe ? this.#describe(c.documentId) : `the document automerge:${c.documentId}`;
      problem.message = `Part of ${what} was damaged on disk (${c.reason}). It was set aside in ${c.quarantinedTo}; the rest of it loaded, and a relay that has it restores what was lost.`;
    };
    name();
    if (!this.#describe) this.#unnamed.push(name);
    this.#add(problem);
  }

  saveFailed(thread: StorageThread, { key, error, attempt }: { key: StorageKey; error: Error; attempt: number }): void {
    this.#logger.error({ key, err: error, attempt }, "save failed; keeping the change in memory and retrying");
    this.#failing.add(thread);
    if (attempt !== 1) return;
    this.#add({
      kind: "write-failed",
      documentUrl: key[0] ? `automerge:${key[0]}` : null,
      message: `Could not save to disk: ${describeWriteError(error)}. Your changes are kept and saving is retried.`,
      at: Date.now(),
    });
  }

  recovered(thread: StorageThread): void {
    if (this.#failing.delete(thread) && this.#failing.size === 0) this.#logger.info("saving works again; every pending change is on disk");
  }

  #add(problem: StorageProblem): void {
    this.#problems.push(problem);
    if (this.#problems.length > MAX_PROBLEMS) this.#problems.shift();
  }
}

function describeWriteError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
  switch (code) {
    case "ENOSPC":
      return "the disk is full";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "the disk is read-only";
    default:
      return error.message;
  }
}
