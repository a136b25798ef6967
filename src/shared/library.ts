/**
 * The library document: the list of a writer's documents, trash included. It is an
 * Automerge document like any other, so a second device links by opening its URL.
 */
export const LIBRARY_SCHEMA_VERSION = 1;

export interface LibraryEntry {
  url: string;
  title: string;
  createdAt: number;
  /** Last local or remote edit, for sorting; never used to merge anything. */
  updatedAt: number;
  /** When it was moved to the trash, or null while it is in the library. */
  trashedAt: number | null;
  /** The first words of the text, for the list and for search results. */
  snippet: string;
  words: number;
}

export interface LibraryDocument {
  schemaVersion: number;
  /** Keyed by document ID. */
  documents: Record<string, LibraryEntry>;
}

/** Untitled documents show this in the list and the window title. */
export const UNTITLED = "Untitled";

/** Entries in the library (not trashed), most recently edited first. */
export function activeEntries(library: LibraryDocument): LibraryEntry[] {
  return Object.values(library.documents)
    .filter((e) => e.trashedAt === null)
    .sort((a, b) => b.updatedAt - a.updatedAt || a.title.localeCompare(b.title));
}

/** Entries in the trash, most recently trashed first. */
export function trashedEntries(library: LibraryDocument): LibraryEntry[] {
  return Object.values(library.documents)
    .filter((e) => e.trashedAt !== null)
    .sort((a, b) => (b.trashedAt ?? 0) - (a.trashedAt ?? 0));
}

/** Case- and accent-insensitive form used for matching search queries. */
export function foldForSearch(s: string): string {
  return s.normalize("NFKD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

/**
 * A short, single-line excerpt of `text` (blocks on lines of their own) for the document
 * list. A block that ends without punctuation (a heading, a list item) is followed by
 * " · ", so that "The storm" and "The lamp had burned…" do not run together.
 */
export function makeSnippet(text: string, max = 140): string {
  const blocks = text
    .split("\n")
    .map((b) => b.replace(/\s+/g, " ").trim())
    .filter((b) => b.length > 0);
  const flat = blocks.map((b, i) => (i === blocks.length - 1 ? b : /[.!?:;,…"'”’)\]]$/.test(b) ? `${b} ` : `${b} · `)).join("");
  return flat.length <= max ? flat : flat.slice(0, max - 1).trimEnd() + "…";
}
