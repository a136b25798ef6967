// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { TypingOnCache } from "../../src/renderer/src/openingPage";

/** The opening page draws the cached spans as the editor will: formatting and open suggestions. */
describe("the opening page", () => {
  it("strikes through text suggested for deletion and underlines suggested insertions, as the editor does", () => {
    const value = JSON.stringify({ id: "s1", author: "Ada", writer: null, at: 1 });
    const spans = [
      { type: "block", value: { type: "paragraph", parents: [], attrs: {} } },
      { type: "text", value: "The tide " },
      { type: "text", value: "came", marks: { "suggest-delete": value } },
      { type: "text", value: "comes", marks: { "suggest-insert": value, strong: true } },
      { type: "text", value: " in." },
    ];
    const page = new TypingOnCache(spans, []);
    expect(page.element.querySelector("del.suggestion-delete")?.textContent).toBe("came");
    expect(page.element.querySelector("ins.suggestion-insert")?.textContent).toBe("comes");
    expect(page.element.querySelector("ins.suggestion-insert strong, strong ins.suggestion-insert")?.textContent).toBe("comes");
    expect(page.element.textContent).toBe("The tide camecomes in.");
  });
});
