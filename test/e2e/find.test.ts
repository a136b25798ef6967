import { describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";

/** Issue 5: find and replace in the open document. */
describe("find and replace", () => {
  const newWriter = useWriterFixtures();

  it("finds as the writer types, walks the matches, replaces one and all, and undoes", async () => {
    const f = await newWriter();
    const editor = await f.library.newDocument();
    await editor.setTitle("Lamps");
    await editor.type("The lamp was lit. Another Lamp burned.\nA third lamp, lampblack on the glass.");
    const page = f.page;
    const status = page.getByTestId("find-status");

    await page.keyboard.press("Control+f");
    const find = page.getByRole("textbox", { name: "Find" });
    await find.fill("lamp");
    await expect.poll(() => status.innerText()).toBe("4 matches");
    await expect.poll(() => page.locator(".ProseMirror-search-match").count()).toBe(4);
    await find.press("Enter");
    await expect.poll(() => status.innerText()).toBe("1 of 4 matches");
    await find.press("Enter");
    await find.press("Shift+Enter");
    await expect.poll(() => status.innerText()).toBe("1 of 4 matches");

    await page.getByRole("button", { name: "Match case" }).click();
    await expect.poll(() => status.innerText()).toBe("1 of 3 matches");
    await find.fill("Lamp");
    await expect.poll(() => status.innerText()).toBe("1 match");

    // Replace: one (the first click replaces; issue 17), then all (each an ordinary edit).
    await page.getByRole("button", { name: "Replace…" }).click();
    await page.getByRole("textbox", { name: "Replace with" }).fill("Lantern");
    await page.getByRole("button", { name: "Replace", exact: true }).click();
    await expect.poll(() => editor.text.innerText()).toContain("Another Lantern burned.");
    await expect.poll(() => status.innerText()).toBe("No matches");
    await page.getByRole("button", { name: "Match case" }).click();
    await find.fill("lamp");
    await expect.poll(() => status.innerText()).toBe("3 matches");
    // Whole words: not the "lamp" in "lampblack".
    await page.getByRole("button", { name: "Whole words" }).click();
    await expect.poll(() => status.innerText()).toBe("2 matches");
    await page.getByRole("textbox", { name: "Replace with" }).fill("candle");
    await page.getByRole("button", { name: "Replace all" }).click();
    await expect.poll(() => editor.text.innerText()).toBe("The candle was lit. Another Lantern burned.\n\nA third candle, lampblack on the glass.");
    await expect.poll(() => status.innerText()).toBe("No matches");
    // A regular expression, with a group in the replacement; a broken one is said so.
    await page.getByRole("button", { name: "Whole words" }).click();
    await page.getByRole("button", { name: "Regular expression" }).click();
    await find.fill("lamp(");
    await expect.poll(() => status.innerText()).toBe("Not a valid pattern");
    await find.fill("lamp(\\w+)");
    await expect.poll(() => status.innerText()).toBe("1 match");
    await page.getByRole("textbox", { name: "Replace with" }).fill("ink$1");
    await page.getByRole("button", { name: "Replace all" }).click();
    await expect.poll(() => editor.text.innerText()).toBe("The candle was lit. Another Lantern burned.\n\nA third candle, inkblack on the glass.");

    // Escape closes and clears the highlights; one undo takes back the whole "Replace all".
    await find.press("Escape");
    await expect.poll(() => page.getByRole("search", { name: "Find in document" }).count()).toBe(0);
    expect(await page.locator(".ProseMirror-search-match").count()).toBe(0);
    await page.keyboard.press("Control+z");
    await expect.poll(() => editor.text.innerText()).toBe("The candle was lit. Another Lantern burned.\n\nA third candle, lampblack on the glass.");

    // The replacements reached the host like any edit: after a reload they are there.
    await expect.poll(() => editor.saveState()).toBe("Saved on this computer");
    await page.reload();
    const again = await f.library.open("Lamps");
    await expect.poll(() => again.text.innerText()).toBe("The candle was lit. Another Lantern burned.\n\nA third candle, lampblack on the glass.");
    expect(f.errors).toEqual([]);
  });
});
