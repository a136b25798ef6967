// What the host does to one writer document, written once for the Repo that holds it:
// the main thread's, or the document worker's for a long document
// (workers/worker.ts). The Library and the Host reach documents through DocumentAccess
// (HostDocuments routes each call to the thread that holds the document), never
// through a Repo directly: that would load a long document on the main thread.
import { next as A } from "@automerge/automerge";
import type { DocHandle, DocumentId, Repo, StorageId } from "@automerge/automerge-repo";
import { isWriterDocument, plainText, recordAuthor, type AuthorInfo, type WriterDocument } from "../shared/document";
import { countText } from "../shared/counts";
import { makeSnippet, type LibraryEntry } from "../shared/library";
import { sameHeads } from "../shared/sync/heads";
import type { RenderCache } from "./RenderCache";

/** What a library entry shows of a document. */
export type DocumentSummary = Pick<LibraryEntry, "title" | "snippet" | "words">;

/** What a library entry shows of a document: its title, a snippet and its word count. */
export function summarize(doc: WriterDocument): DocumentSummary {
  const text = plainText(doc);
  return { title: typeof doc.title === "string" ? doc.title : "", snippet: makeSnippet(text), words: countText(text).words };
}

/**
 * The operations on one document, by document ID. Each loads the document when it is
 * not in memory, except those that say they do not.
 */
export interface DocumentAccess {
  /** Its summary if it is loaded and ready (nothing is loaded for it); null when it is not a Writer document. */
  loadedSummary(documentId: string): Promise<DocumentSummary | null | undefined>;
  /** Its plain text (search). */
  plainText(documentId: string): Promise<string>;
  /** Sets its title; `author`, when given, is who the change is credited to in the history. */
  rename(documentId: string, title: string, author?: AuthorInfo): Promise<void>;
  /** A copy with its whole history under a new identity and `title`; returns the copy's ID. */
  clone(documentId: string, title: string): Promise<string>;
  /** Removes it from memory and from the disk. */
  delete(documentId: string): Promise<void>;
  /** Makes a new document of a backup's bytes (`A.save`); what it is, or why it is not a Writer document. */
  import(bytes: Uint8Array): Promise<Imported>;
  /** Whether it holds the change with this hash (the first change of a backup: the same document). */
  hasChange(documentId: string, hash: string): Promise<boolean>;
  /** Merges a backup's history into it, as the sync protocol would; its summary after. */
  mergeBackup(documentId: string, bytes: Uint8Array): Promise<Imported>;
}

/**
 * The hash of a backup's first change (the change that created the document) and its
 * title. Two documents that hold that change are copies of one document (a backup and
 * its original), not two documents with the same title. Undefined when the bytes are
 * not a document.
 */
export function backupOrigin(bytes: Uint8Array): { hash: string; title: string } | undefined {
  try {
    const doc = A.load<{ title?: unknown }>(bytes);
    const first = A.getAllChanges(doc)[0];
    return first ? { hash: A.decodeChange(first).hash, title: typeof doc.title === "string" ? doc.title : "" } : undefined;
  } catch {
    return undefined;
  }
}

export type Imported = { documentId: string; summary: DocumentSummary } | { refused: string };

/** A backup's bytes as a Writer document, or why they are not one. */
function readBackup(bytes: Uint8Array): { doc: A.Doc<WriterDocument> } | { refused: string } {
  let loaded: A.Doc<unknown>;
  try {
    loaded = A.load<unknown>(bytes);
  } catch {
    return { refused: "This file is not a Writer backup (it could not be read as a document)." };
  }
  if (!isWriterDocument(loaded)) return { refused: "This file is a document, but not a Writer document." };
  return { doc: loaded };
}

/** Whether every change named by `heads` is on disk (Host.confirmSaved). */
export interface SaveCheck {
  hasPending(documentId: string): boolean;
}

/** The Repo's storage, told of documents deleted for good (TrackedStorage.forget). */
export interface Forgetting {
  forget(documentId: string): void;
}

/** DocumentAccess on one Repo, and the host's other per-document work there. */
export class RepoDocuments implements DocumentAccess {
  readonly #repo: Repo;
  readonly #renderCache: RenderCache | undefined;
  readonly #saves: SaveCheck | undefined;
  readonly #storage: Forgetting | undefined;

  constructor(repo: Repo, options: { renderCache?: RenderCache; saves?: SaveCheck; storage?: Forgetting } = {}) {
    this.#repo = repo;
    this.#renderCache = options.renderCache;
    this.#saves = options.saves;
    this.#storage = options.storage;
  }

  #ready(documentId: string): DocHandle<WriterDocument> | undefined {
    const handle = this.#repo.handles[documentId as DocumentId] as DocHandle<WriterDocument> | undefined;
    return handle?.isReady() ? handle : undefined;
  }

  /** Whether this Repo has the document in memory (in any state). */
  has(documentId: string): boolean {
    return this.#repo.handles[documentId as DocumentId] !== undefined;
  }

  #find(documentId: string): Promise<DocHandle<WriterDocument>> {
    return this.#repo.find<WriterDocument>(documentId as DocumentId);
  }

  async loadedSummary(documentId: string): Promise<DocumentSummary | null | undefined> {
    const handle = this.#ready(documentId);
    if (!handle) return undefined;
    const doc = handle.doc();
    return isWriterDocument(doc) ? summarize(doc) : null;
  }

  async plainText(documentId: string): Promise<string> {
    return plainText((await this.#find(documentId)).doc());
  }

  async rename(documentId: string, title: string, author?: AuthorInfo): Promise<void> {
    (await this.#find(documentId)).change((doc) => {
      A.updateText(doc, ["title"], title);
      if (author) recordAuthor(doc, A.getActorId(doc), author);
    });
  }

  async clone(documentId: string, title: string): Promise<string> {
    const copy = this.#repo.clone(await this.#find(documentId));
    copy.change((doc) => A.updateText(doc, ["title"], title));
    return copy.documentId;
  }

  async delete(documentId: string): Promise<void> {
    this.#storage?.forget(documentId);
    this.#repo.delete(documentId as DocumentId);
  }

  async import(bytes: Uint8Array): Promise<Imported> {
    const read = readBackup(bytes);
    if ("refused" in read) return read;
    const loaded = read.doc;
    // Repo.import(bytes) is create() and the bytes loaded into it (then cloned); the
    // document was loaded above already, so it goes into the new handle as it is.
    const handle = this.#repo.create<WriterDocument>();
    handle.update(() => loaded as A.Doc<WriterDocument>);
    return { documentId: handle.documentId, summary: summarize(loaded) };
  }

  async hasChange(documentId: string, hash: string): Promise<boolean> {
    const doc = (await this.#find(documentId)).doc() as A.Doc<unknown>;
    return A.hasHeads(doc, [hash]);
  }

  async mergeBackup(documentId: string, bytes: Uint8Array): Promise<Imported> {
    const read = readBackup(bytes);
    if ("refused" in read) return read;
    const handle = await this.#find(documentId);
    handle.update((doc) => A.merge(doc, read.doc as A.Doc<WriterDocument>));
    return { documentId, summary: summarize(handle.doc()) };
  }

  /** Loads the document (so that it syncs with the relays). */
  async hold(documentId: string): Promise<void> {
    await this.#find(documentId);
  }

  /** Host.confirmSaved: flushes it, then whether it has `heads` and no save of it waits. */
  async confirmSaved(documentId: string, heads: string[]): Promise<boolean> {
    const handle = this.#ready(documentId);
    if (!handle) return false;
    await this.#repo.flush([documentId as DocumentId]);
    if (!A.hasHeads(handle.doc() as A.Doc<unknown>, heads)) return false;
    return !this.#saves?.hasPending(documentId);
  }

  /**
   * Rewrites its render cache if it is loaded and a Writer document, unless the cache
   * stands at its heads (`known`). Returns the heads written at, or null.
   */
  async updateRenderCache(documentId: string, known: string[] | undefined): Promise<string[] | null> {
    const handle = this.#ready(documentId);
    if (!handle || !this.#renderCache) return null;
    const doc = handle.doc();
    if (!isWriterDocument(doc)) return null;
    await this.#renderCache.update(documentId, doc, known);
    return A.getHeads(doc);
  }

  /** For each loaded document (but `except`): whether the relay with `storageId` has our heads. */
  relayConfirmed(storageId: StorageId | null, except?: string): [string, boolean][] {
    const out: [string, boolean][] = [];
    for (const [id, handle] of Object.entries(this.#repo.handles as Record<string, DocHandle<unknown>>)) {
      if (id === except || !handle.isReady()) continue;
      const remote = storageId ? handle.getRemoteHeads(storageId) : undefined;
      out.push([id, remote !== undefined && sameHeads(handle.heads(), remote)]);
    }
    return out;
  }
}
