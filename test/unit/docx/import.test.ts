/**
 * Word import on files made by the docx library and on minimal packages written by
 * hand the way Word writes them (tracked changes, threaded comments), and on bad and
 * hostile files, each refused with its own message.
 */
import { Document, ExternalHyperlink, FootnoteReferenceRun, HeadingLevel, ImageRun, LevelFormat, Packer, Paragraph, Table, TableCell, TableRow, TextRun } from "docx";
import { deflateSync, strToU8, zipSync } from "fflate";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DOCX_LIMITS, DocxRefused, describeDocxLeftOut, fromDocx } from "../../../src/shared/convert/docx/import";
import { deflated, rawZip, wordPackage } from "./support";

// A 1x1 PNG.
const PNG = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));

function refusal(bytes: Uint8Array): string {
  try {
    fromDocx(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DocxRefused);
    return (e as Error).message;
  }
  throw new Error("The file was imported, not refused.");
}

describe("Word import of files made by another writer (the docx library)", () => {
  it("keeps the title, headings, lists, marks and links, turns a table into rows and lists what it left out", async () => {
    const file = new Document({
      numbering: {
        config: [
          { reference: "steps", levels: [{ level: 0, format: LevelFormat.DECIMAL, text: "%1." }, { level: 1, format: LevelFormat.LOWER_LETTER, text: "%2)" }] },
          { reference: "dots", levels: [{ level: 0, format: LevelFormat.BULLET, text: "•" }] },
        ],
      },
      footnotes: { 1: { children: [new Paragraph("A footnote.")] } },
      sections: [
        {
          children: [
            new Paragraph({ heading: HeadingLevel.TITLE, children: [new TextRun("Moby Dick")] }),
            new Paragraph({ heading: HeadingLevel.HEADING_1, children: [new TextRun("Loomings")] }),
            new Paragraph({ heading: HeadingLevel.HEADING_4, children: [new TextRun("Deep")] }),
            new Paragraph({
              children: [
                new TextRun("Call me "),
                new TextRun({ text: "Ishmael", bold: true, italics: true }),
                new TextRun({ text: " (see", underline: {} }),
                new FootnoteReferenceRun(1),
                new TextRun({ text: ") ", strike: true }),
                new TextRun({ text: "grep", font: "Consolas" }),
                new TextRun(" "),
                new ExternalHyperlink({ link: "https://example.org/moby", children: [new TextRun({ text: "online", style: "Hyperlink" })] }),
                new ExternalHyperlink({ link: "javascript:alert(1)", children: [new TextRun("unsafe")] }),
              ],
            }),
            new Paragraph({ numbering: { reference: "steps", level: 0 }, children: [new TextRun("first")] }),
            new Paragraph({ numbering: { reference: "steps", level: 1 }, children: [new TextRun("first a")] }),
            new Paragraph({ numbering: { reference: "steps", level: 0 }, children: [new TextRun("second")] }),
            new Paragraph({ numbering: { reference: "dots", level: 0 }, children: [new TextRun("a dot")] }),
            new Table({ rows: [new TableRow({ children: [new TableCell({ children: [new Paragraph("Name")] }), new TableCell({ children: [new Paragraph("Age")] })] }), new TableRow({ children: [new TableCell({ children: [new Paragraph("Ahab")] }), new TableCell({ children: [new Paragraph("58")] })] })] }),
            new Paragraph({ children: [new ImageRun({ type: "png", data: PNG, transformation: { width: 10, height: 10 } }), new TextRun("After the image.")] }),
          ],
        },
      ],
    });
    const result = fromDocx(new Uint8Array(await Packer.toArrayBuffer(file)));
    expect(result.title).toBe("Moby Dick");
    expect(result.doc.toString()).toBe(
      'doc(heading("Loomings"), heading("Deep"), paragraph("Call me ", strong(em("Ishmael")), underline(" (see"), strike(") "), code("grep"), " ", link("online"), "unsafe"), ' +
        'ordered_list(list_item(paragraph("first"), ordered_list(list_item(paragraph("first a")))), list_item(paragraph("second"))), bullet_list(list_item(paragraph("a dot"))), ' +
        'paragraph("Name | Age"), paragraph("Ahab | 58"), paragraph("After the image."))',
    );
    expect(result.doc.child(0).attrs.level).toBe(1);
    expect(result.doc.child(1).attrs.level).toBe(3);
    let href = "";
    result.doc.descendants((n) => {
      for (const m of n.marks) if (m.type.name === "link") href = String(m.attrs.href);
    });
    expect(href).toBe("https://example.org/moby");
    expect(result.leftOut).toEqual({ media: 1, tables: 1, footnotes: 1, textBoxes: 0, equations: 0, fields: 0, comments: 0 });
    expect(describeDocxLeftOut(result.leftOut)).toBe("Left out, as Writer cannot hold them yet: an image and a footnote. A table is now rows of text.");
  });
});

describe("Word import of files Word wrote (mammoth's test files)", () => {
  const word = (name: string) => fromDocx(new Uint8Array(readFileSync(path.join(__dirname, "../../fixtures/docx-word", name))));

  it("reads comments, including one Word placed on a point after the last word", () => {
    const r = word("comments.docx");
    expect(r.doc.toString()).toBe('doc(paragraph("Ouch."))');
    expect(r.comments.map((c) => ({ on: r.doc.textBetween(c.from, c.to), messages: c.messages.map((m) => `${m.author}: ${m.text}`), resolved: c.resolved }))).toEqual([
      { on: "Ouch", messages: ["Michael Williamson: A tachyon walks into a bar."], resolved: false },
      { on: ".", messages: ["Michael Williamson: Fin."], resolved: false },
    ]);
    expect(r.comments[0]!.messages[0]!.at).toBe(Date.parse("2016-07-03T15:10:00Z"));
  });

  it("reads lists, marks, strict-format and byte-order-marked files", () => {
    expect(word("simple-list.docx").doc.toString()).toBe('doc(bullet_list(list_item(paragraph("Apple")), list_item(paragraph("Banana"))))');
    expect(word("underline.docx").doc.toString()).toBe('doc(paragraph(strong("The "), strong(underline("Sunset")), strong(" Tree")))');
    expect(word("strikethrough.docx").doc.toString()).toBe('doc(paragraph(strike("Today\'s Special: Salmon"), " Sold out"))');
    expect(word("strict-format.docx").doc.textContent).toBe("Test");
    expect(word("utf8-bom.docx").doc.textContent).toBe("This XML has a byte order mark.");
  });

  it("counts what it leaves out: tables (kept as rows), text boxes, footnotes, pictures", () => {
    const tables = word("tables.docx");
    expect(tables.doc.toString()).toBe('doc(paragraph("Above"), paragraph("Top left | Top right"), paragraph("Bottom left | Bottom right"), paragraph("Below"))');
    expect(tables.leftOut.tables).toBe(1);
    expect(word("text-box.docx").leftOut.textBoxes).toBe(1);
    expect(word("footnotes.docx").leftOut.footnotes).toBe(2);
    expect(word("tiny-picture.docx").leftOut.media).toBe(1);
  });
});

const STYLES = `
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style>
<w:style w:type="paragraph" w:styleId="Chapter"><w:name w:val="Chapter"/><w:basedOn w:val="Heading2"/></w:style>
<w:style w:type="paragraph" w:styleId="Quote"><w:name w:val="Quote"/></w:style>
<w:style w:type="paragraph" w:styleId="SourceCode"><w:name w:val="Source Code"/></w:style>
<w:style w:type="character" w:styleId="Strong"><w:name w:val="Strong"/><w:rPr><w:b/></w:rPr></w:style>`;

const NUMBERING = `
<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="decimal"/></w:lvl></w:abstractNum>
<w:num w:numId="7"><w:abstractNumId w:val="0"/></w:num>`;

describe("Word import of tracked changes and comments as Word writes them", () => {
  const body = `
<w:p><w:pPr><w:pStyle w:val="Chapter"/></w:pPr><w:r><w:t>The Whale</w:t></w:r></w:p>
<w:p>
  <w:r><w:t xml:space="preserve">It was </w:t></w:r>
  <w:commentRangeStart w:id="0"/>
  <w:ins w:id="11" w:author="Bob Editor" w:date="2026-11-03T09:31:00Z"><w:r><w:t xml:space="preserve">a very </w:t></w:r></w:ins>
  <w:r><w:t>white</w:t></w:r>
  <w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>
  <w:del w:id="12" w:author="Ada Lovelace" w:date="2026-11-03T09:32:00Z"><w:r><w:rPr><w:b/></w:rPr><w:delText xml:space="preserve"> and grey</w:delText></w:r></w:del>
  <w:r><w:t xml:space="preserve"> whale, </w:t></w:r>
  <w:r><w:rPr><w:rStyle w:val="Strong"/></w:rPr><w:t>huge</w:t></w:r>
  <w:r><w:br w:type="page"/><w:t>.</w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>hidden</w:t></w:r>
</w:p>
<w:p><w:pPr><w:pStyle w:val="Quote"/></w:pPr><w:commentRangeStart w:id="2"/><w:r><w:t>Quoted</w:t></w:r><w:commentRangeEnd w:id="2"/><w:r><w:commentReference w:id="2"/></w:r></w:p>
<w:p><w:pPr><w:pStyle w:val="SourceCode"/></w:pPr><w:r><w:t>let a = 1;</w:t></w:r></w:p>
<w:p><w:pPr><w:pStyle w:val="SourceCode"/></w:pPr><w:r><w:t>a += 1;</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="7"/></w:numPr></w:pPr><w:r><w:t>a bullet</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="1"/><w:numId w:val="7"/></w:numPr></w:pPr><w:r><w:t>a number</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="7"/></w:numPr></w:pPr><w:r><w:t xml:space="preserve">☒ bought milk</w:t></w:r></w:p>
<w:p><w:pPr><w:pBdr><w:bottom w:val="single" w:sz="6"/></w:pBdr></w:pPr></w:p>
<w:p><w:r><w:t xml:space="preserve">Page </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:tab/><w:t>&lt;tag&gt; &amp; &#x263A;</w:t></w:r><m:oMath xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math"><m:r><m:t>x</m:t></m:r></m:oMath></w:p>
<w:p><w:r><w:t xml:space="preserve">See </w:t></w:r><w:hyperlink r:id="rId9"><w:r><w:t>the site</w:t></w:r></w:hyperlink><w:r><w:t xml:space="preserve"> and </w:t></w:r><w:hyperlink r:id="rId10"><w:r><w:t>this</w:t></w:r></w:hyperlink></w:p>`;
  const comments = `
<w:comment w:id="0" w:author="Ada Lovelace" w:date="2026-11-03T10:00:00Z" w:initials="AL"><w:p w14:paraId="0A000001"><w:r><w:t>Which whale?</w:t></w:r></w:p></w:comment>
<w:comment w:id="1" w:author="Bob Editor" w:date="2026-11-03T10:05:00Z" w:initials="BE"><w:p w14:paraId="0A000002"><w:r><w:t>Moby Dick.</w:t></w:r></w:p></w:comment>
<w:comment w:id="2" w:author="Bob Editor" w:date="2026-11-03T10:06:00Z" w:initials="BE"><w:p><w:r><w:t>Cite it</w:t></w:r></w:p><w:p w14:paraId="0A000003"><w:r><w:t>properly.</w:t></w:r></w:p></w:comment>`;
  const extended = `<w15:commentEx w15:paraId="0A000001" w15:done="1"/><w15:commentEx w15:paraId="0A000002" w15:paraIdParent="0A000001" w15:done="1"/><w15:commentEx w15:paraId="0A000003" w15:done="0"/>`;
  const rels = `<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/whale" TargetMode="External"/><Relationship Id="rId10" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="javascript:alert(1)" TargetMode="External"/>`;
  const result = fromDocx(wordPackage({ body, styles: STYLES, numbering: NUMBERING, comments, commentsExtended: extended, documentRels: rels }), { now: 0 });

  it("reads structure: styles by name and basedOn, quotes, code lines, mixed lists, checkboxes typed as characters, rules", () => {
    expect(result.title).toBeNull();
    expect(result.doc.toString()).toBe(
      'doc(heading("The Whale"), paragraph("It was ", insertion("a very "), "white", strong(deletion(" and grey")), " whale, ", strong("huge"), "."), blockquote(paragraph("Quoted")), code_block("let a = 1;\\na += 1;"), ' +
        'bullet_list(list_item(paragraph("a bullet"), ordered_list(list_item(paragraph("a number"))))), task_list(task_item(paragraph("bought milk"))), horizontal_rule, paragraph("Page 3\\t<tag> & ☺"), paragraph("See ", link("the site"), " and this"))',
    );
    expect(result.doc.child(0).attrs.level).toBe(2);
    const task = result.doc.child(5).child(0);
    expect(task.attrs.checked).toBe(true);
    expect(result.leftOut).toMatchObject({ fields: 1, equations: 1, media: 0, tables: 0 });
  });

  it("reads w:ins and w:del as suggestions with their authors and dates", () => {
    const marks: Record<string, unknown>[] = [];
    result.doc.child(1).forEach((n) => {
      for (const m of n.marks) if (m.type.name === "insertion" || m.type.name === "deletion") marks.push({ kind: m.type.name, text: n.text, author: m.attrs.author, at: m.attrs.at });
    });
    expect(marks).toEqual([
      { kind: "insertion", text: "a very ", author: "Bob Editor", at: Date.UTC(2026, 10, 3, 9, 31) },
      { kind: "deletion", text: " and grey", author: "Ada Lovelace", at: Date.UTC(2026, 10, 3, 9, 32) },
    ]);
  });

  it("reads w:rPrChange as a suggested formatting change: what was added and what was removed", () => {
    const r = fromDocx(
      wordPackage({
        body: `<w:p><w:r><w:rPr><w:b/><w:rPrChange w:id="5" w:author="Bob Editor" w:date="2026-11-03T09:40:00Z"><w:rPr><w:i/></w:rPr></w:rPrChange></w:rPr><w:t>bolder</w:t></w:r><w:r><w:rPr><w:i/><w:rPrChange w:id="6" w:author="Ada" w:date="2026-11-03T09:41:00Z"><w:rPr><w:i/></w:rPr></w:rPrChange></w:rPr><w:t> same</w:t></w:r></w:p>`,
      }),
    );
    const changes: unknown[] = [];
    r.doc.descendants((n) => {
      for (const m of n.marks) if (m.type.name === "format_change") changes.push({ text: n.text, author: m.attrs.author, at: m.attrs.at, added: m.attrs.added, removed: m.attrs.removed });
    });
    expect(changes).toEqual([{ text: "bolder", author: "Bob Editor", at: Date.UTC(2026, 10, 3, 9, 40), added: ["strong"], removed: ["em"] }]);
  });

  it("reads comments on their words, replies threaded through commentsExtended, resolved ones resolved", () => {
    const text = (c: { from: number; to: number }) => result.doc.textBetween(c.from, c.to);
    expect(result.comments.map((c) => ({ on: text(c), resolved: c.resolved, messages: c.messages }))).toEqual([
      {
        on: "a very white",
        resolved: true,
        messages: [
          { author: "Ada Lovelace", at: Date.UTC(2026, 10, 3, 10, 0), text: "Which whale?" },
          { author: "Bob Editor", at: Date.UTC(2026, 10, 3, 10, 5), text: "Moby Dick." },
        ],
      },
      { on: "Quoted", resolved: false, messages: [{ author: "Bob Editor", at: Date.UTC(2026, 10, 3, 10, 6), text: "Cite it\nproperly." }] },
    ]);
  });

  it("reads a comment Word placed on a point as on the word there, and lists one whose text was left out", () => {
    const r = fromDocx(
      wordPackage({
        body: `<w:p><w:r><w:t xml:space="preserve">One </w:t></w:r><w:r><w:commentReference w:id="5"/></w:r><w:r><w:t>word.</w:t></w:r></w:p>`,
        comments: `<w:comment w:id="5" w:author="A"><w:p><w:r><w:t>Point</w:t></w:r></w:p></w:comment><w:comment w:id="6" w:author="B"><w:p><w:r><w:t>Lost</w:t></w:r></w:p></w:comment>`,
      }),
    );
    expect(r.comments.map((c) => r.doc.textBetween(c.from, c.to))).toEqual(["word."]);
    expect(r.leftOut.comments).toBe(1);
  });
});

describe("what the writer is told was left out", () => {
  it("counts in plain words, and says nothing when nothing was left out", () => {
    const none = { media: 0, tables: 0, footnotes: 0, textBoxes: 0, equations: 0, fields: 0, comments: 0 };
    expect(describeDocxLeftOut(none)).toBeNull();
    expect(describeDocxLeftOut({ ...none, media: 3, textBoxes: 1, equations: 2, tables: 2, fields: 4 })).toBe(
      "Left out, as Writer cannot hold them yet: 3 images, a text box and 2 equations. 2 tables are now rows of text. 4 fields (page numbers, dates…) are now plain text.",
    );
  });
});

describe("Word import of bad and hostile files", () => {
  it("refuses a file that is not a zip, naming what it is when it can", () => {
    expect(refusal(strToU8("Just some text, not a document at all."))).toMatch(/not a Word document \(\.docx\): it is not the zip package/);
    expect(refusal(Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, ...new Array(600).fill(0)]))).toMatch(/older Word file \(\.doc\) or a password-protected one/);
    expect(refusal(strToU8("%PDF-1.7\n" + "x".repeat(100)))).toMatch(/This is a PDF/);
  });

  it("refuses a truncated file", () => {
    const whole = wordPackage({ body: "<w:p><w:r><w:t>Hello</w:t></w:r></w:p>" });
    expect(refusal(whole.subarray(0, Math.floor(whole.length / 2)))).toMatch(/incomplete or damaged/);
    // Cut inside the last part's data but with the directory intact: a damaged part.
    const cut = rawZip([{ ...deflated("word/document.xml", strToU8("<w:document/>".repeat(100))), size: 99_999 }]);
    expect(refusal(cut)).toMatch(/incomplete or damaged|damaged/);
  });

  it("refuses a zip bomb by its ratio, before inflating it", () => {
    const zeros = new Uint8Array(50 * 1024 * 1024);
    const bomb = rawZip([deflated("word/document.xml", zeros)]);
    expect(bomb.length).toBeLessThan(100 * 1024);
    expect(refusal(bomb)).toMatch(/would unpack from \d+ KB to 50 MB.*zip bomb/);
  });

  it("refuses a zip bomb by its total size, before inflating it", () => {
    const chunk = deflated("x", new Uint8Array(1_000_000));
    const entries = Array.from({ length: 220 }, (_, i) => ({ ...chunk, name: `word/media/part${i}.bin` }));
    const bomb = rawZip([deflated("word/document.xml", strToU8("<w:document/>")), ...entries]);
    expect(bomb.length).toBeLessThan(500 * 1024);
    expect(refusal(bomb)).toMatch(/would unpack to more than 200 MB.*zip bomb/);
  });

  it("refuses a part that inflates to more than its header says, while inflating", () => {
    const big = new Uint8Array(8 * 1024 * 1024).fill(32);
    const liar = rawZip([{ name: "word/document.xml", stored: deflateSync(big), method: 8, size: 4096 }]);
    expect(refusal(liar)).toMatch(/unpacks to more than it says it holds/);
  });

  it("refuses too many entries", () => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i <= DOCX_LIMITS.entries; i++) files[`word/p${i}.xml`] = new Uint8Array(0);
    expect(refusal(zipSync(files))).toMatch(/holds 2001 parts/);
  });

  it("refuses XML entity tricks: billion laughs and external entities, without expanding them", () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><w:document><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>`;
    expect(refusal(zipSync({ "word/document.xml": strToU8(laughs) }))).toMatch(/DOCTYPE or ENTITY/);
    const external = `<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><w:document><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>`;
    expect(refusal(zipSync({ "word/document.xml": strToU8(external) }))).toMatch(/DOCTYPE or ENTITY/);
    // In any part read, not only the text.
    expect(refusal(wordPackage({ body: "<w:p/>", extra: { "word/styles.xml": `<!DOCTYPE x [<!ENTITY e SYSTEM "http://evil.example/">]><w:styles/>` } }))).toMatch(/DOCTYPE or ENTITY/);
  });

  it("reads content controls nested as deep as Word makes them, and refuses XML nested deeper than any document", () => {
    const nested = (depth: number) => "<w:sdt><w:sdtContent>".repeat(depth) + "<w:p><w:r><w:t>deep</w:t></w:r></w:p>" + "</w:sdtContent></w:sdt>".repeat(depth);
    expect(fromDocx(wordPackage({ body: nested(60) })).doc.textContent).toBe("deep");
    expect(refusal(wordPackage({ body: nested(1000) }))).toMatch(/damaged: its text is not readable XML/);
  });

  it("refuses a huge file before reading it", () => {
    const huge = new Uint8Array(DOCX_LIMITS.fileBytes + 1);
    huge.set([0x50, 0x4b, 0x03, 0x04]);
    expect(refusal(huge)).toMatch(/larger than Writer imports \(25 MB\)/);
  });

  it("refuses a zip without word/document.xml, naming an Excel or PowerPoint file", () => {
    expect(refusal(zipSync({ "[Content_Types].xml": strToU8("<Types/>") }))).toMatch(/has no word\/document\.xml/);
    expect(refusal(zipSync({ "xl/workbook.xml": strToU8("<workbook/>") }))).toMatch(/Excel workbook/);
    expect(refusal(zipSync({ "ppt/presentation.xml": strToU8("<p/>") }))).toMatch(/PowerPoint/);
  });

  it("refuses an encrypted part and a document that is not XML", () => {
    const encrypted = rawZip([{ ...deflated("word/document.xml", strToU8("<w:document/>")), flags: 1 }]);
    expect(refusal(encrypted)).toMatch(/password-protected/);
    expect(refusal(zipSync({ "word/document.xml": strToU8("<w:document><w:body><w:p></w:body>") }))).toMatch(/damaged/);
  });
});
