import { parseAutomergeUrl, type AutomergeUrl, type DocHandle, type DocumentId, type Repo } from "@automerge/automerge-repo";
import type { SearchHit } from "../shared/api";
import { initDocument, isWriterDocument, type AuthorInfo, type WriterDocument } from "../shared/document";
import { foldForSearch, LIBRARY_SCHEMA_VERSION, makeSnippet, type LibraryDocument, type LibraryEntry } from "../shared/library";
import type { ImportedBackup, ImportExisting } from "../shared/api";
import { backupOrigin, RepoDocuments, summarize, type DocumentAccess, type DocumentSummary } from "./documentOps";

/** "4 Dec 2026": the date in an imported copy's title, the same on every system. */
function importDate(ms: number): string {
  return new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}

/** A request named a document that is not in this library. */
export class DocumentNotFoundError extends Error {
  constructor(readonly url: string) {
    super(`No document ${url} in this library.`);
    this.name = "DocumentNotFoundError";
  }
}

/** Fills a new library document. */
export function initLibrary(doc: LibraryDocument): void {
  doc.schemaVersion = LIBRARY_SCHEMA_VERSION;
  doc.documents = {};
}

const MAX_SEARCH_HITS = 50;

/**
 * The writer's document library, owned by the host: every operation that creates,
 * moves or deletes documents goes through here, so the renderer only edits text. The
 * library document and new documents live in `repo`; existing documents are reached
 * through `documents` (the host's: in whichever thread holds each, HostDocuments).
 */
export class Library {
  readonly #repo: Repo;
  readonly #handle: DocHandle<LibraryDocument>;
  readonly #now: () => number;
  readonly #documents: DocumentAccess;

  constructor(repo: Repo, handle: DocHandle<LibraryDocument>, now: () => number = Date.now, documents: DocumentAccess = new RepoDocuments(repo)) {
    this.#repo = repo;
    this.#handle = handle;
    this.#now = now;
    this.#documents = documents;
  }

  get url(): AutomergeUrl {
    return this.#handle.url;
  }

  get documentId(): DocumentId {
    return this.#handle.documentId;
  }

  /** A snapshot of the entries, keyed by document ID. */
  entries(): Record<string, LibraryEntry> {
    return this.#handle.doc().documents;
  }

  /** Creates an empty document and lists it. */
  create(title = ""): AutomergeUrl {
    const now = this.#now();
    const handle = this.#repo.create<WriterDocument>();
    handle.change((doc) => initDocument(doc, title, now));
    this.#handle.change((lib) => {
      lib.documents[handle.documentId] = { url: handle.url, title, createdAt: now, updatedAt: now, trashedAt: null, snippet: "", words: 0 };
    });
    return handle.url;
  }

  /**
   * Lists a document someone shared (by its link). Its title and text arrive when it
   * syncs; until then it shows as untitled. Listing it again restores it from the trash.
   */
  addShared(url: AutomergeUrl): void {
    const { documentId } = parseAutomergeUrl(url);
    const now = this.#now();
    this.#handle.change((lib) => {
      const existing = lib.documents[documentId];
      if (existing) {
        if (existing.trashedAt !== null) existing.trashedAt = null;
        return;
      }
      lib.documents[documentId] = { url, title: "", createdAt: now, updatedAt: now, trashedAt: null, snippet: "", words: 0 };
    });
  }

  /**
   * Adds the entries of another library that this one lacks: when a device links to
   * an existing library, the documents it already had stay listed.
   */
  adopt(entries: Record<string, LibraryEntry>): number {
    const missing = Object.entries(entries).filter(([id]) => !this.entries()[id]);
    if (missing.length === 0) return 0;
    this.#handle.change((lib) => {
      for (const [id, entry] of missing) lib.documents[id] = { ...entry };
    });
    return missing.length;
  }

  /**
   * Imports a backup (a document saved with its whole history, `A.save`). A backup of a
   * document this library already has (one holding the backup's first change, in the
   * list or the trash) is not made a second entry that cannot be told apart: with
   * `existing: "ask"` nothing is imported and the known document is named, for the
   * writer to choose; "merge" merges the backup's history into it (as the sync protocol
   * would: nothing in either is lost), "keep-both" imports it as a new document titled
   * "… (imported 4 Dec 2026)". Any other backup becomes a new document: same text and
   * history, a new identity, so it never merges with the original by accident. Throws
   * a RangeError (the request's fault) when the bytes are not a Writer document.
   */
  async importBackup(bytes: Uint8Array, existing: ImportExisting = "keep-both", author?: AuthorInfo): Promise<ImportedBackup> {
    const origin = backupOrigin(bytes);
    const known = origin === undefined ? undefined : await this.#holding(origin.hash, origin.title);
    if (known && existing === "ask") {
      return { known: { url: known.url, title: known.title, updatedAt: known.updatedAt, trashed: known.trashedAt !== null } };
    }
    if (known && existing === "merge") {
      const documentId = idOf(known.url);
      const merged = await this.#documents.mergeBackup(documentId, bytes);
      if ("refused" in merged) throw new RangeError(merged.refused);
      const now = this.#now();
      this.#handle.change((lib) => {
        const e = lib.documents[documentId];
        if (!e) return;
        Object.assign(e, merged.summary);
        e.updatedAt = now;
        e.trashedAt = null;
      });
      return { url: known.url, title: merged.summary.title, outcome: "merged" };
    }
    const imported = await this.#documents.import(bytes);
    if ("refused" in imported) throw new RangeError(imported.refused);
    const { documentId } = imported;
    const summary = { ...imported.summary };
    const url = `automerge:${documentId}` as AutomergeUrl;
    const now = this.#now();
    if (known) {
      summary.title = `${summary.title || "Untitled"} (imported ${importDate(now)})`;
      await this.#documents.rename(documentId, summary.title, author);
    }
    this.#handle.change((lib) => {
      lib.documents[documentId] = { url, ...summary, createdAt: now, updatedAt: now, trashedAt: null };
    });
    return { url, title: summary.title, outcome: known ? "kept-both" : "new" };
  }

  /**
   * The entry whose document holds the change `hash`, if any: entries with the backup's
   * title are asked first (the usual case), then the rest. A document that cannot be
   * read is passed over.
   */
  async #holding(hash: string, title: string): Promise<LibraryEntry | undefined> {
    const entries = Object.values(this.entries()).sort((a, b) => Number(b.title === title) - Number(a.title === title));
    for (const entry of entries) {
      try {
        if (await this.#documents.hasChange(idOf(entry.url), hash)) return entry;
      } catch {
        // Not here, or damaged: not the one.
      }
    }
    return undefined;
  }

  /** Copies a document, history included, as a new document titled "… (copy)". */
  async duplicate(url: string): Promise<AutomergeUrl> {
    const source = this.#entry(url);
    const title = `${source.title || "Untitled"} (copy)`;
    const copyId = await this.#documents.clone(idOf(source.url), title);
    const copyUrl = `automerge:${copyId}` as AutomergeUrl;
    const now = this.#now();
    this.#handle.change((lib) => {
      lib.documents[copyId] = { ...source, url: copyUrl, title, createdAt: now, updatedAt: now, trashedAt: null };
    });
    return copyUrl;
  }

  /** Renames a document: the title lives in the document, the entry caches it. */
  async rename(url: string, title: string): Promise<void> {
    const entry = this.#entry(url);
    const documentId = idOf(entry.url);
    await this.#documents.rename(documentId, title);
    this.#handle.change((lib) => {
      const e = lib.documents[documentId];
      if (e) e.title = title;
    });
  }

  trash(url: string): void {
    const id = this.#entry(url) && idOf(url);
    this.#handle.change((lib) => {
      const e = lib.documents[id];
      if (e) e.trashedAt = this.#now();
    });
  }

  restore(url: string): void {
    const id = this.#entry(url) && idOf(url);
    this.#handle.change((lib) => {
      const e = lib.documents[id];
      if (e) e.trashedAt = null;
    });
  }

  /**
   * Deletes a trashed document from this library (at once: it throws when it cannot)
   * and from this computer's disk (resolves once the thread holding it has).
   */
  deleteForever(url: string): Promise<void> {
    const entry = this.#entry(url);
    if (entry.trashedAt === null) throw new RangeError("Only documents in the trash can be deleted for good.");
    const id = idOf(url);
    this.#handle.change((lib) => {
      delete lib.documents[id];
    });
    return this.#documents.delete(id);
  }

  /** Deletes every trashed document; returns how many. */
  async emptyTrash(): Promise<number> {
    const trashed = Object.values(this.entries()).filter((e) => e.trashedAt !== null);
    await Promise.all(trashed.map((e) => this.deleteForever(e.url)));
    return trashed.length;
  }

  /**
   * Brings an entry's title, snippet, word count and last-edit time up to date after
   * its document changed. Writes to the library only when something differs.
   */
  refresh(documentId: string, doc: WriterDocument): void {
    if (this.entries()[documentId] && isWriterDocument(doc)) this.refreshSummary(documentId, summarize(doc));
  }

  /** `refresh` from a summary taken where the document is (documentOps.ts); `editedAt` is when the change reached the disk (default: now). */
  refreshSummary(documentId: string, { title, snippet, words }: DocumentSummary, editedAt?: number): void {
    if (!this.entries()[documentId]) return;
    this.#handle.change((lib) => {
      const e = lib.documents[documentId];
      if (!e) return;
      // Never backwards: a late refresh of an older save does not undo a newer one.
      const at = editedAt ?? this.#now();
      if (at > e.updatedAt) e.updatedAt = at;
      if (e.title !== title) e.title = title;
      if (e.snippet !== snippet) e.snippet = snippet;
      if (e.words !== words) e.words = words;
    });
  }

  /**
   * Finds documents whose title or text contains every word of `query`, ignoring case
   * and accents. Titles rank before text; recent documents first within each.
   */
  async search(query: string): Promise<SearchHit[]> {
    const terms = foldForSearch(query).split(/\s+/).filter(Boolean);
    if (terms.length === 0) return [];
    const candidates = Object.values(this.entries())
      .filter((e) => e.trashedAt === null)
      .sort((a, b) => b.updatedAt - a.updatedAt);
    const titleHits: SearchHit[] = [];
    const textHits: SearchHit[] = [];
    for (const entry of candidates) {
      if (titleHits.length + textHits.length >= MAX_SEARCH_HITS) break;
      const title = foldForSearch(entry.title);
      let text: string;
      try {
        text = await this.#documents.plainText(idOf(entry.url));
      } catch {
        text = entry.snippet;
      }
      const folded = foldForSearch(text);
      if (!terms.every((t) => title.includes(t) || folded.includes(t))) continue;
      const hit = { url: entry.url, title: entry.title, ...context(text, folded, terms[0]!) };
      (terms.every((t) => title.includes(t)) ? titleHits : textHits).push(hit);
    }
    return [...titleHits, ...textHits];
  }

  #entry(url: string): LibraryEntry {
    const entry = this.entries()[idOf(url)];
    if (!entry) throw new DocumentNotFoundError(url);
    return entry;
  }
}

function idOf(url: string): DocumentId {
  return parseAutomergeUrl(url as AutomergeUrl).documentId;
}

/** About 60 characters either side of the first match of `term`. */
function context(text: string, folded: string, term: string): { context: string; match: [number, number] | null } {
  const at = folded.indexOf(term);
  const span = at < 0 ? null : unfold(text, folded, at, at + term.length);
  if (!span) return { context: makeSnippet(text), match: null };
  const [from, to] = span;
  let start = Math.max(0, from - 60);
  let end = Math.min(text.length, to + 60);
  // Never cut an emoji (a surrogate pair) in half.
  if (start > 0 && isLowSurrogate(text.charCodeAt(start))) start--;
  if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end++;
  const prefix = start > 0 ? "…" : "";
  const raw = text.slice(start, end).replace(/\s/g, " ");
  const ctx = prefix + raw + (end < text.length ? "…" : "");
  const m0 = prefix.length + (from - start);
  return { context: ctx, match: [m0, m0 + (to - from)] };
}

/**
 * Maps [from, to) in `folded` back onto `text`. Folding changes lengths ("…" becomes
 * "...", "ﬁ" "fi", a decomposed accent disappears), so offsets in the folded text are
 * not offsets in the text: fold character by character up to the match instead.
 * Returns null in the rare case where that disagrees with folding the whole text.
 */
function unfold(text: string, folded: string, from: number, to: number): [number, number] | null {
  const starts: number[] = [];
  const ends: number[] = [];
  let pieces = "";
  let i = 0;
  for (const ch of text) {
    if (starts.length >= to) break;
    // ASCII needs no normalising (and this runs over the text up to the match).
    const f = ch < "\u0080" ? ch.toLocaleLowerCase() : foldForSearch(ch);
    for (let k = 0; k < f.length; k++) {
      starts.push(i);
      ends.push(i + ch.length);
    }
    pieces += f;
    i += ch.length;
  }
  if (starts.length < to || !pieces.startsWith(folded.slice(0, to))) return null;
  return [starts[from]!, ends[to - 1]!];
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
