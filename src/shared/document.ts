/**
 * The shape of a writer's document inside Automerge, and the few operations on it
 * that every process agrees on. Pure code: imports Automerge only as types and the
 * slim build, so it runs in the renderer, the host and the relay.
 */
import { next as A } from "@automerge/automerge/slim";
import type { CommentThread } from "./comments";

/** Bumped when the document shape changes; readers refuse versions they do not know. */
export const DOCUMENT_SCHEMA_VERSION = 1;

/** Path of the rich-text field that the editor binds to. */
export const TEXT_PATH: A.Prop[] = ["text"];

/** Who an Automerge actor belongs to, so that history can name authors later. */
export interface AuthorInfo {
  name: string;
  color: string;
  /** The writer behind the actor (their settings' writerId): a rename reaches every actor of theirs. */
  writer?: string;
  /** When this record was written (ms): the newest record of a writer names all of theirs. */
  at?: number;
}

export interface WriterDocument {
  schemaVersion: number;
  title: string;
  /** Rich text: characters interleaved with block markers (see @automerge/prosemirror). */
  text: string;
  /** Actor ID (hex) to the user who wrote with it. */
  authors: Record<string, AuthorInfo>;
  createdAt: number;
  /** Named versions (see shared/history.ts), keyed by their heads; absent until one is named. */
  versions?: Record<string, { name: string; heads: string[]; at: number }>;
  /** Comment threads (see shared/comments.ts), keyed by their IDs; absent until the first comment. */
  comments?: Record<string, CommentThread>;
}

/** Fills a freshly created Automerge document with an empty paragraph and a title. */
export function initDocument(doc: WriterDocument, title: string, now: number): void {
  doc.schemaVersion = DOCUMENT_SCHEMA_VERSION;
  doc.title = title;
  doc.text = "";
  doc.authors = {};
  doc.createdAt = now;
  A.splitBlock(doc, TEXT_PATH, 0, { type: new A.ImmutableString("paragraph"), parents: [], attrs: {} });
}

/** True when `doc` looks like a document this version can open. */
export function isWriterDocument(doc: unknown): doc is WriterDocument {
  if (!doc || typeof doc !== "object") return false;
  const d = doc as Partial<WriterDocument>;
  return typeof d.schemaVersion === "number" && d.schemaVersion <= DOCUMENT_SCHEMA_VERSION && typeof d.text === "string";
}

/**
 * The document's visible text: block markers become line breaks, so that search and
 * counts see words the way a reader does.
 */
export function plainText(doc: WriterDocument): string {
  const parts: string[] = [];
  let first = true;
  for (const span of A.spans(doc, TEXT_PATH)) {
    if (span.type === "block") {
      if (!first) parts.push("\n");
    } else if (span.marks?.["suggest-delete"] == null) {
      // As if every suggestion were accepted: the library's snippet, word count and search
      // leave out text suggested for deletion (shared/suggestions.ts).
      parts.push(span.value);
    }
    first = false;
  }
  return parts.join("");
}

/** Records which user an actor belongs to; a no-op when already known and unchanged. */
export function recordAuthor(doc: WriterDocument, actorId: string, author: AuthorInfo): void {
  const known = doc.authors[actorId];
  if (known && known.name === author.name && known.color === author.color && known.writer === author.writer) return;
  doc.authors[actorId] = { name: author.name, color: author.color, ...(author.writer ? { writer: author.writer, at: author.at ?? Date.now() } : {}) };
}
