import { afterEach, describe, expect, it } from "vitest";
import { sharedDocument, twoWritersOnARelay } from "./support/team";
import { useWriterFixtures } from "./support/fixture";
import { LibraryPage } from "./pages/LibraryPage";
import type { RunningRelay } from "../support/relay";

let relay: RunningRelay | undefined;
afterEach(async () => {
  await relay?.kill();
  relay = undefined;
});

/**
 * Issue 5, presence between two windows of one machine (two pages on one browser
 * shell, one host): each sees the other in the toolbar and its selection in the text,
 * the other's cursor stays on its words while text is typed before them, and a window
 * that goes away is gone within seconds.
 */
describe("presence", () => {
  const newWriter = useWriterFixtures();

  it("shows the other window's name, cursor and selection, keeps it on its words, and drops it when it leaves", async () => {
    const f = await newWriter();
    const first = await f.library.newDocument();
    await first.setTitle("Together");
    await first.type("The keeper climbed the stairs at dusk.");

    const page2 = await f.context.newPage();
    const library2 = new LibraryPage(page2);
    await library2.goto(f.shell.url);
    const second = await library2.open("Together");

    // Each window lists the other.
    await expect.poll(() => f.page.getByTestId("peers").locator(".peer").count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page2.getByTestId("peers").locator(".peer").count(), { timeout: 10_000 }).toBe(1);

    // The second window selects "stairs": the first draws that selection and a caret.
    await second.select("stairs");
    const remote = f.page.locator(".remote-selection");
    await expect.poll(() => remote.allInnerTexts().then((t) => t.join("")), { timeout: 10_000 }).toBe("stairs");
    await expect.poll(() => f.page.locator(".remote-caret").count()).toBe(1);

    // Text typed before it in the first window: the selection stays on the same word.
    await first.text.focus();
    await f.page.keyboard.press("Control+Home");
    await first.type("At last, ");
    const textWithoutCarets = () =>
      first.text.evaluate((el) => {
        const copy = el.cloneNode(true) as HTMLElement;
        copy.querySelectorAll(".remote-caret").forEach((c) => c.remove());
        return copy.textContent;
      });
    await expect.poll(textWithoutCarets).toBe("At last, The keeper climbed the stairs at dusk.");
    expect((await remote.allInnerTexts()).join("")).toBe("stairs");

    // And it follows when the other writer moves.
    await second.select("dusk");
    await expect.poll(() => remote.allInnerTexts().then((t) => t.join("")), { timeout: 10_000 }).toBe("dusk");

    // The second window goes away (closed, no goodbye): gone within seconds.
    await page2.close();
    await expect.poll(() => f.page.getByTestId("peers").count(), { timeout: 15_000, interval: 250 }).toBe(0);
    expect(await f.page.locator(".remote-caret").count()).toBe(0);
    expect(f.errors).toEqual([]);
  });

  it("works through a relay between two writers on two machines, with their own names and colours", async () => {
    const team = await twoWritersOnARelay(newWriter, [
      ["Ada Lovelace", "#d20f39"],
      ["Bob", "#1e66f5"],
    ]);
    relay = team.relay;
    const { ada, bob } = team;
    const { bobs } = await sharedDocument(ada, bob, "Across the water", "Two keepers, two lighthouses, one log.");

    await expect.poll(() => ada.page.getByTestId("peers").locator(".peer").allInnerTexts(), { timeout: 15_000 }).toEqual(["B"]);
    await expect.poll(() => bob.page.getByTestId("peers").locator(".peer").getAttribute("title"), { timeout: 15_000 }).toBe("Ada Lovelace");
    await bobs.select("lighthouses");
    await expect.poll(() => ada.page.locator(".remote-selection").allInnerTexts().then((t) => t.join("")), { timeout: 15_000 }).toBe("lighthouses");
    expect(await ada.page.locator(".remote-caret-label").getAttribute("data-name")).toBe("Bob");
    // Bob moves on: Ada sees his selection and caret move with him.
    await bobs.select("keepers");
    await expect.poll(() => ada.page.locator(".remote-selection").allInnerTexts().then((t) => t.join("")), { timeout: 15_000 }).toBe("keepers");
    expect(await ada.page.locator(".remote-caret").count()).toBe(1);
    expect(await ada.page.locator(".remote-caret").getAttribute("style")).toContain("rgb(30, 102, 245)");
    // WRITER_SCREENSHOTS=dir keeps what Ada sees, for the note.
    if (process.env.WRITER_SCREENSHOTS) await ada.page.screenshot({ path: `${process.env.WRITER_SCREENSHOTS}/presence.png` });
  });
});
