/**
 * Between a Writer document (Automerge) and the Word converters: comment anchors
 * (Automerge indexes) to ProseMirror positions for export, and an imported file's
 * text and comments into a new document in one change for import, so that a file
 * that fails halfway leaves nothing half-made.
 */
import { next as A } from "@automerge/automerge/slim";
import { pmNodeToSpans } from "@automerge/prosemirror";
import { amSpliceIdxToPmIdx, pmRangeToAmRange } from "@automerge/prosemirror/dist/traversal.js";
import type { Node as PMNode } from "prosemirror-model";
import { addComment, anchoredThreads, replyToComment, resolveComment, type CommentAuthor } from "../../comments";
import { TEXT_PATH, type WriterDocument } from "../../document";
import { schemaAdapter } from "../../editor/schema";
import { updateSpansExactly } from "../../spans";
import type { DocxComment } from "./export";
import type { DocxImport } from "./import";

/** The document's comment threads with their places in `pmDoc` (the editor's document made from `doc`). */
export function commentsForDocx(doc: WriterDocument, pmDoc: PMNode): DocxComment[] {
  const spans = A.spans(doc, TEXT_PATH);
  const size = pmDoc.content.size;
  const at = (index: number) => amSpliceIdxToPmIdx(schemaAdapter, spans, index);
  return anchoredThreads(doc).map(({ thread, range }) => {
    if (!range) return { id: thread.id, from: null, to: null, thread };
    const from = at(range.start);
    // After the last character: the index after it can be the next block's marker.
    const last = at(range.end - 1);
    if (from === null || last === null) return { id: thread.id, from: null, to: null, thread };
    return { id: thread.id, from, to: Math.min(size, last + 1), thread };
  });
}

/** Who wrote an imported comment: a name from the file and no writer ID, so no one here can edit it as theirs. */
function importedAuthor(name: string): CommentAuthor {
  return { name, writer: "" };
}

/**
 * Fills a new, empty document with an imported file: its text, then its comments on
 * the same words. Call inside `handle.change`. Returns how many comments were added.
 */
export function applyDocxImport(d: WriterDocument, parsed: Pick<DocxImport, "doc" | "comments">, importedFrom: string): number {
  updateSpansExactly(d, TEXT_PATH, pmNodeToSpans(schemaAdapter, parsed.doc));
  const spans = A.spans(d, TEXT_PATH);
  let added = 0;
  for (const c of parsed.comments) {
    const [first, ...replies] = c.messages;
    // One comment that cannot be placed is left out; the document and the others still come in.
    try {
      const range = pmRangeToAmRange(schemaAdapter, spans, { from: c.from, to: c.to });
      if (!range || range.end <= range.start || !first) continue;
      const id = addComment(d, range, first.text, importedAuthor(first.author), first.at, undefined, importedFrom);
      for (const r of replies) if (r.text.trim()) replyToComment(d, id, r.text, importedAuthor(r.author), r.at);
      if (c.resolved) {
        const lastMessage = c.messages[c.messages.length - 1]!;
        resolveComment(d, id, importedAuthor(lastMessage.author), lastMessage.at);
      }
      added++;
    } catch {
      continue;
    }
  }
  return added;
}
