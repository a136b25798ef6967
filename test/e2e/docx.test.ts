/**
 * Word files in Chromium through the browser shell: export through the document menu
 * (read back by mammoth and the raw package), import of a Word file with comments,
 * tracked changes and things Writer cannot hold (checked in the editor, in the notice,
 * and in the stored document through a backup), and hostile files refused with nothing
 * created. WRITER_SCREENSHOTS=dir saves the imported document there.
 */
import { next as A } from "@automerge/automerge";
import { deflateSync, strToU8 } from "fflate";
import mammoth from "mammoth";
import { describe, expect, it } from "vitest";
import { anchoredThreads } from "../../src/shared/comments";
import type { WriterDocument } from "../../src/shared/document";
import { pageSizeFor } from "../../src/shared/convert/docx/export";
import { all, part, rawZip, textOf, wordPackage, type XmlNode } from "../support/docxFiles";
import { useWriterFixtures } from "./support/fixture";
import { screenshot } from "./support/screenshot";

const W_DATE = "2026-11-03T09:31:00Z";

/** A Word file as Word writes one: a threaded, resolved comment, another comment, a tracked insertion and deletion, a table and an image. */
function reviewedWordFile(): Buffer {
  const body = `
<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Harbour notes</w:t></w:r></w:p>
<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Arrival</w:t></w:r></w:p>
<w:p>
  <w:r><w:t xml:space="preserve">The ferry </w:t></w:r>
  <w:commentRangeStart w:id="0"/><w:r><w:t>docked late</w:t></w:r><w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>
  <w:ins w:id="21" w:author="Bob Editor" w:date="${W_DATE}"><w:r><w:t xml:space="preserve"> again</w:t></w:r></w:ins>
  <w:del w:id="22" w:author="Ada Lovelace" w:date="${W_DATE}"><w:r><w:delText xml:space="preserve"> in the rain</w:delText></w:r></w:del>
  <w:r><w:t xml:space="preserve">, and the </w:t></w:r>
  <w:r><w:rPr><w:b/></w:rPr><w:t>harbour master</w:t></w:r>
  <w:r><w:t xml:space="preserve"> </w:t></w:r>
  <w:commentRangeStart w:id="2"/><w:r><w:t>waved</w:t></w:r><w:commentRangeEnd w:id="2"/><w:r><w:commentReference w:id="2"/></w:r>
  <w:r><w:t>.</w:t></w:r>
</w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Boat</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Time</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"/></w:drawing></w:r><w:r><w:t>The end.</w:t></w:r></w:p>`;
  return Buffer.from(
    wordPackage({
      body,
      styles: `<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>`,
      comments: `
<w:comment w:id="0" w:author="Ada Lovelace" w:date="2026-11-03T10:00:00Z" w:initials="AL"><w:p w14:paraId="0B000001"><w:r><w:t>How late?</w:t></w:r></w:p></w:comment>
<w:comment w:id="1" w:author="Bob Editor" w:date="2026-11-03T10:05:00Z" w:initials="BE"><w:p w14:paraId="0B000002"><w:r><w:t>Two hours.</w:t></w:r></w:p></w:comment>
<w:comment w:id="2" w:author="Bob Editor" w:date="2026-11-03T10:06:00Z" w:initials="BE"><w:p w14:paraId="0B000003"><w:r><w:t>Who did?</w:t></w:r></w:p></w:comment>`,
      commentsExtended: `<w15:commentEx w15:paraId="0B000001" w15:done="1"/><w15:commentEx w15:paraId="0B000002" w15:paraIdParent="0B000001" w15:done="1"/><w15:commentEx w15:paraId="0B000003" w15:done="0"/>`,
    }),
  );
}

const attr = (node: XmlNode, name: string) => String(node[`@${name}`] ?? "");

describe("Word files in the browser shell", () => {
  const newWriter = useWriterFixtures();

  it("exports a document as Word: structure and marks for mammoth, the page size of the writer's locale", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("Logbook: night 41");
    await editor.type("## The storm\n");
    await editor.type("The lamp burned ");
    await editor.press("Control+b");
    await editor.type("all night");
    await editor.press("Control+b");
    await editor.type(".\n");
    await editor.type("* brass key\nmatches\n\n");
    await editor.type("> the sea reads everything");
    await expect.poll(() => editor.saveState()).toBe("Saved on this computer");

    const file = await editor.export("Export as Word (.docx)");
    expect(file.name).toBe("Logbook night 41.docx");
    const bytes = new Uint8Array(file.bytes);
    const { value: html } = await mammoth.convertToHtml({ buffer: file.bytes }, { styleMap: ["p[style-name='Title'] => h1.title:fresh", "p[style-name='Quote'] => blockquote > p:fresh"] });
    expect(html).toContain('<h1 class="title">Logbook: night 41</h1>');
    expect(html).toContain("<h2>The storm</h2>");
    expect(html).toContain("<p>The lamp burned <strong>all night</strong>.</p>");
    expect(html).toContain("<ul><li>brass key</li><li>matches</li></ul>");
    expect(html).toContain("<blockquote><p>the sea reads everything</p></blockquote>");
    const locale = await f.page.evaluate(() => navigator.language);
    const page = pageSizeFor(locale);
    expect(all(part(bytes, "word/document.xml"), "w:pgSz").map((s) => Number(attr(s, "w:w")))).toEqual([page.width]);
    expect(f.errors).toEqual([]);
  });

  it("imports a Word file with its comments and tracked changes, says what it left out, and exports them back to Word", async () => {
    const f = await newWriter();
    const editor = await f.library.importFile("Harbour.docx", reviewedWordFile());
    await expect.poll(() => editor.title.inputValue()).toBe("Harbour notes");
    await expect.poll(() => editor.text.innerText()).toContain("The ferry docked late again in the rain, and the harbour master waved.");
    expect(await editor.text.innerText()).toContain("Boat | Time");
    const notice = await f.page.locator(".notice").first().innerText();
    expect(notice).toContain("“Harbour.docx” imported as “Harbour notes”.");
    expect(notice).toContain("With 2 comments and 2 suggested changes. Left out, as Writer cannot hold them yet: an image. A table is now rows of text.");
    // The suggestions are shown as suggestions, with their authors.
    await expect.poll(() => editor.text.locator("ins.suggestion-insert").getAttribute("title")).toMatch(/^Suggested insertion by Bob Editor/);
    expect(await editor.text.locator("del.suggestion-delete").innerText()).toBe(" in the rain");
    expect(await editor.text.locator("strong").innerText()).toBe("harbour master");
    // The open comment is in the margin beside its words (the resolved one is not).
    await expect.poll(() => f.page.getByText("Who did?").count()).toBe(1);
    expect(await f.page.getByText("How late?").count()).toBe(0);
    await screenshot(f.page, "docx-imported.png");

    // The stored document holds the comments on their words (read from a backup of it).
    await expect.poll(() => editor.saveState()).toBe("Saved on this computer");
    const backup = await editor.export("Download a backup (with history)");
    const stored = A.load<WriterDocument>(new Uint8Array(backup.bytes));
    const threads = anchoredThreads(stored).map(({ thread, range }) => ({
      on: range ? stored.text.slice(range.start, range.end) : null,
      resolved: !!thread.resolved,
      messages: thread.messages.map((m) => `${m.author}: ${m.text}`),
    }));
    expect(threads).toEqual([
      { on: "docked late", resolved: true, messages: ["Ada Lovelace: How late?", "Bob Editor: Two hours."] },
      { on: "waved", resolved: false, messages: ["Bob Editor: Who did?"] },
    ]);

    // And back to Word: the same comments, threads and tracked changes.
    const again = new Uint8Array((await editor.export("Export as Word (.docx)")).bytes);
    const comments = all(part(again, "word/comments.xml"), "w:comment").map((c) => `${attr(c, "w:author")}: ${textOf(c)}`);
    expect(comments).toEqual(["Ada Lovelace: How late?", "Bob Editor: Two hours.", "Bob Editor: Who did?"]);
    const doc = part(again, "word/document.xml");
    expect(all(doc, "w:ins").map((i) => [attr(i, "w:author"), textOf(i)])).toEqual([["Bob Editor", " again"]]);
    expect(all(doc, "w:del").map((d) => [attr(d, "w:author"), textOf(d, "w:delText")])).toEqual([["Ada Lovelace", " in the rain"]]);
    expect(all(part(again, "word/commentsExtended.xml"), "w15:commentEx").map((e) => attr(e, "w15:done"))).toEqual(["1", "1", ""]);
    expect(f.errors).toEqual([]);
  });

  it("refuses hostile Word files with a clear message and creates nothing", async () => {
    const f = await newWriter();
    await f.library.newDocument();
    const before = await f.library.titles();
    const input = f.page.getByTestId("import-file");
    const bomb = rawZip([{ name: "word/document.xml", stored: deflateSync(new Uint8Array(50 * 1024 * 1024), { level: 9 }), method: 8, size: 50 * 1024 * 1024 }]);
    await input.setInputFiles({ name: "bomb.docx", mimeType: "application/octet-stream", buffer: Buffer.from(bomb) });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/Writer did not import “bomb\.docx”\. .*zip bomb/);
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><w:document><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>`;
    await input.setInputFiles({ name: "laughs.docx", mimeType: "application/octet-stream", buffer: Buffer.from(wordPackage({ body: "", extra: { "word/document.xml": laughs } })) });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/Writer did not import “laughs\.docx”\. .*DOCTYPE or ENTITY/);
    await input.setInputFiles({ name: "notes.docx", mimeType: "application/octet-stream", buffer: Buffer.from(strToU8("just text")) });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/Writer did not import “notes\.docx”\. This file is not a Word document/);
    expect(await f.library.titles()).toEqual(before);
    expect(f.errors).toEqual([]);
  });
});
