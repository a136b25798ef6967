/**
 * Word (.docx) import. mammoth (the usual choice) turns a .docx into HTML and drops
 * what a review needs: Word's tracked deletions, who made each change and when, and
 * where comments begin and end. So the package is read here: a guarded unzip
 * (./zip.ts), XML parsed with entity processing off and any DOCTYPE or ENTITY refused
 * outright (Word never writes them; they are how "billion laughs" and external entity
 * attacks work), then document.xml walked with styles.xml (headings, title, quotes,
 * code), numbering.xml (bullets or numbers, levels), the relationships (links) and
 * comments.xml + commentsExtended.xml (threads and their resolved state). Tracked
 * insertions, deletions and formatting changes (w:ins, w:del, w:rPrChange) become
 * suggestions by their Word authors; page breaks and hidden text do not come in.
 *
 * What Writer cannot hold is counted (images, tables, footnotes, text boxes, equations,
 * fields) so that the writer is told. Tables become one paragraph per row, like pasted
 * HTML tables. Every value from the file is untrusted: links pass safeHref, names and
 * texts are cut to size, and malformed parts are read as absent rather than thrown on.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Mark, Node as PMNode } from "prosemirror-model";
import { schema } from "../../editor/schema";
import { safeHref } from "../../links";
import { DocxRefused, openZip, type ZipPackage } from "./zip";

export { DocxRefused, DOCX_LIMITS } from "./zip";

/** What was not kept, the shape of the HTML import's LeftOut plus what only Word has. */
export interface DocxLeftOut {
  media: number;
  tables: number;
  footnotes: number;
  textBoxes: number;
  equations: number;
  /** Page numbers, dates and other fields: kept as the text they showed. */
  fields: number;
  /** Comments whose text could not be found (in a footnote or text box, say). */
  comments: number;
}

export interface ImportedComment {
  from: number;
  to: number;
  messages: { author: string; at: number; text: string }[];
  resolved: boolean;
}

export interface DocxImport {
  title: string | null;
  doc: PMNode;
  comments: ImportedComment[];
  leftOut: DocxLeftOut;
}

// ---------------------------------------------------------------------------------
// XML

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  /** Text content for "#text" nodes. */
  text?: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  processEntities: false,
  htmlEntities: false,
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Word nests a few levels per table or content control; deeper is a hostile file.
  maxNestedTags: 400,
});

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** The five predefined entities and character references; anything else stays as written. */
function unescape(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g, (whole, ref: string) => {
    if (ref[0] !== "#") return NAMED[ref] ?? whole;
    const code = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : "";
  });
}

function convert(nodes: unknown): El[] {
  if (!Array.isArray(nodes)) return [];
  const out: El[] = [];
  for (const node of nodes) {
    if (!node || typeof node !== "object") continue;
    const record = node as Record<string, unknown>;
    if (typeof record["#text"] === "string") {
      out.push({ name: "#text", attrs: {}, children: [], text: unescape(record["#text"]) });
      continue;
    }
    const name = Object.keys(record).find((k) => k !== ":@");
    if (!name) continue;
    const rawAttrs = (record[":@"] ?? {}) as Record<string, unknown>;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(rawAttrs)) if (typeof v === "string") attrs[k] = unescape(v);
    out.push({ name, attrs, children: convert(record[name]), });
  }
  return out;
}

function decodeXml(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  return new TextDecoder().decode(bytes);
}

/** Parses one part; null when absent. DOCTYPE and ENTITY declarations are refused outright. */
function readXml(zip: ZipPackage, name: string, required = false): El | null {
  const bytes = zip.read(name);
  if (!bytes) return null;
  const text = decodeXml(bytes);
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new DocxRefused("This file contains XML declarations (DOCTYPE or ENTITY) that Word never writes and that can be used to attack the computer reading them: Writer does not open it.");
  }
  let parsed: unknown;
  try {
    // The parser reads broken XML leniently; a document that is not well-formed is damaged.
    if (XMLValidator.validate(text) !== true) throw new Error("not well-formed");
    parsed = parser.parse(text);
  } catch {
    if (required) throw new DocxRefused("This Word file is damaged: its text is not readable XML.");
    return null;
  }
  const root = convert(parsed).find((e) => e.name !== "#text");
  if (!root && required) throw new DocxRefused("This Word file is damaged: its text is not readable XML.");
  return root ?? null;
}

const kids = (el: El | undefined | null, name: string) => (el ? el.children.filter((c) => c.name === name) : []);
const kid = (el: El | undefined | null, name: string) => el?.children.find((c) => c.name === name);
const val = (el: El | undefined | null) => el?.attrs["w:val"];

/** A toggle property (w:b, w:i...): on unless its value says off. */
function on(el: El | undefined): boolean {
  if (!el) return false;
  const v = val(el);
  return v === undefined || !["0", "false", "off", "none"].includes(v.toLowerCase());
}

function allText(el: El): string {
  if (el.name === "w:t" || el.name === "w:delText") return el.children.map((c) => c.text ?? "").join("");
  if (el.name === "w:tab") return "\t";
  if (el.name === "w:br" || el.name === "w:cr") return "\n";
  return el.children.map(allText).join("");
}

// ---------------------------------------------------------------------------------
// Styles, numbering, relationships, comments

interface Style {
  name: string;
  basedOn?: string;
  run: RunProps;
}

interface RunProps {
  bold?: boolean;
  italic?: boolean;
  underline?: boolean;
  strike?: boolean;
  code?: boolean;
}

const MONOSPACE = /courier|consolas|menlo|monaco|mono|lucida console|source code|fira code|inconsolata|andale/i;

function runProps(rPr: El | undefined): RunProps {
  if (!rPr) return {};
  const props: RunProps = {};
  const set = (key: keyof RunProps, name: string) => {
    const el = kid(rPr, name);
    if (el) props[key] = on(el);
  };
  set("bold", "w:b");
  set("italic", "w:i");
  set("strike", "w:strike");
  if (on(kid(rPr, "w:dstrike"))) props.strike = true;
  const u = kid(rPr, "w:u");
  if (u) props.underline = on(u);
  const fonts = kid(rPr, "w:rFonts");
  if (fonts) {
    const font = fonts.attrs["w:ascii"] ?? fonts.attrs["w:hAnsi"] ?? "";
    if (font) props.code = MONOSPACE.test(font);
  }
  return props;
}

function readStyles(root: El | null): Map<string, Style> {
  const styles = new Map<string, Style>();
  for (const s of kids(root, "w:style")) {
    const id = s.attrs["w:styleId"];
    if (!id) continue;
    styles.set(id, { name: (val(kid(s, "w:name")) ?? id).toLowerCase(), basedOn: val(kid(s, "w:basedOn")), run: runProps(kid(s, "w:rPr")) });
  }
  return styles;
}

/** The style's names up its basedOn chain: "my heading" -> "heading 1" -> "normal". */
function styleNames(styles: Map<string, Style>, id: string | undefined): string[] {
  const names: string[] = [];
  for (let i = 0; id && i < 10; i++) {
    const style = styles.get(id);
    names.push(style?.name ?? id.toLowerCase(), id.toLowerCase());
    id = style?.basedOn;
  }
  return names;
}

type ListKind = "bullet" | "ordered";

function readNumbering(root: El | null): (numId: string, level: number) => ListKind {
  const abstract = new Map<string, Map<number, ListKind>>();
  for (const a of kids(root, "w:abstractNum")) {
    const levels = new Map<number, ListKind>();
    for (const lvl of kids(a, "w:lvl")) {
      const format = val(kid(lvl, "w:numFmt")) ?? "bullet";
      levels.set(Number(lvl.attrs["w:ilvl"] ?? 0), format === "bullet" || format === "none" ? "bullet" : "ordered");
    }
    abstract.set(a.attrs["w:abstractNumId"] ?? "", levels);
  }
  const nums = new Map<string, string>();
  for (const n of kids(root, "w:num")) nums.set(n.attrs["w:numId"] ?? "", val(kid(n, "w:abstractNumId")) ?? "");
  return (numId, level) => abstract.get(nums.get(numId) ?? "")?.get(level) ?? "bullet";
}

function readLinks(root: El | null): Map<string, string> {
  const links = new Map<string, string>();
  for (const r of kids(root, "Relationship")) {
    if ((r.attrs.Type ?? "").endsWith("/hyperlink") && r.attrs.Id && r.attrs.Target) links.set(r.attrs.Id, r.attrs.Target);
  }
  return links;
}

interface WordComment {
  id: string;
  author: string;
  at: number;
  text: string;
  paraId?: string;
}

function parseDate(value: string | undefined, fallback: number): number {
  const t = value ? Date.parse(value) : NaN;
  return Number.isFinite(t) && t > 0 ? t : fallback;
}

function cleanName(value: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (value ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 200) || "Someone";
}

function readComments(root: El | null, now: number): WordComment[] {
  return kids(root, "w:comment").map((c) => {
    const paragraphs = kids(c, "w:p");
    const last = paragraphs[paragraphs.length - 1];
    return {
      id: c.attrs["w:id"] ?? "",
      author: cleanName(c.attrs["w:author"]),
      at: parseDate(c.attrs["w:date"], now),
      text: paragraphs.map((p) => allText(p).replace(/\n/g, " ")).join("\n").trim(),
      paraId: last?.attrs["w14:paraId"],
    };
  });
}

function readCommentsExtended(root: El | null): Map<string, { parent?: string; done: boolean }> {
  const out = new Map<string, { parent?: string; done: boolean }>();
  for (const c of kids(root, "w15:commentEx")) {
    const paraId = c.attrs["w15:paraId"];
    if (paraId) out.set(paraId, { parent: c.attrs["w15:paraIdParent"], done: c.attrs["w15:done"] === "1" || c.attrs["w15:done"] === "true" });
  }
  return out;
}

// ---------------------------------------------------------------------------------
// The body

interface Suggestion {
  kind: "insertion" | "deletion";
  id: string;
  author: string;
  at: number;
}

type Inline =
  | { kind: "text"; text: string; props: RunProps; link: string | null; suggestion: Suggestion[]; format?: FormatChange }
  | { kind: "break"; suggestion: Suggestion[] }
  | { kind: "marker"; edge: "start" | "end" | "point"; id: string };

/** A suggested formatting change (Word's w:rPrChange), in the schema's mark names. */
interface FormatChange {
  id: string;
  author: string;
  at: number;
  added: string[];
  removed: string[];
}

const PROP_MARKS: [keyof RunProps, string][] = [
  ["bold", "strong"],
  ["italic", "em"],
  ["underline", "underline"],
  ["strike", "strike"],
  ["code", "code"],
];

function formatChange(w: Walk, rPr: El | undefined, now: RunProps): FormatChange | undefined {
  const change = kid(rPr, "w:rPrChange");
  if (!change) return undefined;
  const before = { ...now, ...runPropsOff(kid(change, "w:rPr")) };
  const added = PROP_MARKS.filter(([p]) => now[p] && !before[p]).map(([, m]) => m);
  const removed = PROP_MARKS.filter(([p]) => !now[p] && before[p]).map(([, m]) => m);
  if (added.length === 0 && removed.length === 0) return undefined;
  const s = suggestionOf(w, change, "format");
  return { id: s.id, author: s.author, at: s.at, added, removed };
}

/** The old formatting of a w:rPrChange: what it lists is on, every other toggle off. */
function runPropsOff(rPr: El | undefined): RunProps {
  return { bold: false, italic: false, underline: false, strike: false, code: false, ...runProps(rPr) };
}

interface Block {
  type: "paragraph" | "heading" | "code" | "rule" | "title";
  level: number;
  quote: boolean;
  list: { kind: ListKind | "task"; level: number; checked: boolean } | null;
  inlines: Inline[];
}

interface Walk {
  styles: Map<string, Style>;
  listKind: (numId: string, level: number) => ListKind;
  links: Map<string, string>;
  left: DocxLeftOut;
  now: number;
  batch: string;
  /** Inside a field's instructions (between its begin and separate). */
  inInstruction: boolean;
}

/**
 * One suggestion per author, time and kind: Word writes one change as many w:ins or
 * w:del elements (one per run, split again by comments and links), each with its own
 * w:id, and the writer accepts or rejects it as one.
 */
function suggestionOf(w: Walk, el: El, kind: Suggestion["kind"] | "format"): Suggestion {
  const author = cleanName(el.attrs["w:author"]);
  const at = parseDate(el.attrs["w:date"], w.now);
  let hash = 5381;
  for (const ch of `${kind}|${author}|${el.attrs["w:date"] ?? ""}`) hash = (Math.imul(hash, 33) ^ ch.charCodeAt(0)) >>> 0;
  return { kind: kind === "format" ? "insertion" : kind, id: `${w.batch}-${kind[0]}${hash.toString(36)}`, author, at };
}

interface InlineContext {
  link: string | null;
  suggestion: Suggestion[];
  paragraphRun: RunProps;
}

function inlines(w: Walk, parent: El, ctx: InlineContext, out: Inline[], checkbox: { checked: boolean } | null): void {
  for (const el of parent.children) {
    switch (el.name) {
      case "w:r":
        run(w, el, ctx, out);
        break;
      case "w:hyperlink": {
        const target = el.attrs["r:id"] ? w.links.get(el.attrs["r:id"]) : undefined;
        const href = target ? safeHref(target) : null;
        inlines(w, el, { ...ctx, link: href ?? ctx.link }, out, checkbox);
        break;
      }
      case "w:ins":
      case "w:moveTo":
        inlines(w, el, { ...ctx, suggestion: [...ctx.suggestion, suggestionOf(w, el, "insertion")] }, out, checkbox);
        break;
      case "w:del":
      case "w:moveFrom":
        inlines(w, el, { ...ctx, suggestion: [...ctx.suggestion, suggestionOf(w, el, "deletion")] }, out, checkbox);
        break;
      case "w:commentRangeStart":
      case "w:commentRangeEnd":
        if (el.attrs["w:id"] !== undefined) out.push({ kind: "marker", edge: el.name === "w:commentRangeStart" ? "start" : "end", id: el.attrs["w:id"] });
        break;
      case "w:sdt": {
        const box = kid(kid(el, "w:sdtPr"), "w14:checkbox");
        if (box && checkbox) {
          const v = kid(box, "w14:checked")?.attrs["w14:val"];
          checkbox.checked = v === "1" || v === "true";
          break;
        }
        const content = kid(el, "w:sdtContent");
        if (content) inlines(w, content, ctx, out, checkbox);
        break;
      }
      case "w:fldSimple":
        w.left.fields++;
        inlines(w, el, ctx, out, checkbox);
        break;
      case "m:oMath":
      case "m:oMathPara":
        w.left.equations++;
        break;
      case "w:smartTag":
      case "w:customXml":
      case "w:dir":
      case "w:bdo":
        inlines(w, el, ctx, out, checkbox);
        break;
      default:
        break;
    }
  }
}

function run(w: Walk, r: El, ctx: InlineContext, out: Inline[]): void {
  const rPr = kid(r, "w:rPr");
  const styleId = val(kid(rPr, "w:rStyle"));
  const style = styleId ? w.styles.get(styleId) : undefined;
  const styleCode = styleNames(w.styles, styleId).some((n) => /code|verbatim|preformatted/.test(n));
  // A link's look (blue, underlined) comes from Word's Hyperlink style: not the writer's underline.
  const styleRun = style && style.name !== "hyperlink" ? style.run : {};
  const props: RunProps = { ...ctx.paragraphRun, ...styleRun, ...(styleCode ? { code: true } : {}), ...runProps(rPr) };
  if (styleId && style?.name === "strong") props.bold = true;
  if (styleId && style?.name === "emphasis") props.italic = true;
  const format = formatChange(w, rPr, props);
  // Hidden text (w:vanish) is hidden in Word too: it does not come in.
  const hidden = on(kid(rPr, "w:vanish")) || on(kid(rPr, "w:webHidden"));
  const text = (value: string) => {
    if (w.inInstruction || hidden || !value) return;
    // eslint-disable-next-line no-control-regex
    const clean = value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffc]/g, "");
    if (clean) out.push({ kind: "text", text: clean, props, link: ctx.link, suggestion: ctx.suggestion, ...(format ? { format } : {}) });
  };
  for (const el of r.children) {
    switch (el.name) {
      case "w:t":
      case "w:delText":
        text(el.children.map((c) => c.text ?? "").join(""));
        break;
      case "w:tab":
      case "w:ptab":
        text("\t");
        break;
      case "w:noBreakHyphen":
        text("\u2011");
        break;
      case "w:br":
        // Page and column breaks are layout, not text.
        if (!el.attrs["w:type"] || el.attrs["w:type"] === "textWrapping") out.push({ kind: "break", suggestion: ctx.suggestion });
        break;
      case "w:cr":
        out.push({ kind: "break", suggestion: ctx.suggestion });
        break;
      case "w:sym": {
        const code = parseInt(el.attrs["w:char"] ?? "", 16);
        // Symbol fonts map into the private use area: no meaning outside that font.
        if (Number.isFinite(code) && code > 0x20 && !(code >= 0xe000 && code <= 0xf8ff)) text(String.fromCodePoint(code));
        break;
      }
      case "w:fldChar": {
        const type = el.attrs["w:fldCharType"];
        if (type === "begin") {
          w.left.fields++;
          w.inInstruction = true;
        } else if (type === "separate" || type === "end") w.inInstruction = false;
        break;
      }
      case "w:drawing":
      case "w:pict":
      case "w:object":
        if (JSON.stringify(el.children).includes('"w:txbxContent"')) w.left.textBoxes++;
        else w.left.media++;
        break;
      case "mc:AlternateContent": {
        const choice = kid(el, "mc:Choice") ?? kid(el, "mc:Fallback");
        if (choice) run(w, { ...r, children: choice.children }, ctx, out);
        break;
      }
      case "w:footnoteReference":
      case "w:endnoteReference":
        w.left.footnotes++;
        break;
      case "w:commentReference":
        if (el.attrs["w:id"] !== undefined) out.push({ kind: "marker", edge: "point", id: el.attrs["w:id"] });
        break;
      default:
        break;
    }
  }
}

function paragraph(w: Walk, p: El, quoteDepth: number): Block {
  const pPr = kid(p, "w:pPr");
  const styleId = val(kid(pPr, "w:pStyle"));
  const names = styleNames(w.styles, styleId);
  const block: Block = { type: "paragraph", level: 1, quote: quoteDepth > 0, list: null, inlines: [] };
  const heading = names.map((n) => /^heading ?([1-9])$/.exec(n)).find(Boolean);
  if (names.includes("title")) block.type = "title";
  else if (heading) {
    block.type = "heading";
    block.level = Math.min(3, Number(heading[1]));
  } else if (names.some((n) => /code|preformatted|verbatim|source/.test(n))) block.type = "code";
  if (names.some((n) => /quote|block ?text/.test(n))) block.quote = true;
  const numPr = kid(pPr, "w:numPr");
  const numId = val(kid(numPr, "w:numId"));
  const checkbox = { checked: false };
  const paragraphRun = block.type === "code" ? { code: false } : {};
  if (numId && numId !== "0") {
    const level = Math.max(0, Math.min(8, Number(val(kid(numPr, "w:ilvl")) ?? 0) || 0));
    block.list = { kind: w.listKind(numId, level), level, checked: false };
  }
  const hasCheckbox = p.children.some((c) => c.name === "w:sdt" && kid(kid(c, "w:sdtPr"), "w14:checkbox"));
  inlines(w, p, { link: null, suggestion: [], paragraphRun }, block.inlines, block.list ? checkbox : null);
  if (block.list && hasCheckbox) {
    block.list = { ...block.list, kind: "task", checked: checkbox.checked };
    // The space Writer puts after the checkbox.
    const first = block.inlines[0];
    if (first?.kind === "text" && first.text.startsWith(" ")) block.inlines[0] = { ...first, text: first.text.slice(1) };
    if (block.inlines[0]?.kind === "text" && (block.inlines[0] as { text: string }).text === "") block.inlines.shift();
  } else if (block.list) {
    // Checkboxes typed as characters: "☐ Buy milk".
    const first = block.inlines[0];
    const m = first?.kind === "text" ? /^([☐☑☒])\s?/.exec(first.text) : null;
    if (m && first?.kind === "text") {
      block.list = { ...block.list, kind: "task", checked: m[1] !== "☐" };
      block.inlines[0] = { ...first, text: first.text.slice(m[0].length) };
      if (!(block.inlines[0] as { text: string }).text) block.inlines.shift();
    }
  }
  const border = kid(kid(pPr, "w:pBdr"), "w:bottom");
  if (border && !block.list && block.inlines.every((i) => i.kind === "marker")) block.type = "rule";
  return block;
}

function body(w: Walk, parent: El, out: Block[], quoteDepth: number): void {
  for (const el of parent.children) {
    switch (el.name) {
      case "w:p":
        out.push(paragraph(w, el, quoteDepth));
        break;
      case "w:tbl":
        w.left.tables++;
        table(w, el, out);
        break;
      case "w:sdt": {
        const content = kid(el, "w:sdtContent");
        if (content) body(w, content, out, quoteDepth);
        break;
      }
      case "w:customXml":
      case "w:ins":
      case "w:del":
        body(w, el, out, quoteDepth);
        break;
      case "w:altChunk":
        w.left.media++;
        break;
      default:
        break;
    }
  }
}

/** A table as one paragraph per row, its cells separated by " | " (as pasted HTML tables are). */
function table(w: Walk, tbl: El, out: Block[]): void {
  for (const tr of kids(tbl, "w:tr")) {
    const row: Inline[] = [];
    for (const tc of kids(tr, "w:tc")) {
      const cell: Block[] = [];
      body(w, tc, cell, 0);
      const pieces = cell.map((b) => b.inlines).filter((i) => i.some((x) => x.kind === "text"));
      if (pieces.length === 0) continue;
      if (row.some((x) => x.kind === "text")) row.push({ kind: "text", text: " | ", props: {}, link: null, suggestion: [] });
      pieces.forEach((p, i) => {
        if (i > 0) row.push({ kind: "text", text: " ", props: {}, link: null, suggestion: [] });
        row.push(...p);
      });
    }
    if (row.some((x) => x.kind === "text")) out.push({ type: "paragraph", level: 1, quote: false, list: null, inlines: row });
  }
}

// ---------------------------------------------------------------------------------
// Blocks to ProseMirror

interface Marker {
  id: string;
  edge: "start" | "end" | "point";
  offset: number;
}

function marksFor(item: Extract<Inline, { kind: "text" | "break" }>, code: boolean): Mark[] {
  const m = schema.marks;
  const marks: Mark[] = [];
  if (item.kind === "text" && !code) {
    const p = item.props;
    if (p.bold) marks.push(m.strong!.create());
    if (p.italic) marks.push(m.em!.create());
    if (p.underline) marks.push(m.underline!.create());
    if (p.strike) marks.push(m.strike!.create());
    if (p.code) marks.push(m.code!.create());
    if (item.link) marks.push(m.link!.create({ href: item.link, title: null }));
  }
  if (item.kind === "text" && item.format && !code) marks.push(m.format_change!.create({ id: item.format.id, author: item.format.author, writer: null, at: item.format.at, added: item.format.added, removed: item.format.removed }));
  // The innermost change wins when Word nests them (a deletion of someone's insertion keeps both).
  const seen = new Set<string>();
  for (const s of [...item.suggestion].reverse()) {
    if (seen.has(s.kind)) continue;
    seen.add(s.kind);
    marks.push(m[s.kind]!.create({ id: s.id, author: s.author, writer: null, at: s.at }));
  }
  return marks;
}

/** A textblock's content and its comment markers' offsets. */
function content(inlines: Inline[], code: boolean): { nodes: PMNode[]; markers: Marker[] } {
  const nodes: PMNode[] = [];
  const markers: Marker[] = [];
  let offset = 0;
  for (const item of inlines) {
    if (item.kind === "marker") {
      markers.push({ id: item.id, edge: item.edge, offset });
      continue;
    }
    if (item.kind === "break" && code) {
      nodes.push(schema.text("\n", marksFor(item, true)));
      offset += 1;
      continue;
    }
    if (item.kind === "break") {
      nodes.push(schema.nodes.hard_break!.create(null, null, marksFor(item, false).filter((m) => m.type.name === "insertion" || m.type.name === "deletion")));
      offset += 1;
      continue;
    }
    nodes.push(schema.text(item.text, marksFor(item, code)));
    offset += item.text.length;
  }
  return { nodes, markers };
}

function build(blocks: Block[]): { nodes: PMNode[]; markers: Marker[][]; title: string | null } {
  const n = schema.nodes;
  const markers: Marker[][] = [];
  let title: string | null = null;
  const textblock = (b: Block): PMNode => {
    if (b.type === "rule") {
      markers.push(b.inlines.filter((i) => i.kind === "marker").map((i) => ({ id: (i as { id: string }).id, edge: (i as { edge: Marker["edge"] }).edge, offset: 0 })));
      return n.horizontal_rule!.create({ isAmgBlock: true });
    }
    const code = b.type === "code" && !b.list;
    const c = content(b.inlines, code);
    markers.push(c.markers);
    if (code) return n.code_block!.create(null, c.nodes);
    if ((b.type === "heading" || b.type === "title") && !b.list) return n.heading!.create({ level: b.type === "title" ? 1 : b.level }, c.nodes);
    return n.paragraph!.create(null, c.nodes);
  };
  // Code paragraphs in a row are one code block, their lines separated by newlines.
  const merged: Block[] = [];
  for (const b of blocks) {
    const prev = merged[merged.length - 1];
    if (b.type === "code" && !b.list && prev?.type === "code" && !prev.list && prev.quote === b.quote) {
      merged[merged.length - 1] = { ...prev, inlines: [...prev.inlines, { kind: "break", suggestion: [] }, ...b.inlines] };
    } else merged.push(b);
  }
  // The first Title paragraph is the document's title; others are headings.
  const first = merged.findIndex((b) => b.type === "title");
  if (first >= 0 && merged[first]!.inlines.some((i) => i.kind === "text" && i.text.trim())) {
    const b = merged[first]!;
    title = b.inlines.map((i) => (i.kind === "text" && !i.suggestion.some((s) => s.kind === "deletion") ? i.text : "")).join("").replace(/\s+/g, " ").trim().slice(0, 500);
    merged.splice(first, 1);
  }
  const nodes: PMNode[] = [];
  let i = 0;
  while (i < merged.length) {
    const b = merged[i]!;
    if (b.list) {
      const start = i;
      while (i < merged.length && merged[i]!.list) i++;
      const lists = buildLists(merged.slice(start, i), textblock);
      nodes.push(...(b.quote ? [n.blockquote!.create(null, lists)] : lists));
    } else if (b.quote) {
      const inside: PMNode[] = [];
      while (i < merged.length && merged[i]!.quote && !merged[i]!.list) inside.push(textblock(merged[i++]!));
      nodes.push(n.blockquote!.create(null, inside));
    } else {
      nodes.push(textblock(b));
      i++;
    }
  }
  return { nodes, markers, title };
}

function buildLists(entries: Block[], textblock: (b: Block) => PMNode): PMNode[] {
  const n = schema.nodes;
  let i = 0;
  const listOf = (kind: ListKind | "task", items: PMNode[]) => (kind === "task" ? n.task_list! : kind === "ordered" ? n.ordered_list! : n.bullet_list!).create(null, items);
  const parse = (level: number): PMNode => {
    const kind = entries[i]!.list!.kind;
    const items: PMNode[] = [];
    while (i < entries.length) {
      const e = entries[i]!;
      if (e.list!.level < level && items.length > 0) break;
      if (items.length > 0 && e.list!.kind !== kind) break;
      i++;
      const children: PMNode[] = [textblock({ ...e, type: "paragraph" })];
      while (i < entries.length && entries[i]!.list!.level > level) children.push(parse(level + 1));
      items.push(kind === "task" ? n.task_item!.create({ checked: e.list!.checked }, children) : n.list_item!.create(null, children));
    }
    return listOf(kind, items);
  };
  const out: PMNode[] = [];
  while (i < entries.length) out.push(parse(Math.min(entries[i]!.list!.level, 0)));
  return out;
}

// ---------------------------------------------------------------------------------

function mainDocumentPath(zip: ZipPackage): string {
  const rels = readXml(zip, "_rels/.rels");
  const main = kids(rels, "Relationship").find((r) => (r.attrs.Type ?? "").endsWith("/officeDocument"));
  const target = main?.attrs.Target?.replace(/^\//, "");
  return target && zip.has(target) ? target : "word/document.xml";
}

function notWordMessage(zip: ZipPackage): string {
  if (zip.has("xl/workbook.xml")) return "This is an Excel workbook, not a Word document.";
  if (zip.has("ppt/presentation.xml")) return "This is a PowerPoint presentation, not a Word document.";
  if (zip.has("content.xml") && zip.has("mimetype")) return "This is an OpenDocument file, not a Word document (.docx). Save it as a .docx, then import it.";
  return "This zip file is not a Word document: it has no word/document.xml, the part that holds a document's text.";
}

/**
 * Reads a .docx. Throws DocxRefused, with a message for the writer, for anything that
 * is not a readable, reasonable Word document; nothing is created from a refused file.
 */
export function fromDocx(bytes: Uint8Array, options: { now?: number } = {}): DocxImport {
  const now = options.now ?? Date.now();
  const zip = openZip(bytes);
  const path = mainDocumentPath(zip);
  if (!zip.has(path)) throw new DocxRefused(notWordMessage(zip));
  const documentXml = readXml(zip, path, true)!;
  const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
  const relsPath = `${folder}_rels/${path.slice(folder.length)}.rels`;
  const left: DocxLeftOut = { media: 0, tables: 0, footnotes: 0, textBoxes: 0, equations: 0, fields: 0, comments: 0 };
  const batch = "w" + Math.floor(now).toString(36) + Math.random().toString(36).slice(2, 6);
  const w: Walk = {
    styles: readStyles(readXml(zip, folder + "styles.xml")),
    listKind: readNumbering(readXml(zip, folder + "numbering.xml")),
    links: readLinks(readXml(zip, relsPath)),
    left,
    now,
    batch,
    inInstruction: false,
  };
  const bodyEl = kid(documentXml, "w:body");
  if (!bodyEl) throw new DocxRefused("This Word file is damaged: it has no body text.");
  const blocks: Block[] = [];
  body(w, bodyEl, blocks, 0);
  const built = build(blocks);
  const nodes = built.nodes.length > 0 ? built.nodes : [schema.nodes.paragraph!.create()];
  // Positions of each textblock, in the order they were built (document order).
  const doc = schema.nodes.doc!.create(null, nodes);
  const starts: { pos: number; size: number; text: string }[] = [];
  doc.descendants((node, pos) => {
    if (node.isTextblock) starts.push({ pos: pos + 1, size: node.content.size, text: node.textBetween(0, node.content.size, "\n", "\n") });
    return !node.isTextblock;
  });
  const where = new Map<string, { start?: number; end?: number; point?: number }>();
  built.markers.forEach((list, index) => {
    const block = starts[index];
    if (!block) return;
    for (const m of list) {
      const entry = where.get(m.id) ?? {};
      const pos = block.pos + Math.min(m.offset, block.size);
      if (m.edge === "start") entry.start ??= pos;
      else if (m.edge === "end") entry.end = pos;
      else entry.point ??= pos;
      where.set(m.id, entry);
    }
  });
  const comments = threads(readComments(readXml(zip, folder + "comments.xml"), now), readCommentsExtended(readXml(zip, folder + "commentsExtended.xml")), where, starts, doc, left);
  return { title: built.title, doc, comments, leftOut: left };
}

function threads(
  all: WordComment[],
  extended: Map<string, { parent?: string; done: boolean }>,
  where: Map<string, { start?: number; end?: number; point?: number }>,
  blocks: { pos: number; size: number }[],
  doc: PMNode,
  left: DocxLeftOut,
): ImportedComment[] {
  const byParaId = new Map<string, WordComment>();
  for (const c of all) if (c.paraId) byParaId.set(c.paraId, c);
  const rootOf = (c: WordComment): WordComment => {
    let at = c;
    for (let i = 0; i < 50; i++) {
      const parent = at.paraId ? extended.get(at.paraId)?.parent : undefined;
      const next = parent ? byParaId.get(parent) : undefined;
      if (!next || next === at) return at;
      at = next;
    }
    return at;
  };
  const groups = new Map<WordComment, WordComment[]>();
  for (const c of all) {
    const root = rootOf(c);
    groups.set(root, [...(groups.get(root) ?? []), ...(root === c ? [] : [c])]);
  }
  const out: ImportedComment[] = [];
  for (const [root, replies] of groups) {
    const messages = [root, ...replies.sort((a, b) => a.at - b.at)].filter((m) => m.text).map((m) => ({ author: m.author, at: m.at, text: m.text }));
    if (messages.length === 0) continue;
    const place = where.get(root.id);
    let from = place?.start ?? place?.point;
    let to = place?.end ?? place?.point ?? from;
    if (from === undefined || to === undefined) {
      left.comments++;
      continue;
    }
    if (to < from) [from, to] = [to, from];
    if (to === from) {
      // A comment on a point (Word allows that): on the word there, or the character before.
      const block = blocks.find((b) => from! >= b.pos && from! <= b.pos + b.size);
      if (!block || block.size === 0) {
        left.comments++;
        continue;
      }
      const after = doc.textBetween(from, block.pos + block.size, "\n", "\n");
      const word = /^\S+/.exec(after)?.[0].length ?? 0;
      if (word > 0) to = from + word;
      else if (from < block.pos + block.size) to = from + 1;
      else from = from - 1;
    }
    const done = (root.paraId && extended.get(root.paraId)?.done) || replies.some((r) => r.paraId && extended.get(r.paraId)?.done);
    out.push({ from, to, messages, resolved: !!done });
  }
  return out.sort((a, b) => a.from - b.from);
}

/** Sentences for the writer about what was left out or changed, or null when nothing was. */
export function describeDocxLeftOut(left: DocxLeftOut): string | null {
  const count = (n: number, one: string, many: string) => (n === 1 ? one : `${n} ${many}`);
  const list = (parts: string[]) => (parts.length < 2 ? parts.join("") : `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`);
  const without: string[] = [];
  if (left.media > 0) without.push(count(left.media, "an image", "images"));
  if (left.footnotes > 0) without.push(count(left.footnotes, "a footnote", "footnotes"));
  if (left.textBoxes > 0) without.push(count(left.textBoxes, "a text box", "text boxes"));
  if (left.equations > 0) without.push(count(left.equations, "an equation", "equations"));
  if (left.comments > 0) without.push(count(left.comments, "a comment on something left out", "comments on things left out"));
  const sentences: string[] = [];
  if (without.length > 0) sentences.push(`Left out, as Writer cannot hold them yet: ${list(without)}.`);
  if (left.tables > 0) sentences.push(left.tables === 1 ? "A table is now rows of text." : `${left.tables} tables are now rows of text.`);
  if (left.fields > 0) sentences.push(left.fields === 1 ? "A field (a page number, a date…) is now plain text." : `${left.fields} fields (page numbers, dates…) are now plain text.`);
  return sentences.length > 0 ? sentences.join(" ") : null;
}
