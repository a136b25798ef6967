import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";

/** Issue 5: export a document in every format and import it again as a new document. */
describe("export and import in the browser shell", () => {
  const newWriter = useWriterFixtures();

  it("exports Markdown, HTML, plain text and a backup, and imports each back as a new document", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("Logbook: night 41");
    await editor.type("## The storm\n");
    await editor.type("The lamp burned ");
    await editor.press("Control+b");
    await editor.type("all night");
    await editor.press("Control+b");
    await editor.type(" and Marta kept ");
    await editor.press("Control+u");
    await editor.type("the log");
    await editor.press("Control+u");
    await editor.type(".\n");
    await editor.type("* brass key\nmatches\n\n");
    await editor.type("[ ] mend the window\n\n");
    await editor.type("> the sea reads everything");
    await expect.poll(() => editor.saveState()).toBe("Saved on this computer");
    const original = await editor.html();

    const md = await editor.export("Export as Markdown");
    expect(md.name).toBe("Logbook night 41.md");
    const markdown = md.bytes.toString("utf8");
    expect(markdown).toContain("# Logbook: night 41\n\n## The storm\n\nThe lamp burned **all night** and Marta kept <u>the log</u>.");
    expect(markdown).toContain("* brass key\n* matches");
    expect(markdown).toContain("- [ ] mend the window");
    expect(markdown).toContain("> the sea reads everything");

    const html = await editor.export("Export as HTML");
    expect(html.name).toBe("Logbook night 41.html");
    expect(html.bytes.toString("utf8")).toContain("<strong>all night</strong>");

    const text = await editor.export("Export as plain text");
    expect(text.bytes.toString("utf8")).toContain("Logbook: night 41\n\nThe storm\n\nThe lamp burned all night and Marta kept the log.\n\n- brass key\n- matches");

    const backup = await editor.export("Download a backup (with history)");
    expect(backup.name).toBe("Logbook night 41.automerge");

    // Each comes back as a new document with the same title and the same text.
    for (const file of [md, html]) {
      const imported = await f.library.importFile(file.name, file.bytes);
      await expect.poll(() => imported.title.inputValue()).toBe("Logbook: night 41");
      await expect.poll(() => imported.html()).toBe(original);
    }
    // The backup is of a document the library has: kept both, the copy named with its day.
    const before = await f.library.openDocument();
    await f.library.importKnownBackup(backup.name, backup.bytes, "Keep both");
    await f.page.locator(`.editor-mount[data-ready=true]:not([data-document="${before}"])`).waitFor();
    await expect.poll(() => editor.title.inputValue()).toMatch(/^Logbook: night 41 \(imported \d{1,2} [A-Z][a-z]{2} \d{4}\)$/);
    await expect.poll(() => editor.html()).toBe(original);
    const fromText = await f.library.importFile(text.name, text.bytes);
    await expect.poll(() => fromText.text.innerText()).toContain("The lamp burned all night and Marta kept the log.");
    expect(await f.library.titles()).toHaveLength(5);

    // Not a backup, not a format: a clear error, and nothing new in the library.
    await f.library.page.getByTestId("import-file").setInputFiles({ name: "broken.automerge", mimeType: "application/octet-stream", buffer: Buffer.from("not a document") });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/not a Writer backup/);
    await f.library.page.getByTestId("import-file").setInputFiles({ name: "picture.png", mimeType: "image/png", buffer: Buffer.from([0x89, 0x50]) });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/Writer imports Word \(\.docx\), Markdown/);
    expect(await f.library.titles()).toHaveLength(5);
    // Not text under a text name (issue 17): refused, saying what it is; nothing created.
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(20_000)]);
    await f.library.page.getByTestId("import-file").setInputFiles({ name: "notes.md", mimeType: "text/markdown", buffer: png });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/“notes\.md” is a PNG image, not text\..*Nothing was imported\./);
    await f.library.page.getByTestId("import-file").setInputFiles({ name: "random.txt", mimeType: "text/plain", buffer: randomBytes(20_000) });
    await expect.poll(() => f.page.locator(".notice").first().innerText()).toMatch(/“random\.txt” is not UTF-8 text .*Nothing was imported\./);
    expect(await f.library.titles()).toHaveLength(5);
    // The large-body path takes backups only; every other call stays under /api's 64 KB.
    const misuse = await f.page.evaluate(async () => {
      const res = await fetch("/api/import-backup", { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${sessionStorage.getItem("writer-shell-token") ?? ""}` }, body: JSON.stringify({ method: "search", query: "x".repeat(100_000) }) });
      return res.status;
    });
    expect(misuse).toBe(400);
    expect(f.errors).toEqual([]);
  });

  it("a backup of a document the library has: asks, then merges it in without losing what came after", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("Ship's log");
    await editor.type("Day one: fair winds.");
    await expect.poll(() => editor.saveState()).toBe("Saved on this computer");
    const backup = await editor.export("Download a backup (with history)");
    await editor.type(" Day two: fog.");
    await expect.poll(() => editor.saveState()).toBe("Saved on this computer");
    const url = await f.library.openDocument();
    // The export gave the caret back to the text: the typing went in.
    expect(await editor.text.innerText()).toBe("Day one: fair winds. Day two: fog.");

    // Cancel: nothing is imported.
    const said = await f.library.importKnownBackup(backup.name, backup.bytes, "Cancel");
    expect(said).toContain("“Ship's log.automerge” is a backup of “Ship's log”, in your library (last edited today,");
    expect(said).toContain("Keep both adds the backup beside it");
    expect(await f.library.titles()).toEqual(["Ship's log"]);

    // Merge: still one document, with the backup's history and everything typed since.
    await f.library.importKnownBackup(backup.name, backup.bytes, "Merge");
    await expect.poll(() => f.page.locator(".notice").innerText()).toContain("“Ship's log.automerge” merged into “Ship's log”.");
    expect(await f.library.openDocument()).toBe(url);
    await editor.waitReady();
    expect(await editor.text.innerText()).toBe("Day one: fair winds. Day two: fog.");
    expect(await f.library.titles()).toEqual(["Ship's log"]);
  });

  it("prints (the browser's Save as PDF) the text alone, without the app around it", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("To print");
    await editor.type("Only this goes on paper.");
    // The browser shell has no printToPDF: the menu opens the browser's print dialog.
    await f.page.evaluate(() => {
      (window as unknown as { printed: number }).printed = 0;
      window.print = () => void (window as unknown as { printed: number }).printed++;
    });
    await editor.toolbar.getByRole("button", { name: "Document actions" }).click();
    await f.page.getByRole("menuitem", { name: "Print or save as PDF…" }).click();
    expect(await f.page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
    await f.page.emulateMedia({ media: "print" });
    for (const chrome of [".sidebar", ".toolbar", ".statusbar"]) expect(await f.page.locator(chrome).isVisible()).toBe(false);
    expect(await editor.text.isVisible()).toBe(true);
    expect(await editor.title.inputValue()).toBe("To print");
  });
});
