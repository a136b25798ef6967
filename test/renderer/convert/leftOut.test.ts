// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { describeLeftOut, takeOutWhatWriterCannotHold } from "../../../src/renderer/src/convert/leftOut";

function clean(html: string) {
  const template = document.createElement("template");
  template.innerHTML = html;
  const left = takeOutWhatWriterCannotHold(template.content, document);
  const div = document.createElement("div");
  div.appendChild(template.content.cloneNode(true));
  return { html: div.innerHTML, left };
}

describe("what Writer cannot hold, taken out of HTML", () => {
  it("turns a table into one paragraph per row, cells apart", () => {
    const { html, left } = clean("<p>Before</p><table><caption>Prices</caption><tr><th>cell A</th><th>cell B</th></tr><tr><td>1</td><td> 2 </td></tr></table><p>After</p>");
    expect(html).toBe("<p>Before</p><p>Prices</p><p>cell A | cell B</p><p>1 | 2</p><p>After</p>");
    expect(left).toEqual({ media: 0, tables: 1 });
  });

  it("removes images and counts them, a picture once", () => {
    const { html, left } = clean('<p>See <img src="x.png" alt="a map"> here</p><picture><source srcset="y.webp"><img src="y.png"></picture>');
    expect(html).toBe("<p>See  here</p>");
    expect(left).toEqual({ media: 2, tables: 0 });
  });

  it("says what was left out", () => {
    expect(describeLeftOut({ media: 1, tables: 0 }, "Pasted")).toBe("Pasted without an image: Writer cannot hold images yet.");
    expect(describeLeftOut({ media: 2, tables: 1 }, "Imported")).toBe("Imported without 2 images and with a table as rows of text: Writer cannot hold images or tables yet.");
    expect(describeLeftOut({ media: 0, tables: 0 }, "Pasted")).toBeNull();
  });
});
