/**
 * Word export, read back by readers that are not Writer's: mammoth (what Word users'
 * tools see: text, structure, marks, links, the accepted view of tracked changes) and
 * the raw package through fflate and fast-xml-parser (tracked changes, comment ranges,
 * threads), plus `unzip -t` for the zip itself.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mammoth from "mammoth";
import { unzipSync } from "fflate";
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { commentsForDocx } from "../../../src/shared/convert/docx/document";
import { initialsOf, pageSizeFor, toDocx } from "../../../src/shared/convert/docx/export";
import { fromDocx } from "../../../src/shared/convert/docx/import";
import { schema } from "../../../src/shared/editor/schema";
import { ADA, BOB, T0, all, part, pmOf, reviewedDocument, textOf, type XmlNode } from "./support";

async function exported(locale = "en-US"): Promise<Uint8Array> {
  const doc = reviewedDocument();
  const pm = pmOf(doc);
  return toDocx({ doc: pm, title: "The Storm", comments: commentsForDocx(doc, pm), locale });
}

const attr = (node: XmlNode, name: string) => String(node[`@${name}`] ?? "");

/** What `unzip -t` says of the file, written to a folder of its own that is removed after. */
function unzipTest(bytes: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "docx-"));
  try {
    const file = join(dir, "exported.docx");
    writeFileSync(file, bytes);
    return execFileSync("unzip", ["-t", file]).toString();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("Word export", () => {
  it("is a zip that unzip accepts, with the parts Word requires", async () => {
    const bytes = await exported();
    expect(unzipTest(bytes)).toContain("No errors detected");
    const names = Object.keys(unzipSync(bytes));
    for (const required of ["[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/_rels/document.xml.rels", "word/styles.xml", "word/numbering.xml", "word/comments.xml", "word/commentsExtended.xml", "docProps/core.xml"]) {
      expect(names).toContain(required);
    }
    const types = JSON.stringify(part(bytes, "[Content_Types].xml"));
    expect(types).toContain("/word/comments.xml");
    expect(types).toContain("/word/commentsExtended.xml");
    expect(textOf(part(bytes, "docProps/core.xml"), "dc:title")).toBe("The Storm");
  });

  it("reads in mammoth as headings, paragraphs, marks, links, lists, quotes and code, with the title on top", async () => {
    const bytes = await exported();
    const { value: html } = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes) },
      { styleMap: ["u => u", "strike => s", "p[style-name='Quote'] => blockquote > p:fresh", "p[style-name='HTML Preformatted'] => pre:separator('\\n')", "p[style-name='Title'] => h1.title:fresh"] },
    );
    expect(html).toContain('<h1 class="title">The Storm</h1>');
    expect(html).toContain("<h1>Chapter one</h1>");
    expect(html).toContain("<h2>Notes</h2>");
    expect(html).toContain("<h3>End</h3>");
    expect(html).toContain("<strong>bold</strong>");
    expect(html).toContain("<em>italic</em>");
    expect(html).toContain("<u>underlined</u>");
    expect(html).toContain("<s>struck</s>");
    expect(html).toContain('<a href="https://example.com/a?b=c">a link</a>');
    expect(html).toContain("A line<br />and the next.");
    expect(html).toContain("<blockquote><p>Quoted <em>words</em>.</p></blockquote>");
    expect(html).toContain("<pre>const a = 1;<br />return a;</pre>");
    expect(html).toContain("<ul><li>first</li><li>second<ul><li>nested</li></ul></li></ul>");
    expect(html).toContain("<ol><li>one</li><li>two</li></ol>");
    // Mammoth shows tracked changes accepted: the insertion in, the deletion out.
    expect(html).toContain("The storm came suddenly over the hills.");
  });

  it("writes open suggestions as Word tracked changes with author and date", async () => {
    const document = part(await exported(), "word/document.xml");
    const ins = all(document, "w:ins");
    const del = all(document, "w:del");
    expect(ins.map((i) => [attr(i, "w:author"), attr(i, "w:date"), textOf(i)])).toEqual([[BOB.name, new Date(T0 + 60_000).toISOString().replace(".000", ""), "suddenly "]]);
    expect(del.map((d) => [attr(d, "w:author"), attr(d, "w:date"), textOf(d, "w:delText")])).toEqual([[ADA.name, new Date(T0 + 120_000).toISOString().replace(".000", ""), "grey "]]);
    // Deleted text is in w:delText only, as Word requires.
    expect(textOf(del)).toBe("");
    // A suggested formatting change: the run underlined now, italic before.
    const changes = all(document, "w:rPrChange");
    expect(changes.map((c) => [attr(c, "w:author"), Object.keys((c["w:rPr"] as XmlNode[])[0]!).filter((k) => k.startsWith("w:"))])).toEqual([[BOB.name, ["w:i", "w:iCs"]]]);
    const ids = [...ins, ...del, ...changes].map((x) => attr(x, "w:id"));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("writes comments as Word comments on their words, replies threaded, the resolved one done", async () => {
    const bytes = await exported();
    const document = part(bytes, "word/document.xml");
    const starts = all(document, "w:commentRangeStart").map((s) => attr(s, "w:id"));
    const ends = all(document, "w:commentRangeEnd").map((s) => attr(s, "w:id"));
    expect(starts.sort()).toEqual(ends.sort());
    const comments = all(part(bytes, "word/comments.xml"), "w:comment");
    expect(comments.map((c) => [attr(c, "w:author"), attr(c, "w:initials"), textOf(c)])).toEqual([
      [ADA.name, "AL", "Is it a storm or a squall?"],
      [BOB.name, "BE", "A storm: the boats stay in."],
      [ADA.name, "AL", "Fine by me."],
      [ADA.name, "AL", "Join these?"],
      [BOB.name, "BE", "Too much formattingin one line."],
      [BOB.name, "BE", "Keep this list?"],
    ]);
    expect(new Date(attr(comments[0]!, "w:date")).getTime()).toBe(T0 + 1000);
    // Two paragraphs for a comment written on two lines.
    expect(all(comments[4], "w:p")).toHaveLength(2);
    // Every thread's first comment has its range in the text; replies point to it.
    const ids = comments.map((c) => attr(c, "w:id"));
    expect(starts).toEqual(expect.arrayContaining([ids[0], ids[3], ids[4], ids[5]]));
    const paraIds = comments.map((c) => attr(all(c, "w:p").at(-1)!, "w14:paraId"));
    const extended = all(part(bytes, "word/commentsExtended.xml"), "w15:commentEx").map((e) => [attr(e, "w15:paraId"), attr(e, "w15:paraIdParent"), attr(e, "w15:done")]);
    expect(extended).toEqual([
      [paraIds[0], "", ""],
      [paraIds[1], paraIds[0], ""],
      [paraIds[2], paraIds[0], ""],
      [paraIds[3], "", ""],
      [paraIds[4], "", "1"],
      [paraIds[5], "", ""],
    ]);
  });

  it("gives replies the range and reference of their thread's first comment, as Word writes them", async () => {
    const bytes = await exported();
    const document = part(bytes, "word/document.xml");
    const ids = all(part(bytes, "word/comments.xml"), "w:comment").map((c) => attr(c, "w:id"));
    for (const tag of ["w:commentRangeStart", "w:commentRangeEnd", "w:commentReference"]) expect(all(document, tag).map((x) => attr(x, "w:id")).sort(), tag).toEqual([...ids].sort());
  });

  it("marks a resolved thread done in a document without any reply too", async () => {
    const n = schema.nodes;
    const doc = n.doc!.create(null, [n.paragraph!.create(null, schema.text("Hello world"))]);
    const thread = (id: string, resolved: boolean) => ({ id, anchor: { before: null, after: "x" }, quote: "", messages: [{ id: id + "m", author: "Ada", writer: "w", at: T0, text: "Note " + id }], resolved: resolved ? { by: "Ada", at: T0 } : null });
    const bytes = await toDocx({ doc, title: "", comments: [{ id: "a", from: 1, to: 6, thread: thread("a", true) }, { id: "b", from: 7, to: 12, thread: thread("b", false) }] });
    expect(unzipTest(bytes)).toContain("No errors detected");
    const paraIds = all(part(bytes, "word/comments.xml"), "w:p").map((p) => attr(p, "w14:paraId"));
    const extended = all(part(bytes, "word/commentsExtended.xml"), "w15:commentEx").map((e) => [attr(e, "w15:paraId"), attr(e, "w15:done")]);
    expect(extended).toEqual([
      [paraIds[0], "1"],
      [paraIds[1], "0"],
    ]);
    expect(JSON.stringify(part(bytes, "[Content_Types].xml"))).toContain("/word/commentsExtended.xml");
    expect(JSON.stringify(part(bytes, "word/_rels/document.xml.rels"))).toContain("commentsExtended.xml");
    expect(fromDocx(bytes).comments.map((c) => [c.messages[0]!.text, c.resolved])).toEqual([
      ["Note a", true],
      ["Note b", false],
    ]);
  });

  it("puts a comment on deleted text at the start, saying what it was on", async () => {
    const n = schema.nodes;
    const doc = n.doc!.create(null, [n.paragraph!.create(null, schema.text("What is left."))]);
    const thread = { id: "c", anchor: { before: null, after: "x" }, quote: "the old\nending", messages: [{ id: "m", author: "Ada", writer: "w", at: T0, text: "Why cut this?" }], resolved: null };
    const bytes = await toDocx({ doc, title: "", comments: [{ id: "c", from: null, to: null, thread }] });
    const comment = all(part(bytes, "word/comments.xml"), "w:comment")[0]!;
    expect(all(comment, "w:p").map((p) => textOf(p))).toEqual(["On deleted text “the old ending”:", "Why cut this?"]);
    const xml = new TextDecoder().decode(unzipSync(bytes)["word/document.xml"]!);
    expect(xml.indexOf('<w:commentRangeStart w:id="0"/>')).toBeLessThan(xml.indexOf("What is left."));
  });

  it("puts each comment's range around its words", async () => {
    const bytes = await exported();
    const xml = new TextDecoder().decode(unzipSync(bytes)["word/document.xml"]!);
    const between = (id: string) => {
      const inner = xml.slice(xml.indexOf(`<w:commentRangeStart w:id="${id}"/>`), xml.indexOf(`<w:commentRangeEnd w:id="${id}"/>`));
      return [...inner.matchAll(/<w:t[^>]*>([^<]*)<\/w:t>/g)].map((m) => m[1]).join("");
    };
    expect(between("0")).toBe("storm came");
    expect(between("3")).toBe("hills.Plain,");
    expect(xml.indexOf('<w:commentRangeEnd w:id="3"/>')).toBeGreaterThan(xml.indexOf("hills.</w:t></w:r></w:p>"));
    expect(between("4")).toBe("bold, italic");
    expect(between("5")).toBe("nested");
  });

  it("sizes the page for the writer's country: Letter in the Americas and the Philippines, A4 elsewhere", async () => {
    for (const locale of ["en-US", "en-CA", "es-MX", "fil-PH", "en", "es-CO"]) expect(pageSizeFor(locale).name, locale).toBe("Letter");
    for (const locale of ["en-GB", "fr-FR", "de", "ja-JP", "es-ES", "en-AU", "pt-BR", "not a locale!"]) expect(pageSizeFor(locale).name, locale).toBe("A4");
    const size = (bytes: Uint8Array) => all(part(bytes, "word/document.xml"), "w:pgSz").map((s) => [attr(s, "w:w"), attr(s, "w:h")]);
    expect(size(await exported("en-US"))).toEqual([["12240", "15840"]]);
    expect(size(await exported("fr-FR"))).toEqual([["11906", "16838"]]);
  });

  it("writes well-formed XML from any text: control characters and lone surrogates are dropped", async () => {
    const n = schema.nodes;
    const doc = n.doc!.create(null, [n.paragraph!.create(null, schema.text("a\u0001b\u000bc\ufffed\ud800e\tf"))]);
    const thread = { id: "c", anchor: { before: null, after: "x" }, quote: "", messages: [{ id: "m", author: "Eve\u0007", writer: "w", at: 0, text: "bad\u0000 text" }], resolved: null };
    const bytes = await toDocx({ doc, title: "Title\u0002", comments: [{ id: "c", from: 1, to: 3, thread }] });
    for (const name of ["word/document.xml", "word/comments.xml", "docProps/core.xml"]) {
      expect(XMLValidator.validate(new TextDecoder().decode(unzipSync(bytes)[name]!)), name).toBe(true);
    }
    expect(textOf(part(bytes, "word/document.xml"))).toBe("Titleabcde\tf");
    expect(attr(all(part(bytes, "word/comments.xml"), "w:comment")[0]!, "w:author")).toBe("Eve");
  });

  it("gives every paragraph one style at most, also headings, lists and code inside quotes (Word refuses more)", async () => {
    const n = schema.nodes;
    const p = (text: string) => n.paragraph!.create(null, schema.text(text));
    const doc = n.doc!.create(null, [
      n.blockquote!.create(null, [n.heading!.create({ level: 2 }, schema.text("Quoted heading")), n.bullet_list!.create(null, [n.list_item!.create(null, [p("item"), p("more")])]), n.code_block!.create(null, schema.text("code"))]),
    ]);
    for (const bytes of [await toDocx({ doc, title: "T" }), await exported()]) {
      for (const pPr of all(part(bytes, "word/document.xml"), "w:pPr")) expect(all([pPr], "w:pStyle").length).toBeLessThanOrEqual(1);
      for (const rPr of all(part(bytes, "word/document.xml"), "w:rPr")) expect(all([rPr], "w:rStyle").length).toBeLessThanOrEqual(1);
    }
    const styles = all(part(await toDocx({ doc, title: "" }), "word/document.xml"), "w:pStyle").map((s) => attr(s, "w:val"));
    expect(styles).toEqual(["Heading2", "Quote", "Quote", "HTMLPreformatted"]);
  });

  it("gives comment authors initials as Word does", () => {
    expect(initialsOf("Ada Lovelace")).toBe("AL");
    expect(initialsOf("mary ann evans")).toBe("ME");
    expect(initialsOf("Émile")).toBe("É");
    expect(initialsOf("  ")).toBe("?");
  });
});
