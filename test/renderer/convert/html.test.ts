// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { fromHTML, toHTMLPage } from "../../../src/renderer/src/convert/html";
import { everything } from "./sample";

describe("HTML", () => {
  it("round-trips every block and mark through a standalone page, title included", () => {
    const doc = everything();
    const page = toHTMLPage("The <Lighthouse> Keeper", doc, document);
    const back = fromHTML(page, document);
    expect(back.title).toBe("The <Lighthouse> Keeper");
    expect(back.doc.toJSON()).toEqual(doc.toJSON());
  });

  it("writes plain semantic HTML", () => {
    const page = toHTMLPage("T", everything(), document);
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain("<h2>The storm</h2>");
    expect(page).toContain("<u>underlined</u>");
    expect(page).toContain("<s>struck</s>");
    expect(page).toContain('<a href="https://example.com/a?b=c">a link</a>');
    expect(page).toContain("<hr>");
    expect(page).toContain("&lt;tags&gt; &amp; [brackets]");
    expect(page).not.toContain("contenteditable");
  });

  it("reads a <div> around paragraphs as the paragraphs (not as a block of its own)", () => {
    const { doc } = fromHTML("<div><p>one</p><div><p>two</p></div></div>", document);
    expect(doc.childCount).toBe(2);
    expect(doc.child(0).type.name).toBe("paragraph");
    expect(doc.child(1).textContent).toBe("two");
  });

  it("imports hostile HTML as inert text and structure", () => {
    const { doc, title } = fromHTML('<title>Hi</title><script>alert(1)</script><p onclick="x()">a <a href="javascript:alert(1)">link</a> <img src=x onerror=alert(1)></p><h5>deep</h5>', document);
    expect(title).toBe("Hi");
    const json = JSON.stringify(doc.toJSON());
    expect(json).not.toContain("javascript");
    expect(json).not.toContain("alert");
    expect(doc.child(0).textContent).toBe("a link");
    expect(doc.child(1).type.name).toBe("heading");
    expect(doc.child(1).attrs.level).toBe(3);
  });
});
