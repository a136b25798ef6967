/**
 * Word (.docx) export with the `docx` library: structure and marks, comments as Word
 * comments (threads through commentsExtended, resolved ones marked done) and open
 * suggestions as Word tracked changes (w:ins / w:del / w:rPrChange with author and
 * date), so that an editor working in Word sees them as their own review tools show them.
 * The title is both the file's title property and a Title paragraph on top, where Word
 * users expect to see it (the import takes it back from there).
 *
 * Pure code (no DOM), so that it runs in the renderer and in tests alike.
 */
import {
  AlignmentType,
  CheckBox,
  CommentRangeEnd,
  CommentRangeStart,
  CommentReference,
  DeletedTextRun,
  Document,
  ExternalHyperlink,
  InsertedTextRun,
  LevelFormat,
  Packer,
  Paragraph,
  commentIdToParaId,
  TextRun,
  type ICommentOptions,
  type ILevelsOptions,
  type IRunOptions,
  type ParagraphChild,
} from "docx";
import { strToU8, unzipSync, zipSync } from "fflate";
import type { Mark, Node as PMNode } from "prosemirror-model";
import type { CommentThread } from "../../comments";
import { safeHref } from "../../links";

/** A comment thread and where it stands in the ProseMirror document (null: on deleted text). */
export interface DocxComment {
  id: string;
  from: number | null;
  to: number | null;
  thread: CommentThread;
}

export interface DocxExportInput {
  doc: PMNode;
  title: string;
  comments?: DocxComment[];
  /** A BCP 47 locale such as "en-US": decides Letter or A4. */
  locale?: string;
}

/**
 * Countries that print on US Letter (CLDR's paper size data); everyone else uses A4.
 * A language without a country ("en") is completed the way browsers do ("en-US").
 */
const LETTER_REGIONS = new Set(["US", "CA", "MX", "PH", "CL", "CO", "VE", "CR", "GT", "PA", "PR", "SV", "NI", "BZ", "DO"]);

/** Page size in twentieths of a point. */
export function pageSizeFor(locale: string | undefined): { name: "Letter" | "A4"; width: number; height: number } {
  let region: string | undefined;
  try {
    region = new Intl.Locale(locale || "en-US").maximize().region;
  } catch {
    region = undefined;
  }
  return region && LETTER_REGIONS.has(region) ? { name: "Letter", width: 12240, height: 15840 } : { name: "A4", width: 11906, height: 16838 };
}

/** The fonts Word users know, for code and for the rest. */
const CODE_FONT = "Courier New";
const CODE_BLOCK_STYLE = "HTMLPreformatted";
const QUOTE_STYLE = "Quote";

const BULLETS = ["•", "◦", "▪"];
const ORDERED_FORMATS = [LevelFormat.DECIMAL, LevelFormat.LOWER_LETTER, LevelFormat.LOWER_ROMAN];

function levels(kind: "bullet" | "ordered" | "task"): ILevelsOptions[] {
  return Array.from({ length: 9 }, (_, level) => ({
    level,
    format: kind === "ordered" ? ORDERED_FORMATS[level % 3]! : LevelFormat.BULLET,
    // A task item's checkbox is its marker, so its own bullet is empty.
    text: kind === "ordered" ? `%${level + 1}.` : kind === "task" ? "" : BULLETS[level % 3]!,
    alignment: AlignmentType.LEFT,
    style: { paragraph: { indent: { left: 720 * (level + 1), hanging: 360 } } },
  }));
}

/** Initials as Word shows them in a comment's bubble: "Ada Lovelace" -> "AL". */
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0]!, words[words.length - 1]!] : words;
  return letters.map((w) => Array.from(w)[0]!.toUpperCase()).join("") || "?";
}

interface Context {
  /** Comment boundaries inside textblocks: position -> Word comment IDs starting or ending there. */
  starts: Map<number, number[]>;
  ends: Map<number, number[]>;
  revision: number;
  orderedInstance: number;
}

/** Text as XML 1.0 allows it: no control characters (but tab and newline), no U+FFFE/U+FFFF, no lone surrogates. */
function xmlSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "");
}

function wordDate(ms: unknown): string {
  const n = typeof ms === "number" && Number.isFinite(ms) && ms > 0 ? ms : 0;
  // Word drops the milliseconds; so do we, so that a round trip compares equal.
  return new Date(Math.floor(n / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const FORMATS = ["strong", "em", "underline", "strike", "code"];

function formatting(has: (name: string) => boolean): IRunOptions {
  return {
    ...(has("strong") ? { bold: true } : {}),
    ...(has("em") ? { italics: true } : {}),
    ...(has("underline") ? { underline: {} } : {}),
    ...(has("strike") ? { strike: true } : {}),
    ...(has("code") ? { font: CODE_FONT } : {}),
  };
}

function runOptions(marks: readonly Mark[]): IRunOptions {
  const has = (name: string) => marks.some((m) => m.type.name === name);
  return { ...formatting(has), ...(has("link") ? { style: "Hyperlink" } : {}) };
}

/**
 * A suggested formatting change as Word's w:rPrChange: the run shows the new
 * formatting and the change keeps the old one (the new without what was added, with
 * what was removed).
 */
function formatRevision(ctx: Context, marks: readonly Mark[]): IRunOptions {
  const change = marks.find((m) => m.type.name === "format_change");
  if (!change) return {};
  const added = new Set((change.attrs.added as unknown[]).map(String));
  const removed = new Set((change.attrs.removed as unknown[]).map(String));
  const now = new Set(marks.map((m) => m.type.name).filter((n) => FORMATS.includes(n)));
  const before = (name: string) => removed.has(name) || (now.has(name) && !added.has(name));
  return { revision: { id: ctx.revision++, author: xmlSafe(String(change.attrs.author || "Someone")).slice(0, 200), date: wordDate(change.attrs.at), ...formatting(before) } };
}

/** One inline piece: a run (plain, inserted or deleted) or a line break, and the link it belongs to. */
function runFor(ctx: Context, text: string | null, marks: readonly Mark[]): ParagraphChild {
  const options = { ...runOptions(marks), ...formatRevision(ctx, marks) };
  const suggestion = marks.find((m) => m.type.name === "insertion" || m.type.name === "deletion");
  const content: IRunOptions = text === null ? { ...options, break: 1 } : { ...options, text: xmlSafe(text) };
  if (!suggestion) return new TextRun(content);
  const change = { id: ctx.revision++, author: xmlSafe(String(suggestion.attrs.author || "Someone")).slice(0, 200), date: wordDate(suggestion.attrs.at) };
  return suggestion.type.name === "insertion" ? new InsertedTextRun({ ...content, ...change }) : new DeletedTextRun({ ...content, ...change });
}

/** A textblock's inline content as Word runs, with comment boundaries and links. */
function inlineChildren(ctx: Context, block: PMNode, contentStart: number): ParagraphChild[] {
  const out: ParagraphChild[] = [];
  let link: { href: string; runs: ParagraphChild[] } | null = null;
  const flushLink = () => {
    if (link) out.push(new ExternalHyperlink({ link: link.href, children: link.runs }));
    link = null;
  };
  const boundary = (pos: number) => {
    const ends = ctx.ends.get(pos);
    const starts = ctx.starts.get(pos);
    if (!ends && !starts) return;
    flushLink();
    for (const id of ends ?? []) out.push(new CommentRangeEnd(id), new TextRun({ children: [new CommentReference(id)] }));
    for (const id of starts ?? []) out.push(new CommentRangeStart(id));
  };
  const push = (piece: ParagraphChild, marks: readonly Mark[]) => {
    const linkMark = marks.find((m) => m.type.name === "link");
    const href = linkMark ? safeHref(String(linkMark.attrs.href)) : null;
    if (href === null) {
      flushLink();
      out.push(piece);
      return;
    }
    if (link?.href !== href) {
      flushLink();
      link = { href, runs: [] };
    }
    link.runs.push(piece);
  };
  const cuts = (from: number, to: number): number[] => {
    const points = new Set<number>();
    for (const map of [ctx.starts, ctx.ends]) for (const p of map.keys()) if (p > from && p < to) points.add(p);
    return [...points].sort((a, b) => a - b);
  };
  block.forEach((child, offset) => {
    const pos = contentStart + offset;
    boundary(pos);
    if (child.isText) {
      const text = child.text ?? "";
      let at = pos;
      for (const cut of [...cuts(pos, pos + text.length), pos + text.length]) {
        const piece = text.slice(at - pos, cut - pos);
        // Newlines in a code block are line breaks in Word.
        piece.split("\n").forEach((line, i) => {
          if (i > 0) push(runFor(ctx, null, child.marks), child.marks);
          if (line) push(runFor(ctx, line, child.marks), child.marks);
        });
        at = cut;
        if (cut < pos + text.length) boundary(cut);
      }
    } else if (child.type.name === "hard_break") {
      push(runFor(ctx, null, child.marks), child.marks);
    }
  });
  boundary(contentStart + block.content.size);
  flushLink();
  return out;
}

interface BlockContext {
  quote: boolean;
  list: { reference: string; level: number } | null;
  /** Inside a list item, after its first paragraph: the item's level. */
  indent?: number;
}

function blocks(ctx: Context, node: PMNode, pos: number, where: BlockContext, out: Paragraph[]): void {
  const contentStart = pos + 1;
  const style = {
    ...(where.quote ? { style: QUOTE_STYLE } : {}),
    ...(where.indent !== undefined ? { indent: { left: 720 * (where.indent + 1) } } : {}),
  };
  switch (node.type.name) {
    case "paragraph":
    case "heading":
    case "code_block": {
      const heading = node.type.name === "heading" ? { heading: (["Heading1", "Heading2", "Heading3"] as const)[Math.min(3, Math.max(1, Number(node.attrs.level) || 1)) - 1] } : {};
      const code = node.type.name === "code_block" ? { style: CODE_BLOCK_STYLE } : {};
      // A paragraph has one style: a heading or code in a quote keeps its own, indented like the quote.
      const own = node.type.name !== "paragraph";
      const quoteIndent = own && where.quote && where.indent === undefined ? { indent: { left: 864 } } : {};
      out.push(new Paragraph({ ...(own ? { ...style, style: undefined } : style), ...quoteIndent, ...code, ...heading, children: inlineChildren(ctx, node, contentStart) }));
      return;
    }
    case "horizontal_rule":
      // Word's own rule: a paragraph with a bottom border.
      out.push(new Paragraph({ ...style, border: { bottom: { style: "single", size: 6, color: "auto", space: 1 } }, children: inlineChildren(ctx, node, contentStart) }));
      return;
    case "blockquote":
      node.forEach((child, offset) => blocks(ctx, child, contentStart + offset, { ...where, quote: true }, out));
      return;
    case "bullet_list":
    case "ordered_list":
    case "task_list": {
      const level = where.list ? Math.min(8, where.list.level + 1) : 0;
      // Each ordered list counts from 1: its own instance of the numbering.
      const reference = node.type.name === "bullet_list" ? "bullet" : node.type.name === "task_list" ? "task" : `ordered-${ctx.orderedInstance++}`;
      node.forEach((item, itemOffset) => {
        const itemStart = contentStart + itemOffset + 1;
        item.forEach((child, offset) => {
          const childPos = itemStart + offset;
          if (offset === 0 && child.type.name === "paragraph") {
            const checkbox = item.type.name === "task_item" ? [new CheckBox({ checked: item.attrs.checked === true }), new TextRun(" ")] : [];
            out.push(new Paragraph({ ...style, numbering: { reference, level }, children: [...checkbox, ...inlineChildren(ctx, child, childPos + 1)] }));
          } else if (child.type.name === "bullet_list" || child.type.name === "ordered_list" || child.type.name === "task_list") {
            blocks(ctx, child, childPos, { ...where, list: { reference, level } }, out);
          } else {
            // A second paragraph of an item: indented under it, without a marker.
            blocks(ctx, child, childPos, { ...where, list: null, indent: level }, out);
          }
        });
      });
      return;
    }
    default:
      // Unknown blocks keep their text.
      node.forEach((child, offset) => blocks(ctx, child, contentStart + offset, where, out));
  }
}

/** The comments as Word comments: one per message, replies linked to their thread's first. */
function wordComments(threads: DocxComment[], ids: Map<string, number[]>): ICommentOptions[] {
  const out: ICommentOptions[] = [];
  let next = 0;
  for (const { thread, from, to } of threads) {
    const root = next;
    ids.set(thread.id, Array.from(thread.messages, (_, i) => root + i));
    const onDeleted = from === null || to === null || to <= from;
    thread.messages.forEach((message, i) => {
      let text = message.deleted ? "(Comment deleted)" : xmlSafe(String(message.text));
      // Word has no place for a comment whose words are gone: it goes at the start, saying what it was on.
      if (i === 0 && onDeleted) text = `On deleted text “${xmlSafe(String(thread.quote ?? "")).replace(/\s+/g, " ").slice(0, 200)}”:\n${text}`;
      const author = xmlSafe(String(message.author || "")).slice(0, 200) || "Someone";
      out.push({
        id: next++,
        author,
        initials: initialsOf(author),
        date: new Date(wordDate(message.at)),
        children: text.split("\n").map((line) => new Paragraph({ children: [new TextRun(line)] })),
        ...(i > 0 ? { parentId: root } : {}),
        ...(thread.resolved ? { resolved: true } : {}),
      });
    });
  }
  return out;
}

/** Builds the .docx file. */
export async function toDocx(input: DocxExportInput): Promise<Uint8Array> {
  const { doc, title } = input;
  const threads = (input.comments ?? []).filter((c) => !c.thread.deleted && c.thread.messages.length > 0);
  const ids = new Map<string, number[]>();
  const threaded = wordComments(threads, ids);
  const loneResolved = threaded.some((c) => c.resolved) && !threaded.some((c) => c.parentId !== undefined);
  // Durable IDs make the library give each comment's paragraph its w14:paraId (see withDoneMarks).
  const comments = loneResolved ? threaded.map((c) => ({ ...c, durableId: commentIdToParaId(c.id) })) : threaded;
  const ctx: Context = { starts: new Map(), ends: new Map(), revision: 1, orderedInstance: 0 };
  const textblocks: { start: number; end: number }[] = [];
  doc.descendants((node, pos) => {
    if (node.isTextblock) textblocks.push({ start: pos + 1, end: pos + 1 + node.content.size });
    return !node.isTextblock;
  });
  const add = (map: Map<number, number[]>, pos: number, id: number) => map.set(pos, [...(map.get(pos) ?? []), id]);
  const firstStart = textblocks[0]?.start ?? 1;
  for (const c of threads) {
    // Replies get the same range as their thread's first comment, as Word writes them.
    const threadIds = ids.get(c.thread.id)!;
    // The edges of a comment are moved into text: a range that begins or ends between
    // blocks begins at the next textblock's start and ends at the previous one's end.
    let from = c.from;
    let to = c.to;
    if (from !== null && to !== null && to > from) {
      const f = from;
      const t = to;
      from = textblocks.find((b) => b.end >= f)?.start ?? null;
      if (from !== null && from < f) from = f;
      const last = [...textblocks].reverse().find((b) => b.start <= t);
      to = last ? Math.min(last.end, t) : null;
    }
    if (from === null || to === null || to < from) {
      // On deleted text: a comment on the document's first word... at its very start.
      from = to = firstStart;
    }
    for (const id of threadIds) {
      add(ctx.starts, from, id);
      add(ctx.ends, to, id);
    }
  }
  const body: Paragraph[] = [];
  const cleanTitle = xmlSafe(title).replace(/\s+/g, " ").trim();
  if (cleanTitle) body.push(new Paragraph({ heading: "Title", children: [new TextRun(cleanTitle)] }));
  doc.forEach((node, offset) => blocks(ctx, node, offset, { quote: false, list: null }, body));
  if (body.length === 0) body.push(new Paragraph({}));
  const page = pageSizeFor(input.locale);
  const orderedConfigs = Array.from({ length: ctx.orderedInstance }, (_, i) => ({ reference: `ordered-${i}`, levels: levels("ordered") }));
  const file = new Document({
    title: cleanTitle || undefined,
    creator: "Writer",
    lastModifiedBy: "Writer",
    revision: 1,
    comments: { children: comments },
    numbering: { config: [{ reference: "bullet", levels: levels("bullet") }, { reference: "task", levels: levels("task") }, ...orderedConfigs] },
    styles: {
      paragraphStyles: [
        { id: QUOTE_STYLE, name: "Quote", basedOn: "Normal", next: "Normal", quickFormat: true, run: { italics: true, color: "404040" }, paragraph: { indent: { left: 864, right: 864 } } },
        { id: CODE_BLOCK_STYLE, name: "HTML Preformatted", basedOn: "Normal", run: { font: CODE_FONT, size: 20 }, paragraph: { spacing: { after: 0 } } },
      ],
    },
    sections: [{ properties: { page: { size: { width: page.width, height: page.height }, margin: { top: 1440, bottom: 1440, left: 1440, right: 1440 } } }, children: body }],
  });
  const bytes = new Uint8Array(await Packer.toArrayBuffer(file));
  return loneResolved ? withDoneMarks(bytes, comments) : bytes;
}

/**
 * The docx library writes commentsExtended.xml (where Word keeps "done") only when some
 * comment is a reply. For resolved threads in a document without any reply, the part is
 * added here, with its content type and relationship, on the paragraph IDs the library
 * gave the comments (it gives them when comments have durable IDs).
 */
function withDoneMarks(bytes: Uint8Array, comments: ICommentOptions[]): Uint8Array {
  const files = unzipSync(bytes);
  const decoder = new TextDecoder();
  const types = files["[Content_Types].xml"];
  const rels = files["word/_rels/document.xml.rels"];
  if (!types || !rels || files["word/commentsExtended.xml"]) return bytes;
  const entries = comments.map((c) => `<w15:commentEx w15:paraId="${commentIdToParaId(c.id)}" w15:done="${c.resolved ? 1 : 0}"/>`).join("");
  files["word/commentsExtended.xml"] = strToU8(
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w15:commentsEx xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml" mc:Ignorable="w15">${entries}</w15:commentsEx>`,
  );
  files["[Content_Types].xml"] = strToU8(
    decoder.decode(types).replace("</Types>", '<Override ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.commentsExtended+xml" PartName="/word/commentsExtended.xml"/></Types>'),
  );
  files["word/_rels/document.xml.rels"] = strToU8(
    decoder.decode(rels).replace("</Relationships>", '<Relationship Id="rIdWriterCommentsExtended" Type="http://schemas.microsoft.com/office/2011/relationships/commentsExtended" Target="commentsExtended.xml"/></Relationships>'),
  );
  return zipSync(files);
}
