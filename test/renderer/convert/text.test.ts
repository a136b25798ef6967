import { describe, expect, it } from "vitest";
import { fromPlainText, toPlainText } from "../../../src/shared/convert/text";
import { everything } from "./sample";

describe("plain text", () => {
  it("writes blocks apart, lists as lines, formatting dropped", () => {
    const text = toPlainText(everything());
    expect(text).toContain("Chapter one\n\nThe storm\n\nNight\n\n");
    expect(text).toContain("Plain, bold, italic, underlined, struck, code(), a link and all at once.");
    expect(text).toContain("A line\nand the next");
    expect(text).toContain("- first\n- second\n  - nested");
    expect(text).toContain("1. one\n2. two");
    expect(text).toContain("- [ ] to do\n- [x] done");
  });

  it("reads paragraphs between blank lines, keeping line breaks", () => {
    const doc = fromPlainText("First line\nsecond line\r\n\r\n\n  \nNext paragraph.\n");
    expect(doc.childCount).toBe(2);
    expect(doc.child(0).childCount).toBe(3);
    expect(toPlainText(doc)).toBe("First line\nsecond line\n\nNext paragraph.\n");
  });
});
