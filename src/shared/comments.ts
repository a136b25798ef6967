/**
 * Comments: threads anchored to the text by Automerge cursors, kept in the document
 * beside the text (never inside it), so that they sync, merge and survive offline
 * work like everything else, and never reach the word count or a plain export.
 *
 * An anchor is cursors on the commented text's first and last characters (the first
 * moves forward when deleted, the last back), inside two cursors on the characters
 * around it (the one just before, which moves back, and the one just after, which moves
 * forward). The comment covers what lies between its first and last characters, so it
 * follows its text through anyone's edits and merges, and text typed just before or
 * after it stays outside it. When all of that text is deleted the range is empty and
 * the thread is listed as "on deleted text" (with the words it was on, kept in
 * `quote`), even once other words are typed where it was; a restore of a version that
 * had the text puts the comment back on it (`reanchorToVersion`). Threads written
 * before the inner cursors existed use the outer ones alone. Marks were the other choice: they would pass through the
 * ProseMirror binding, which folds all marks it does not know into one, and two
 * overlapping comments would replace each other there.
 *
 * Pure code over the Automerge document (call the changing functions inside
 * `handle.change`); the renderer maps the ranges to editor positions.
 */
import { next as A } from "@automerge/automerge/slim";
import { TEXT_PATH, type WriterDocument } from "./document";

/** One message of a thread: the comment itself is the first. */
export interface CommentMessage {
  id: string;
  /** The author's name when they wrote it. */
  author: string;
  /** The author's writer ID (settings' writerId): who may edit or delete it. */
  writer: string;
  at: number;
  text: string;
  editedAt?: number;
  /** Deleted by its author: shown as "Comment deleted" so that replies keep their place. */
  deleted?: boolean;
}

export interface CommentThread {
  id: string;
  anchor: {
    /** Cursor on the character just before the commented text; null at the very start. */
    before: string | null;
    /** Cursor on the character just after it (Automerge's end cursor at the very end). */
    after: string;
    /** Cursor on its first character (moves forward when deleted). */
    first?: string;
    /** Cursor on its last character (moves back when deleted). */
    last?: string;
  };
  /** The commented words when the comment was made (what "on deleted text" shows). */
  quote: string;
  messages: CommentMessage[];
  resolved: { by: string; at: number } | null;
  /** The whole thread deleted by the one who started it. */
  deleted?: boolean;
  /** When and from where it was imported (a Word comment), if it was. */
  imported?: string;
}

/** Who is acting: the writer's name and ID. */
export interface CommentAuthor {
  name: string;
  writer: string;
}

/** Longest comment or reply kept (characters); longer text is refused by the UI. */
export const MAX_COMMENT_LENGTH = 10_000;

/** Where a thread stands in the text now (Automerge indexes, end exclusive). */
export interface AnchoredThread {
  thread: CommentThread;
  /** Null when every character it was on has been deleted. */
  range: { start: number; end: number } | null;
}

function newCommentId(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The threads of a document, or an empty record for documents made before comments. */
function threadsOf(doc: WriterDocument): Record<string, CommentThread> {
  return (doc.comments ?? {}) as Record<string, CommentThread>;
}

/**
 * Starts a thread on the text between Automerge indexes `start` and `end` (end
 * exclusive, start < end). Returns the thread's ID.
 */
export function addComment(doc: WriterDocument, range: { start: number; end: number }, text: string, author: CommentAuthor, now: number, id = newCommentId(), imported?: string): string {
  const length = doc.text.length;
  const start = Math.max(0, Math.min(range.start, length));
  const end = Math.max(start, Math.min(range.end, length));
  if (end <= start) throw new Error("A comment needs some text to be on.");
  const body = cleanText(text);
  if (!body) throw new Error("A comment needs some words.");
  const thread: CommentThread = {
    id,
    anchor: anchorFor(doc, start, end),
    quote: visibleText(doc.text.slice(start, end)).slice(0, 500),
    messages: [{ id: id + "-0", author: author.name, writer: author.writer, at: now, text: body }],
    resolved: null,
    ...(imported ? { imported } : {}),
  };
  if (!doc.comments) doc.comments = {};
  doc.comments[id] = thread;
  return id;
}

export function replyToComment(doc: WriterDocument, threadId: string, text: string, author: CommentAuthor, now: number): string {
  const thread = requireThread(doc, threadId);
  const body = cleanText(text);
  if (!body) throw new Error("A reply needs some words.");
  const id = `${threadId}-${newCommentId().slice(1, 9)}`;
  thread.messages.push({ id, author: author.name, writer: author.writer, at: now, text: body });
  return id;
}

/** Edits one's own message. Throws when it is someone else's. */
export function editCommentMessage(doc: WriterDocument, threadId: string, messageId: string, text: string, author: CommentAuthor, now: number): void {
  const message = ownMessage(doc, threadId, messageId, author);
  const body = cleanText(text);
  if (!body) throw new Error("A comment needs some words; delete it instead.");
  message.text = body;
  message.editedAt = now;
}

/** Deletes one's own message; deleting the first deletes the whole thread. */
export function deleteCommentMessage(doc: WriterDocument, threadId: string, messageId: string, author: CommentAuthor): void {
  const thread = requireThread(doc, threadId);
  const message = ownMessage(doc, threadId, messageId, author);
  if (thread.messages[0]?.id === messageId) {
    thread.deleted = true;
    return;
  }
  message.deleted = true;
  message.text = "";
}

export function resolveComment(doc: WriterDocument, threadId: string, author: CommentAuthor, now: number): void {
  requireThread(doc, threadId).resolved = { by: author.name, at: now };
}

export function reopenComment(doc: WriterDocument, threadId: string): void {
  requireThread(doc, threadId).resolved = null;
}

/** Every thread not deleted, with where its text is now, in the order of the text (deleted text last). */
export function anchoredThreads(doc: WriterDocument): AnchoredThread[] {
  const out: AnchoredThread[] = [];
  for (const thread of Object.values(threadsOf(doc))) {
    if (!isThread(thread) || thread.deleted) continue;
    out.push({ thread, range: threadRange(doc, thread) });
  }
  return out.sort((a, b) => (a.range?.start ?? Infinity) - (b.range?.start ?? Infinity) || a.thread.messages[0]!.at - b.thread.messages[0]!.at || (a.thread.id < b.thread.id ? -1 : 1));
}

function anchorFor(doc: WriterDocument, start: number, end: number): CommentThread["anchor"] {
  return {
    before: start > 0 ? A.getCursor(doc, TEXT_PATH, start - 1, "before") : null,
    after: A.getCursor(doc, TEXT_PATH, end, "after"),
    first: A.getCursor(doc, TEXT_PATH, start, "after"),
    last: A.getCursor(doc, TEXT_PATH, end - 1, "before"),
  };
}

/** The thread's text now, or null when all of it is deleted (or its anchor is unreadable). */
function threadRange(doc: WriterDocument, thread: CommentThread): { start: number; end: number } | null {
  try {
    const { before, after, first, last } = thread.anchor;
    let start = before === null ? 0 : A.getCursorPosition(doc, TEXT_PATH, before) + 1;
    let end = A.getCursorPosition(doc, TEXT_PATH, after);
    if (typeof first === "string" && typeof last === "string") {
      start = Math.max(start, A.getCursorPosition(doc, TEXT_PATH, first));
      end = Math.min(end, A.getCursorPosition(doc, TEXT_PATH, last) + 1);
    }
    return end > start ? { start, end } : null;
  } catch {
    // A cursor from a document this one never shared history with (a hostile or
    // damaged file): list the thread as on deleted text rather than fail.
    return null;
  }
}

/**
 * After the text was made the same as `version`'s (history's restoreVersion), puts each
 * thread that was on text in that version back on it: the restored words are new
 * characters, which the old cursors do not know. Threads made since keep their anchors.
 */
export function reanchorToVersion(doc: WriterDocument, version: WriterDocument): void {
  for (const [id, thread] of Object.entries(threadsOf(doc))) {
    if (!isThread(thread)) continue;
    const then = threadRange(version, thread);
    if (!then || then.end > doc.text.length) continue;
    const now = threadRange(doc, thread);
    if (now && now.start === then.start && now.end === then.end) continue;
    doc.comments![id]!.anchor = anchorFor(doc, then.start, then.end);
  }
}

/** A well-formed thread (documents can come from anywhere: check before trusting). */
function isThread(value: unknown): value is CommentThread {
  if (!value || typeof value !== "object") return false;
  const t = value as Partial<CommentThread>;
  const resolved = t.resolved as unknown;
  return (
    typeof t.id === "string" &&
    !!t.anchor &&
    typeof t.anchor === "object" &&
    typeof t.anchor.after === "string" &&
    (t.anchor.before === null || typeof t.anchor.before === "string") &&
    (t.anchor.first === undefined || typeof t.anchor.first === "string") &&
    (t.anchor.last === undefined || typeof t.anchor.last === "string") &&
    // Rendered as text by the margin: anything else there (an object) would break it.
    typeof t.quote === "string" &&
    (resolved === null || resolved === undefined || (typeof resolved === "object" && typeof (resolved as { by?: unknown }).by === "string" && Number.isFinite((resolved as { at?: unknown }).at))) &&
    Array.isArray(t.messages) &&
    t.messages.length > 0 &&
    t.messages.every(
      (m) => !!m && typeof m === "object" && typeof m.id === "string" && typeof m.text === "string" && typeof m.author === "string" && typeof m.writer === "string" && Number.isFinite(m.at),
    )
  );
}

/**
 * The place just after a thread's text: for a thread on deleted text, where its text
 * was (so that the margin can show it there). Null when the anchor is unreadable.
 */
export function threadPlace(doc: WriterDocument, thread: CommentThread): number | null {
  try {
    return A.getCursorPosition(doc, TEXT_PATH, thread.anchor.first ?? thread.anchor.after);
  } catch {
    return null;
  }
}

function requireThread(doc: WriterDocument, threadId: string): CommentThread {
  const thread = threadsOf(doc)[threadId];
  if (!thread || !isThread(thread)) throw new Error("That comment is not in this document any more.");
  return thread;
}

function ownMessage(doc: WriterDocument, threadId: string, messageId: string, author: CommentAuthor): CommentMessage {
  const message = requireThread(doc, threadId).messages.find((m) => m.id === messageId);
  if (!message) throw new Error("That reply is not in this thread any more.");
  if (message.writer !== author.writer) throw new Error("Only its author can change a comment.");
  return message;
}

function cleanText(text: string): string {
  return text.replace(/\r\n?/g, "\n").trim().slice(0, MAX_COMMENT_LENGTH);
}

/** Text with Automerge's block markers shown as line breaks. */
function visibleText(raw: string): string {
  return raw.replace(/\uFFFC/g, "\n").trim();
}
