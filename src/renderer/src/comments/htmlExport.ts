/**
 * HTML export with the open comments as footnotes: a numbered reference after each
 * commented passage, and the threads (with their replies) in a list at the end. Only
 * this export carries comments; the text, the counts and the other exports never do.
 */
import { Transform } from "prosemirror-transform";
import type { Node as PMNode } from "prosemirror-model";
import { schema } from "../../../shared/editor/schema";
import { anchoredThreads, type AnchoredThread, type CommentThread } from "../../../shared/comments";
import type { WriterDocument } from "../../../shared/document";
import { acceptedView } from "../../../shared/suggestions";
import { toHTMLPage } from "../convert/html";
import { commentSpots } from "./highlight";

function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function dateOf(ms: number): string {
  return Number.isFinite(ms) ? when.format(ms) : "";
}

function footnote(n: number, thread: CommentThread, onText: boolean): string {
  const messages = thread.messages
    .filter((m) => !m.deleted)
    .map((m) => `<p><strong>${escapeHTML(m.author)}</strong>${dateOf(m.at) ? ` <small>${escapeHTML(dateOf(m.at))}</small>` : ""}<br>${escapeHTML(m.text).replace(/\n/g, "<br>")}</p>`)
    .join("\n");
  const where = onText ? ` <a href="#comment-ref-${n}" aria-label="Back to the text">↩</a>` : `<p><em>On deleted text: “${escapeHTML(thread.quote)}”</em></p>`;
  return `<li id="comment-${n}">\n${messages}\n${where}\n</li>`;
}

/** The document as a standalone HTML page with its open comments as footnotes. */
export function toHTMLPageWithComments(title: string, pmDoc: PMNode, doc: WriterDocument, document: Document): string {
  const open = anchoredThreads(doc).filter((t) => !t.thread.resolved);
  if (open.length === 0) return toHTMLPage(title, acceptedView(pmDoc), document);
  const spots = new Map(commentSpots(doc, open, pmDoc).map((s) => [s.id, s]));
  // Each reference goes into the text as a marker no document can hold (a random word
  // between private-use characters), replaced by a link once the page is written.
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
  const marker = (n: number) => `\uE000${nonce}:${n}\uE001`;
  const numbered: { n: number; thread: AnchoredThread; at: number | null }[] = open.map((t, i) => {
    const spot = spots.get(t.thread.id);
    return { n: i + 1, thread: t, at: t.range && spot && spot.to > spot.from ? spot.to : null };
  });
  const tr = new Transform(pmDoc);
  for (const item of [...numbered].filter((x) => x.at !== null).sort((a, b) => b.at! - a.at! || b.n - a.n)) {
    try {
      tr.insert(item.at!, schema.text(marker(item.n)));
    } catch {
      // Not a place for text (never expected): the footnote is listed without a reference.
    }
  }
  let page = toHTMLPage(title, acceptedView(tr.doc), document);
  const placed = new Set<number>();
  page = page.replace(new RegExp(`\uE000${nonce}:(\\d+)\uE001`, "g"), (_, n: string) => {
    placed.add(Number(n));
    return `<sup class="comment-ref"><a href="#comment-${n}" id="comment-ref-${n}">${n}</a></sup>`;
  });
  const notes = numbered.map(({ n, thread }) => footnote(n, thread.thread, placed.has(n))).join("\n");
  // A function, so that "$&" in someone's comment stays as written.
  return page.replace("</main>", () => `</main>\n<section class="comments" aria-label="Comments">\n<h2>Comments</h2>\n<ol>\n${notes}\n</ol>\n</section>`);
}
