/**
 * First paint from a cache: beside each document the host keeps what the
 * window needs to show its text at once (title and rich-text spans) with the heads they
 * were taken at. Opening a document shows that, read-only, while the document itself
 * loads and syncs into the window; the editor then replaces it.
 *
 * A cache is never trusted over the document: it is only ever shown until the document
 * is there, it is rewritten from the document whenever the host has the document and
 * the heads differ, and a file that does not read back as a cache is deleted and
 * ignored. Losing it costs nothing but the early paint, so it is written with a plain
 * rename (no fsync): a torn file after a power cut is caught by the checks.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { threadId } from "node:worker_threads";
import { next as A } from "@automerge/automerge";
import { TEXT_PATH, type WriterDocument } from "../shared/document";
import type { RenderCacheView } from "../shared/api";
import { SerialByKey } from "../shared/serialByKey";
import { sameHeads } from "../shared/sync/heads";

/** Bumped when the file's shape changes; other versions are thrown away. */
const VERSION = 1;
/** Documents whose spans take more than this as JSON are not cached (a first paint must be quick to read). */
const MAX_BYTES = 8 * 1024 * 1024;
const HASH = /^[0-9a-f]{64}$/;
/** automerge-repo document IDs: base58. */
const DOCUMENT_ID = /^[1-9A-HJ-NP-Za-km-z]{20,60}$/;

interface CacheFile extends RenderCacheView {
  version: number;
}

export class RenderCache {
  readonly #dir: string;
  #ready: Promise<void> | undefined;
  /** Each document's updates, one at a time. */
  readonly #writes = new SerialByKey();

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, "render-cache");
  }

  #file(documentId: string): string {
    if (!DOCUMENT_ID.test(documentId)) throw new RangeError(`not a document ID: ${documentId}`);
    return path.join(this.#dir, `${documentId}.json`);
  }

  /** The cache for a document, or null when there is none or it does not read back whole. */
  async read(documentId: string): Promise<RenderCacheView | null> {
    const file = this.#file(documentId);
    let raw: string;
    try {
      raw = await fs.readFile(file, "utf8");
    } catch {
      return null;
    }
    const parsed = parse(raw);
    if (!parsed) await fs.rm(file, { force: true });
    return parsed;
  }

  /**
   * Writes the cache from the document, unless it already stands at the document's heads.
   * Updates of one document run one after the other, in the order they were called: a
   * window's read and a load's rewrite come together, and two writes at once would share
   * the temporary file (one rename finds it gone, or moves the other's half-written one).
   */
  update(documentId: string, doc: WriterDocument, known?: string[]): Promise<void> {
    return this.#writes.run(documentId, () => this.#write(documentId, doc, known));
  }

  async #write(documentId: string, doc: WriterDocument, known?: string[]): Promise<void> {
    const heads = A.getHeads(doc);
    if (known && sameHeads(known, heads)) return;
    const view: CacheFile = { version: VERSION, heads, title: typeof doc.title === "string" ? doc.title : "", spans: A.spans(doc, TEXT_PATH) as unknown[] };
    const json = JSON.stringify(view);
    const file = this.#file(documentId);
    if (json.length > MAX_BYTES) {
      await fs.rm(file, { force: true });
      return;
    }
    this.#ready ??= fs.mkdir(this.#dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    await this.#ready;
    // The thread too: the host's document worker (workers/worker.ts) writes caches beside the main thread.
    const tmp = `${file}.${process.pid}.${threadId}.tmp`;
    await fs.writeFile(tmp, json, { mode: 0o600 });
    await fs.rename(tmp, file);
  }

  async remove(documentId: string): Promise<void> {
    await fs.rm(this.#file(documentId), { force: true });
  }
}

/** A cache file's content, checked: anything else (torn, edited, another version) is null. */
function parse(raw: string): RenderCacheView | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  const v = value as Partial<CacheFile> | null;
  if (!v || typeof v !== "object" || v.version !== VERSION) return null;
  if (!Array.isArray(v.heads) || v.heads.length === 0 || v.heads.length > 64 || !v.heads.every((h) => typeof h === "string" && HASH.test(h))) return null;
  if (typeof v.title !== "string" || !Array.isArray(v.spans)) return null;
  for (const span of v.spans as { type?: unknown; value?: unknown }[]) {
    if (!span || typeof span !== "object") return null;
    if (span.type === "text" && typeof span.value === "string") continue;
    if (span.type === "block" && span.value && typeof span.value === "object") continue;
    return null;
  }
  return { heads: v.heads, title: v.title, spans: v.spans };
}
