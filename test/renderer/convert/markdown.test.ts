import { describe, expect, it } from "vitest";
import { fromMarkdown, toMarkdown } from "../../../src/shared/convert/markdown";
import { everything } from "./sample";

describe("Markdown", () => {
  it("round-trips every block and mark", () => {
    const doc = everything();
    const md = toMarkdown(doc);
    const back = fromMarkdown(md);
    expect(back.toJSON()).toEqual(doc.toJSON());
    expect(toMarkdown(back)).toBe(md);
  });

  it("writes what a Markdown reader expects", () => {
    const md = toMarkdown(everything());
    expect(md).toContain("# Chapter one\n");
    expect(md).toContain("**bold**");
    expect(md).toContain("<u>underlined</u>");
    expect(md).toContain("~~struck~~");
    expect(md).toContain("- [ ] to do\n- [x] done");
    expect(md).toContain("[a link](https://example.com/a?b=c)");
  });
});

describe("Markdown from elsewhere", () => {
  it("keeps raw HTML and unsafe links as text, never as markup", () => {
    const doc = fromMarkdown('<script>alert(1)</script>\n\nA [link](javascript:alert(1)) and <b onclick="x">b</b>.\n');
    const json = JSON.stringify(doc.toJSON());
    expect(json).not.toContain('"link"');
    expect(doc.child(0).textContent).toBe("<script>alert(1)</script>");
    expect(doc.child(1).textContent).toBe('A [link](javascript:alert(1)) and <b onclick="x">b</b>.');
  });

  it("reads common Markdown: deep headings, * lists, soft line breaks, images by their absence", () => {
    const doc = fromMarkdown("#### Deep\n\n* a\n* b\n\none\ntwo ![alt](x.png)\n");
    expect(doc.child(0).attrs.level).toBe(3);
    expect(doc.child(1).type.name).toBe("bullet_list");
    expect(doc.child(2).textContent).toBe("one two ");
  });
});
