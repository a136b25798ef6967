/**
 * Issue 17, small things writers noticed: paragraphs that read as paragraphs, the
 * shortcuts writers reach for, a rule at the end that the next letter does not replace,
 * counts for the selection, and long titles that can be read in full.
 *
 * WRITER_SCREENSHOTS=dir saves the page there.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";

describe("small things writers noticed", () => {
  const newWriter = useWriterFixtures();

  it("spaces paragraphs, answers Ctrl+S, N, O and Enter, counts the selection and shows long titles whole", async () => {
    const f = await newWriter();
    const page = f.page;
    const editor = await f.library.newDocument();
    const longTitle = "A very long title for a chapter that goes on and on past the sidebar's edge";
    await editor.setTitle(longTitle);
    await editor.text.focus();
    await editor.type("First paragraph, one line.\nSecond paragraph.");

    // Paragraphs have space between them.
    const gap = await editor.text.evaluate((el) => {
      const [a, b] = Array.from(el.querySelectorAll(":scope > p"));
      return b!.getBoundingClientRect().top - a!.getBoundingClientRect().bottom;
    });
    expect(gap).toBeGreaterThan(8);

    // Counts for the selection.
    await editor.select("Second paragraph");
    await expect.poll(() => editor.counts()).toBe("2 of 6 words · 16 of 43 characters");

    // Ctrl+Enter at the very end draws a rule; the next letter goes after it.
    await editor.focusEnd();
    await editor.press("Control+Enter");
    await editor.type("x");
    await expect.poll(() => editor.ownText()).toBe("First paragraph, one line.\nSecond paragraph.\n\nx");
    expect(await editor.text.locator("hr").count()).toBe(1);

    // Ctrl+S: saving is automatic, and it says so.
    await editor.press("Control+s");
    await expect.poll(() => editor.saveState()).toBe("Saved — Writer saves as you type");
    await expect.poll(() => editor.saveState(), { timeout: 6000 }).toBe("Saved on this computer");

    // The long title can be read whole where the list cuts it.
    const item = f.library.sidebar.locator(".doc-title", { hasText: "A very long title" });
    expect(await item.getAttribute("title")).toBe(longTitle);
    if (process.env.WRITER_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.WRITER_SCREENSHOTS, "small-things.png") });

    // Ctrl+O opens a link; Ctrl+N makes a new document.
    await editor.press("Control+o");
    const dialog = page.getByRole("dialog", { name: "Open a shared document" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await editor.text.focus();
    await editor.press("Control+n");
    await expect.poll(() => f.library.titles()).toHaveLength(2);
    await expect.poll(() => page.locator(".title-input").inputValue()).toBe("");
  });
});
