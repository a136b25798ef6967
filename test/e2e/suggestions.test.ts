/**
 * Suggestions in Chromium through a real relay: Ada switches to Suggesting, deletes
 * letters with Backspace, replaces a word, deletes some words and types a sentence; Bob sees each as her suggestion, with her
 * name, and accepts one from the list; both end with the same text; Bob undoes his
 * accept and both see the suggestion again.
 *
 * WRITER_SCREENSHOTS=dir saves Suggesting mode and the list of suggestions there.
 */
import { afterEach, describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";
import { screenshot } from "./support/screenshot";
import { sharedDocument, twoWritersOnARelay } from "./support/team";
import { SuggestionsPage } from "./pages/SuggestionsPage";
import type { RunningRelay } from "../support/relay";
import { quietPeriod } from "../support/wait";

let relay: RunningRelay | undefined;
afterEach(async () => {
  await relay?.kill();
  relay = undefined;
});

describe("suggestions", () => {
  const newWriter = useWriterFixtures();

  it("Ada suggests, Bob sees her suggestions, accepts one, and undoes his accept; both see the same", async () => {
    const team = await twoWritersOnARelay(newWriter);
    relay = team.relay;
    const { ada, bob } = team;
    const { editor, bobs } = await sharedDocument(ada, bob, "The keeper", "The keeper climbed the stairs at dusk.");
    const adaS = new SuggestionsPage(ada.page);
    const bobS = new SuggestionsPage(bob.page);

    await adaS.mode("Suggesting");
    expect(await adaS.currentMode()).toBe("Suggesting");
    // Only Ada's window suggests.
    expect(await bobS.currentMode()).toBe("Editing");

    // Backspace, as the browser does it: each press strikes the letter before the caret
    // and moves left past it.
    // (The caret is placed, not moved with an arrow key: a key pressed before the editor
    // has read the arrow's move would act on the selection before it.)
    await editor.caretAfter("keeper");
    await editor.press("Backspace");
    await editor.press("Backspace");
    await editor.select("stairs");
    await editor.type("steps");
    await editor.select(" at dusk");
    await editor.press("Backspace");
    await editor.focusEnd();
    await editor.type(" Then he rested.");
    await expect.poll(() => adaS.inserted()).toEqual(["steps", " Then he rested."]);
    expect(await adaS.deleted()).toEqual(["er", "stairs", " at dusk"]);
    // Struck text stays in view until someone decides.
    expect(await editor.ownText()).toBe("The keeper climbed the stairssteps at dusk. Then he rested.");
    // Ada's typing and deleting stayed hers: nothing was removed from the document.
    await screenshot(ada.page, "suggestions-suggesting-mode.png");

    // Bob sees them, as Ada's.
    await expect.poll(() => bobS.inserted(), { timeout: 15_000 }).toEqual(["steps", " Then he rested."]);
    expect(await bobS.deleted()).toEqual(["er", "stairs", " at dusk"]);
    for (const title of await bobS.titles()) expect(title).toMatch(/^Suggested (insertion|deletion) by Ada Lovelace, /);
    await bobS.openList();
    expect(await bobS.listed()).toEqual(["Ada Lovelace: Delete er", "Ada Lovelace: Replace stairs with steps", "Ada Lovelace: Delete at dusk", "Ada Lovelace: Add Then he rested."]);
    await screenshot(bob.page, "suggestions-list.png");
    // Choosing one in the list selects its text.
    await bobS.item("Delete at dusk").locator(".suggestions-item-body").click();
    await expect.poll(() => bob.page.evaluate(() => window.getSelection()?.toString())).toBe(" at dusk");

    // Bob accepts the replacement: both see "steps" and no "stairs".
    await bobS.accept("Replace");
    const accepted = "The keeper climbed the steps at dusk. Then he rested.";
    await expect.poll(() => bobs.ownText()).toBe(accepted);
    await expect.poll(() => editor.ownText(), { timeout: 15_000 }).toBe(accepted);
    expect(await adaS.deleted()).toEqual(["er", " at dusk"]);
    expect(await bobS.listed()).toEqual(["Ada Lovelace: Delete er", "Ada Lovelace: Delete at dusk", "Ada Lovelace: Add Then he rested."]);

    // Bob takes his accept back: the suggestion is there again, on both sides.
    await bobs.text.focus();
    await bobs.press("Control+z");
    const suggested = "The keeper climbed the stairssteps at dusk. Then he rested.";
    await expect.poll(() => bobs.ownText()).toBe(suggested);
    await expect.poll(() => editor.ownText(), { timeout: 15_000 }).toBe(suggested);
    await expect.poll(() => adaS.deleted()).toEqual(["er", "stairs", " at dusk"]);
    expect(await bobS.deleted()).toEqual(["er", "stairs", " at dusk"]);
    expect(await bobS.inserted()).toEqual(["steps", " Then he rested."]);
    expect(await bobS.listed()).toEqual(["Ada Lovelace: Delete er", "Ada Lovelace: Replace stairs with steps", "Ada Lovelace: Delete at dusk", "Ada Lovelace: Add Then he rested."]);
    // Ctrl+Alt+Shift+S switches Bob's window to Suggesting and back.
    await bobs.press("Control+Alt+Shift+S");
    expect(await bobS.currentMode()).toBe("Suggesting");
    await bobs.press("Control+Alt+Shift+S");
    expect(await bobS.currentMode()).toBe("Editing");
    // Bob suggests too: the list offers each writer's all at once.
    await bobS.mode("Suggesting");
    await bobs.select("climbed");
    await bobs.type("went up");
    await expect.poll(() => bobS.listed()).toContain("Bob Marlowe: Replace climbed with went up");
    await screenshot(bob.page, "suggestions-two-writers.png");
    // Past undo's grouping of quick edits: the accept is an undo step of its own.
    await quietPeriod(600, "past prosemirror-history's newGroupDelay (500 ms), so the accept is an undo step of its own");
    await bob.page.getByRole("button", { name: "Accept all of Ada Lovelace's suggestions" }).click();
    await expect.poll(() => bobS.listed()).toEqual(["Bob Marlowe: Replace climbed with went up"]);
    await expect.poll(() => editor.ownText(), { timeout: 15_000 }).toBe("The keep climbedwent up the steps. Then he rested.");
    await bobs.press("Control+z");
    await expect.poll(() => bobS.listed()).toHaveLength(5);
    // The word count counts the text as if the suggestions were accepted.
    await expect.poll(() => editor.counts()).toMatch(/^9 words/);
    expect(ada.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });
});
