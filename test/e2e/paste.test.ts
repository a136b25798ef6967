import { describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";
import { EditorPage } from "./pages/EditorPage";

/** How a horizontal rule renders (see the schema for why it is a block with a hidden hole). */
const RULE = '<div class="rule" contenteditable="false"><hr><span class="rule-content"></span></div>';

describe("pasting and structure", () => {
  const newWriter = useWriterFixtures();

  it("keeps the structure of pasted HTML and plain text, and drops unsafe links", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("Pasted");
    await editor.text.focus();
    await editor.paste({
      html:
        "<h2>From the web</h2><p>Some <b>bold</b>, <i>italic</i>, <u>under</u>, <del>gone</del> and <code>x()</code>.</p>" +
        '<p><a href="javascript:alert(1)">evil</a> and <a href="https://example.com/">good</a></p>' +
        "<ol><li>one</li><li>two</li></ol><blockquote><p>said</p></blockquote><hr><pre>a\n  b</pre><h5>deep</h5>",
      text: "fallback",
    });
    await editor.focusEnd();
    await editor.press("Enter");
    await editor.paste({ text: "First line\nSecond line\n\nNew paragraph" });
    const expected =
      "<h2>From the web</h2><p>Some <strong>bold</strong>, <em>italic</em>, <u>under</u>, <s>gone</s> and <code>x()</code>.</p>" +
      '<p>evil and <a href="https://example.com/" rel="noopener noreferrer nofollow" target="_blank">good</a></p>' +
      `<ol><li><p>one</p></li><li><p>two</p></li></ol><blockquote><p>said</p></blockquote>${RULE}<pre><code>a\n  b</code></pre><h3>deep</h3>` +
      // Blank lines in plain text separate paragraphs; they do not become empty ones.
      "<p>First line</p><p>Second line</p><p>New paragraph</p>";
    await expect.poll(() => editor.html()).toBe(expected);

    // A table and an image (issue 17): rows of text, and the writer is told what was left out.
    await editor.focusEnd();
    await editor.press("Enter");
    await editor.paste({ html: '<table><tr><td>cell A</td><td>cell B</td></tr><tr><td>1</td><td>2</td></tr></table><p>After <img src="https://example.com/x.png" alt="x"> it</p>' });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/Pasted without an image and with a table as rows of text: Writer cannot hold images or tables yet\./);
    await expect.poll(() => editor.ownText()).toMatch(/cell A \| cell B\n1 \| 2\nAfter\s+it$/);
    // An image alone is not pasted, and that is said.
    await editor.text.evaluate((el) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], "shot.png", { type: "image/png" }));
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/The image was not pasted: Writer cannot hold images yet\./);
    const expectedAll = await editor.html();

    // What was pasted went through Automerge: a fresh page shows the same document.
    await f.page.reload();
    const again = new EditorPage(f.page);
    await again.waitReady();
    expect(await again.html()).toBe(expectedAll);
  });

  it("turns Markdown-style shortcuts into structure, and ticks tasks", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("Shortcuts");
    await editor.type("## Second level\n### Third level\nabove\n---");
    await editor.type("below\n[x] done already\nstill to do");
    await editor.setTextStyle("Heading 1");
    const expected =
      `<h2>Second level</h2><h3>Third level</h3><p>above</p>${RULE}<p>below</p>` +
      '<ul data-type="task-list"><li class="task-item" data-checked="true"><input type="checkbox" contenteditable="false" aria-label="Done"><div class="task-content"><p>done already</p></div></li>' +
      // A task item's first block must be a paragraph, so the heading style is refused there.
      '<li class="task-item" data-checked="false"><input type="checkbox" contenteditable="false" aria-label="Done"><div class="task-content"><p>still to do</p></div></li></ul>';
    await expect.poll(() => editor.html()).toBe(expected);
    // Tick the second task with the mouse.
    await f.page.getByRole("checkbox", { name: "Done" }).nth(1).click();
    await expect.poll(async () => (await editor.html()).match(/data-checked="true"/g)?.length).toBe(2);
    await f.page.reload();
    const again = new EditorPage(f.page);
    await again.waitReady();
    expect((await again.html()).match(/data-checked="true"/g)?.length).toBe(2);
    expect(await again.html()).toBe(expected.replace('data-checked="false"', 'data-checked="true"').replace('"Done"></input>', '"Done">'));
  });
});
