import { describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";
import { EditorPage } from "./pages/EditorPage";

describe("writing a document in the browser shell", () => {
  const newWriter = useWriterFixtures();

  it("formats text and keeps it across a reload and a host restart", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("Harbour notes");
    await editor.type("# The harbour\n");
    await editor.type("Fog came in ");
    await editor.press("Control+b");
    await editor.type("early");
    await editor.press("Control+b");
    await editor.type(" and ");
    await editor.press("Control+i");
    await editor.type("stayed");
    await editor.press("Control+i");
    await editor.type(".\n");
    await editor.type("* ropes\nnets\n\n");
    await editor.type("1. first\nsecond\n\n");
    await editor.type("[ ] mend the sail\n\n");
    await editor.type("> quiet water\n\n");
    await editor.type("```");
    await editor.type("let tide = 'high'");
    await editor.press("Control+Enter");
    // Underline, strike and a link from the toolbar, on selected words; inline code by shortcut.
    await editor.type("one two three four then ");
    await editor.press("Control+e");
    await editor.type("code");
    await editor.select("two");
    await editor.clickTool("Underline");
    await expect.poll(() => editor.isToolActive("Underline")).toBe(true);
    await editor.select("three");
    await editor.clickTool("Strikethrough");
    await editor.select("four");
    expect(await editor.addLink("javascript:alert(1)")).toMatch(/Only web/);
    await f.page.keyboard.press("Escape");
    await editor.select("four");
    expect(await editor.addLink("example.org/docs")).toBeNull();

    const expected =
      "<h1>The harbour</h1>" +
      "<p>Fog came in <strong>early</strong> and <em>stayed</em>.</p>" +
      "<ul><li><p>ropes</p></li><li><p>nets</p></li></ul>" +
      "<ol><li><p>first</p></li><li><p>second</p></li></ol>" +
      '<ul data-type="task-list"><li class="task-item" data-checked="false"><input type="checkbox" contenteditable="false" aria-label="Done"><div class="task-content"><p>mend the sail</p></div></li></ul>' +
      "<blockquote><p>quiet water</p></blockquote>" +
      "<pre><code>let tide = 'high'</code></pre>" +
      '<p>one <u>two</u> <s>three</s> <a href="https://example.org/docs" rel="noopener noreferrer nofollow" target="_blank">four</a> then <code>code</code></p>';
    await expect.poll(() => editor.html()).toBe(expected);
    // "four" is still selected: the counts say how much of the text that is.
    await expect.poll(() => editor.counts()).toBe("1 of 26 words · 4 of 129 characters");
    // The host confirms the document's current heads are on its disk.
    await expect.poll(() => editor.saveState()).toBe("Saved on this computer");

    // A reload is a new renderer: everything comes back from the host.
    await f.page.reload();
    const reloaded = new EditorPage(f.page);
    await reloaded.waitReady();
    expect(await reloaded.title.inputValue()).toBe("Harbour notes");
    expect(await reloaded.html()).toBe(expected);

    // A clean host restart (SIGTERM: flush, exit 0), then a fresh page: the library reopens the document.
    expect(await f.restartShell("stop")).toBe(0);
    await f.newPage();
    const reopened = new EditorPage(f.page);
    await reopened.waitReady();
    expect(await reopened.title.inputValue()).toBe("Harbour notes");
    expect(await reopened.html()).toBe(expected);
    expect(await f.library.titles()).toEqual(["Harbour notes"]);
  });

  it("turns several selected paragraphs into one list item each, and keeps them so", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("Packing");
    await editor.type("harpoon\nrope\noars");
    for (const [tool, tag] of [["Bulleted list", "ul"], ["Numbered list", "ol"]] as const) {
      await editor.selectAllText();
      await editor.clickTool(tool);
      const expected = `<${tag}><li><p>harpoon</p></li><li><p>rope</p></li><li><p>oars</p></li></${tag}>`;
      await expect.poll(() => editor.html()).toBe(expected);
      await f.page.reload();
      await editor.waitReady();
      expect(await editor.html()).toBe(expected);
      // Toggle it off again: back to three paragraphs.
      await editor.selectAllText();
      await editor.clickTool(tool);
      await expect.poll(() => editor.html()).toBe("<p>harpoon</p><p>rope</p><p>oars</p>");
    }
  });
});
