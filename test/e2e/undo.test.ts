/**
 * Issue 5, in two Chromium pages through two browser shells (two hosts) and a real
 * relay: personal undo takes back only the writer's own changes, never a
 * collaborator's, also when the collaborator's edits landed in between (in the same
 * paragraph, before the writer's text); then the collaborator exports the document and
 * the writer imports the files, history included.
 */
import { afterEach, describe, expect, it } from "vitest";
import { sharedDocument, twoWritersOnARelay } from "./support/team";
import { useWriterFixtures } from "./support/fixture";
import { HistoryPage } from "./pages/HistoryPage";
import type { RunningRelay } from "../support/relay";
import { quietPeriod } from "../support/wait";

const writer = useWriterFixtures();
let relay: RunningRelay | undefined;

afterEach(async () => {
  await relay?.kill();
  relay = undefined;
});

describe("personal undo, export and import between two writers", () => {
  it("undoes only the writer's own typing, around a collaborator's edits, and the undo syncs; the other's export imports back", async () => {
    const team = await twoWritersOnARelay(writer);
    relay = team.relay;
    const { ada, bob } = team;

    const { editor, bobs } = await sharedDocument(ada, bob, "Shared notes", "Ada wrote this.");

    // Bob writes before Ada's words while Ada keeps typing after them.
    await bobs.text.focus();
    await bob.page.keyboard.press("Control+Home");
    await bobs.type("Bob first. ");
    await expect.poll(() => editor.ownText(), { timeout: 10_000 }).toBe("Bob first. Ada wrote this.");
    await quietPeriod(700, "a new undo step: ProseMirror's history groups changes made within 500 ms (newGroupDelay)");
    await editor.focusEnd();
    // One undo step whatever the load (EditorPage.insert): the undos below count them.
    await editor.insert(" And more.");
    // Bob appends once Ada's words have reached him (typed at once, both would land at
    // the same spot, in either order: a fair merge, but not this test's question).
    await expect.poll(() => bobs.ownText(), { timeout: 10_000 }).toContain("And more.");
    await bobs.focusEnd();
    await bobs.type(" Bob last.");
    await expect.poll(() => editor.ownText(), { timeout: 10_000 }).toBe("Bob first. Ada wrote this. And more. Bob last.");

    await editor.text.focus();
    await ada.page.keyboard.press("Control+z");
    await expect.poll(() => editor.ownText()).toBe("Bob first. Ada wrote this. Bob last.");
    await ada.page.keyboard.press("Control+z");
    await expect.poll(() => editor.ownText()).toBe("Bob first.  Bob last.");
    // Nothing of Bob's is undoable here: a third undo changes nothing.
    await ada.page.keyboard.press("Control+z");
    await quietPeriod(300, "a third undo has nothing of Ada's to take back: the text must not change meanwhile");
    expect(await editor.ownText()).toBe("Bob first.  Bob last.");
    await expect.poll(() => bobs.ownText(), { timeout: 10_000 }).toBe("Bob first.  Bob last.");

    // Redo brings Ada's words back where they were, in both pages.
    await ada.page.keyboard.press("Control+Shift+z");
    await ada.page.keyboard.press("Control+Shift+z");
    const final = "Bob first. Ada wrote this. And more. Bob last.";
    await expect.poll(() => editor.ownText()).toBe(final);
    await expect.poll(() => bobs.ownText(), { timeout: 10_000 }).toBe(final);

    // Bob exports; Ada imports his files as new documents: the same text, and the
    // backup with its history (both writers' sessions).
    const markdown = await bobs.export("Export as Markdown");
    const backup = await bobs.export("Download a backup (with history)");
    const fromMarkdown = await ada.library.importFile(markdown.name, markdown.bytes);
    await expect.poll(() => fromMarkdown.ownText()).toBe(final);
    // Ada has that document already (it is shared): she keeps both.
    const before = await ada.library.openDocument();
    await ada.library.importKnownBackup(backup.name, backup.bytes, "Keep both");
    await ada.page.locator(`.editor-mount[data-ready=true]:not([data-document="${before}"])`).waitFor();
    const fromBackup = fromMarkdown;
    await expect.poll(() => fromBackup.ownText()).toBe(final);
    expect(await fromBackup.title.inputValue()).toMatch(/^Shared notes \(imported .+\)$/);
    const history = new HistoryPage(ada.page);
    await history.open();
    await expect.poll(async () => new Set((await history.sessions()).map((s) => s.split(" | ")[0]))).toEqual(new Set(["Ada Lovelace", "Bob Marlowe", "Document created"]));
  });
});
