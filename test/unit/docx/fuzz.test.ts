/**
 * Word import on random Word-like bodies (paragraphs, runs, tracked changes, links,
 * comments whose ranges start and end anywhere, tables, lists at any level, checkboxes,
 * fields, breaks) and on damaged packages: every file either becomes a valid document
 * that goes into Automerge with its comments on text, or is refused with a message.
 * Never an exception of another kind, never a document the editor could not open.
 */
import { next as A } from "@automerge/automerge";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anchoredThreads } from "../../../src/shared/comments";
import { initDocument, type WriterDocument } from "../../../src/shared/document";
import { applyDocxImport } from "../../../src/shared/convert/docx/document";
import { DocxRefused, fromDocx } from "../../../src/shared/convert/docx/import";
import { wordPackage } from "./support";

const word = fc.constantFrom("a", "whale", " ", "é", "&amp;", "&lt;", "ü ", "\t", "☐ ", "&#x1F600;", "");
const rPr = fc.constantFrom("", "<w:rPr><w:b/></w:rPr>", "<w:rPr><w:i/><w:u w:val=\"single\"/></w:rPr>", '<w:rPr><w:rFonts w:ascii="Consolas"/></w:rPr>', "<w:rPr><w:strike/><w:rPrChange w:id=\"9\" w:author=\"X\"><w:rPr/></w:rPrChange></w:rPr>", "<w:rPr><w:vanish/></w:rPr>");
const run = fc.oneof(
  fc.tuple(rPr, fc.array(word, { maxLength: 3 })).map(([p, ws]) => `<w:r>${p}<w:t xml:space="preserve">${ws.join("")}</w:t></w:r>`),
  fc.constant("<w:r><w:br/></w:r>"),
  fc.constant('<w:r><w:br w:type="page"/></w:r>'),
  fc.constant("<w:r><w:tab/></w:r>"),
  fc.constant('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>4</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'),
  fc.constant("<w:r><w:drawing/></w:r>"),
  fc.constant('<w:r><w:footnoteReference w:id="1"/></w:r>'),
  fc.integer({ min: 0, max: 3 }).map((id) => `<w:commentRangeStart w:id="${id}"/>`),
  fc.integer({ min: 0, max: 3 }).map((id) => `<w:commentRangeEnd w:id="${id}"/><w:r><w:commentReference w:id="${id}"/></w:r>`),
);
const inline: fc.Arbitrary<string> = fc.letrec<{ inline: string }>((tie) => ({
  inline: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    run,
    fc.array(tie("inline"), { maxLength: 3 }).map((xs) => `<w:ins w:id="1" w:author="Bob" w:date="2026-01-01T00:00:00Z">${xs.join("")}</w:ins>`),
    fc.array(tie("inline"), { maxLength: 3 }).map((xs) => `<w:del w:id="2" w:author="Ada" w:date="not a date">${xs.join("").replace(/<w:t([\s>])/g, "<w:delText$1").replace(/<\/w:t>/g, "</w:delText>")}</w:del>`),
    fc.array(tie("inline"), { maxLength: 3 }).map((xs) => `<w:hyperlink r:id="${"rId9"}">${xs.join("")}</w:hyperlink>`),
    fc.array(tie("inline"), { maxLength: 2 }).map((xs) => `<w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val="1"/></w14:checkbox></w:sdtPr><w:sdtContent>${xs.join("")}</w:sdtContent></w:sdt>`),
  ),
})).inline;
const pPr = fc.constantFrom(
  "",
  '<w:pPr><w:pStyle w:val="Title"/></w:pPr>',
  '<w:pPr><w:pStyle w:val="Heading1"/></w:pPr>',
  '<w:pPr><w:pStyle w:val="Quote"/></w:pPr>',
  '<w:pPr><w:pStyle w:val="Code"/></w:pPr>',
  '<w:pPr><w:pBdr><w:bottom w:val="single"/></w:pBdr></w:pPr>',
  '<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>',
  '<w:pPr><w:numPr><w:ilvl w:val="3"/><w:numId w:val="2"/></w:numPr></w:pPr>',
  '<w:pPr><w:pStyle w:val="Quote"/><w:numPr><w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr></w:pPr>',
  '<w:pPr><w:numPr><w:ilvl w:val="99"/><w:numId w:val="77"/></w:numPr></w:pPr>',
);
const paragraph = fc.tuple(pPr, fc.array(inline, { maxLength: 5 })).map(([p, xs]) => `<w:p>${p}${xs.join("")}</w:p>`);
const block = fc.oneof(
  { weight: 5, arbitrary: paragraph },
  { weight: 1, arbitrary: fc.array(fc.array(paragraph, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }).map((cells) => `<w:tbl><w:tr>${cells.map((c) => `<w:tc>${c.join("")}</w:tc>`).join("")}</w:tr></w:tbl>`) },
);

const STYLES = `<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style><w:style w:type="paragraph" w:styleId="Quote"><w:name w:val="Quote"/></w:style><w:style w:type="paragraph" w:styleId="Code"><w:name w:val="Code"/></w:style>`;
const NUMBERING = `<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="0"/></w:num>`;
const COMMENTS = [0, 1, 2, 3].map((id) => `<w:comment w:id="${id}" w:author="Ed ${id}"><w:p w14:paraId="0C00000${id}"><w:r><w:t>${id === 2 ? " " : `Note ${id}`}</w:t></w:r></w:p></w:comment>`).join("");
const EXTENDED = `<w15:commentEx w15:paraId="0C000001" w15:paraIdParent="0C000000" w15:done="1"/><w15:commentEx w15:paraId="0C000003" w15:paraIdParent="0C000003"/>`;
const RELS = `<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/x" TargetMode="External"/>`;

describe("Word import on random files", () => {
  it("makes a valid document with its comments on text, or refuses the file", () => {
    fc.assert(
      fc.property(fc.array(block, { maxLength: 8 }), (blocks) => {
        const bytes = wordPackage({ body: blocks.join(""), styles: STYLES, numbering: NUMBERING, comments: COMMENTS, commentsExtended: EXTENDED, documentRels: RELS });
        const parsed = fromDocx(bytes);
        parsed.doc.check();
        for (const c of parsed.comments) {
          expect(c.from).toBeGreaterThanOrEqual(0);
          expect(c.to).toBeLessThanOrEqual(parsed.doc.content.size);
          expect(c.to).toBeGreaterThan(c.from);
          expect(c.messages.length).toBeGreaterThan(0);
        }
        const doc = A.change(A.init<WriterDocument>(), (d) => {
          initDocument(d, "", 0);
          applyDocxImport(d, parsed, "fuzz");
        });
        for (const t of anchoredThreads(doc)) expect(t.range).not.toBeNull();
      }),
      { seed: Number(process.env.DOCX_SEED ?? 20261204), numRuns: Number(process.env.DOCX_RUNS ?? 120) },
    );
  });

  it("refuses damaged packages with a message, never another exception", () => {
    const whole = wordPackage({ body: '<w:p><w:r><w:t>Hello, whale.</w:t></w:r></w:p><w:p><w:commentRangeStart w:id="0"/><w:r><w:t>Note</w:t></w:r><w:commentRangeEnd w:id="0"/></w:p>', comments: COMMENTS });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(whole.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(whole.length), (flips, cut) => {
        const bytes = whole.slice(0, Math.max(cut, 1));
        for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
        try {
          fromDocx(bytes).doc.check();
        } catch (e) {
          expect(e).toBeInstanceOf(DocxRefused);
        }
      }),
      { seed: Number(process.env.DOCX_SEED ?? 20261204), numRuns: Number(process.env.DOCX_RUNS ?? 500) },
    );
  });
});
