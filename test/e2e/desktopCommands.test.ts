/**
 * What the desktop app's menu and writer:// links ask of the page, given here
 * as the page takes them in the browser shell (a "writer:command" event; in Electron the
 * preload hands the same payloads over). The menu's template and the link parser are
 * unit-tested in test/unit/main.
 *
 * WRITER_SCREENSHOTS=dir saves the shortcuts dialog there.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { useWriterFixtures } from "./support/fixture";
import { quietPeriod } from "../support/wait";

const command = (page: Page, detail: unknown) => page.evaluate((d) => window.dispatchEvent(new CustomEvent("writer:command", { detail: d })), detail);

describe("the desktop menu's commands and writer:// links", () => {
  const newWriter = useWriterFixtures();

  it("runs each menu item in the page, opens a linked document, and ignores what is not a command", async () => {
    const f = await newWriter();
    const page = f.page;
    const editor = await f.library.newDocument();
    await editor.setTitle("Harbour log");
    await editor.text.focus();
    await editor.type("The tide came in at six.");
    const first = (await f.library.openDocument())!;

    // Help ▸ Keyboard Shortcuts.
    await command(page, { command: "shortcuts" });
    const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await shortcuts.waitFor();
    expect(await shortcuts.innerText()).toContain("Find and replace");
    if (process.env.WRITER_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.WRITER_SCREENSHOTS, "shortcuts.png") });
    await shortcuts.getByRole("button", { name: "Close" }).click();

    // Edit ▸ Find… and Replace….
    await command(page, { command: "replace" });
    const find = page.getByRole("search", { name: "Find in document" });
    await find.waitFor();
    await find.getByRole("textbox", { name: "Find" }).press("Escape");

    // File ▸ Export ▸ Markdown….
    const [download] = await Promise.all([page.waitForEvent("download"), command(page, { command: "export-markdown" })]);
    expect(download.suggestedFilename()).toBe("Harbour log.md");
    // File ▸ Export ▸ Word (.docx)….
    const [word] = await Promise.all([page.waitForEvent("download"), command(page, { command: "export-docx" })]);
    expect(word.suggestedFilename()).toBe("Harbour log.docx");

    // File ▸ Open a Link….
    await command(page, { command: "open-link" });
    const openLink = page.getByRole("dialog", { name: "Open a shared document" });
    await openLink.waitFor();
    await openLink.getByRole("button", { name: "Cancel" }).click();

    // File ▸ New Document; then a writer:// link to the first one brings it back.
    await command(page, { command: "new-document" });
    await expect.poll(() => f.library.titles()).toHaveLength(2);
    await expect.poll(() => page.locator(".title-input").inputValue()).toBe("");
    await command(page, { command: "open-document", url: first });
    await expect.poll(() => page.locator(".title-input").inputValue()).toBe("Harbour log");

    // A backup the system opened with Writer (main read it): this one is of a document the
    // library has, so the writer is asked; "Keep both" makes a second, dated entry.
    const [backup] = await Promise.all([page.waitForEvent("download"), command(page, { command: "export-backup" })]);
    const bytes = [...(await fs.readFile((await backup.path())!))];
    await page.evaluate(({ name, bytes }) => window.dispatchEvent(new CustomEvent("writer:command", { detail: { command: "open-file", name, bytes: new Uint8Array(bytes) } })), { name: "Harbour log.automerge", bytes });
    const known = page.getByRole("dialog", { name: /already/i });
    await known.waitFor();
    await known.getByRole("button", { name: "Keep both" }).click();
    await expect.poll(() => f.library.titles()).toHaveLength(3);
    expect((await f.library.titles()).some((t) => t.startsWith("Harbour log (imported"))).toBe(true);

    // Anything else is not acted on: no dialog, no document.
    for (const bad of [{ command: "delete-everything" }, { command: "open-document", url: "automerge:notarealid" }, "shortcuts", { command: "shortcuts", extra: true }, { command: "open-file", name: "../x.automerge", bytes: [1] }]) await command(page, bad);
    await quietPeriod(300, "a command taken by mistake opens its dialog or document within a frame or two");
    expect(await page.getByRole("dialog").count()).toBe(0);
    expect(await f.library.titles()).toHaveLength(3);
  });
});
