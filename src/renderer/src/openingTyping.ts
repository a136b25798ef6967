/**
 * Typing on a document's opening page (openingPage.ts), kept per document until the
 * document has loaded and then given to it.
 *
 * The page is early.ts's for the reopened document (it was typed on before the app's
 * script ran), or one CachedPage draws. Either way it outlives the components that show
 * it: the app shows it in two places in turn while it starts, and the editor takes it.
 */
import { next as A } from "@automerge/automerge/slim";
import { encodeHeads, type DocHandle } from "@automerge/automerge-repo/slim";
import type { RenderCacheView } from "../../shared/api";
import { TEXT_PATH } from "../../shared/document";
import { sameHeads } from "../../shared/sync/heads";
import { TypingOnCache, type TypedOnCache } from "./openingPage";

const pages = new Map<string, TypingOnCache>();

/** The opening page of `url`, drawn from `view` unless one is already under way. */
export function openingPageFor(url: string, view: RenderCacheView): TypingOnCache {
  let page = pages.get(url);
  if (page) return page;
  const early = window.writerEarlyTyping;
  if (early && url === window.writerReopening && window.writerEarlyPaint === view) {
    page = early;
    window.writerEarlyTyping = undefined;
  } else {
    page = new TypingOnCache(view.spans, view.heads);
  }
  pages.set(url, page);
  return page;
}

/** Ends typing on `url`'s opening page, if it had one: what was typed there. */
export function takeOpeningTyping(url: string): TypedOnCache | null {
  const page = pages.get(url);
  if (!page) return null;
  pages.delete(url);
  return page.take();
}

export type Placed = { caret: number | null } | { failed: string };

/**
 * Applies what was typed on the cache to the document, as one change made at the cache's
 * heads: if the document moved on since (another device's edits, typing that had not
 * reached the cache), Automerge merges the two as concurrent edits, and nothing of either
 * is lost. Returns the caret's position in the document as it is now.
 *
 * A cache from heads the document does not have (it cannot be, short of a damaged
 * file) leaves the document untouched and says what was typed, for the writer to keep.
 */
export function placeOpeningTyping<T>(handle: DocHandle<T>, typed: TypedOnCache): Placed {
  if (typed.splices.length === 0) return { caret: null };
  const failed = { failed: typed.splices.map((s) => s.insert).join("") };
  const doc = handle.doc() as A.Doc<unknown>;
  if (typed.heads.length === 0 || A.getMissingDeps(doc, typed.heads).length > 0) return failed;
  let cursor: A.Cursor | undefined;
  const edit = (d: T) => {
    for (const s of typed.splices) A.splice(d as A.Doc<unknown>, TEXT_PATH, s.index, s.remove, s.insert);
    if (typed.caret !== null) cursor = A.getCursor(d as A.Doc<unknown>, TEXT_PATH, typed.caret);
  };
  try {
    if (sameHeads(A.getHeads(doc), typed.heads)) handle.change(edit);
    else handle.changeAt(encodeHeads(typed.heads), edit);
  } catch (error) {
    console.warn("what was typed while the document opened could not be applied", error);
    return failed;
  }
  return { caret: cursor ? A.getCursorPosition(handle.doc() as A.Doc<unknown>, TEXT_PATH, cursor) : null };
}
