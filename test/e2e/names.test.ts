/**
 * Issue 17, names and people: a new writer is asked for the name others will see
 * (never the system's bare login), and a rename shows at once on the other writer's
 * screen, on the caret and in the history, without a reload.
 */
import os from "node:os";
import { afterEach, describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";
import { sharedDocument, twoWritersOnARelay } from "./support/team";
import { SettingsPage } from "./pages/SettingsPage";
import { HistoryPage } from "./pages/HistoryPage";
import type { RunningRelay } from "../support/relay";

let relay: RunningRelay | undefined;
afterEach(async () => {
  await relay?.kill();
  relay = undefined;
});

describe("names and people", () => {
  const newWriter = useWriterFixtures();

  it("asks a new writer for their name, suggesting no bare login, and keeps it", async () => {
    const f = await newWriter();
    const card = f.page.getByRole("form", { name: "Your name" });
    await card.waitFor();
    const field = card.getByRole("textbox", { name: "What name should others see?" });
    expect(await field.inputValue()).not.toBe(os.userInfo().username);
    // Writing is not blocked meanwhile.
    const editor = await f.library.newDocument();
    await editor.type("A first line.");
    await field.fill("");
    await card.getByRole("button", { name: "Save my name" }).click();
    await expect.poll(() => card.getByRole("alert").innerText()).toBe("Type the name others should see.");
    await field.fill("Ada Lovelace");
    await card.getByRole("button", { name: "Save my name" }).click();
    await card.waitFor({ state: "detached" });
    // Asked once: not again after a reload, and Settings has it.
    await f.page.reload();
    await f.page.locator(".sidebar").waitFor();
    expect(await f.page.getByRole("form", { name: "Your name" }).count()).toBe(0);
    const settings = new SettingsPage(f.page);
    await settings.open();
    expect(await settings.dialog.locator(".profile").getByRole("textbox", { name: "Name" }).inputValue()).toBe("Ada Lovelace");
  });

  it("a rename shows on the other writer's screen at once: caret, people and history", async () => {
    const team = await twoWritersOnARelay(newWriter);
    relay = team.relay;
    const { ada, bob } = team;
    const { bobs } = await sharedDocument(ada, bob, "Names", "Who wrote this?");
    await bobs.focusEnd();
    // One undo step, which the end of this test takes back (EditorPage.insert).
    await bobs.insert(" Bob did.");
    await expect.poll(() => ada.page.locator(".remote-caret-label").getAttribute("data-name"), { timeout: 15_000 }).toBe("Bob Marlowe");
    const history = new HistoryPage(ada.page);
    await history.open();
    await expect.poll(async () => (await history.sessions()).map((s) => s.split(" | ")[0]), { timeout: 10_000 }).toContain("Bob Marlowe");

    // Bob renames himself in Settings; nobody reloads.
    const settings = new SettingsPage(bob.page);
    await settings.open();
    const name = settings.dialog.locator(".profile").getByRole("textbox", { name: "Name" });
    await name.fill("Robert Marlowe");
    await name.blur();
    await settings.close();
    await expect.poll(() => ada.page.locator(".remote-caret-label").getAttribute("data-name"), { timeout: 15_000 }).toBe("Robert Marlowe");
    await expect.poll(() => ada.page.getByTestId("peers").locator(".peer").getAttribute("title"), { timeout: 15_000 }).toBe("Robert Marlowe");
    // His earlier session is credited to the name he has now.
    await expect.poll(async () => (await history.sessions()).map((s) => s.split(" | ")[0]), { timeout: 15_000 }).toContain("Robert Marlowe");
    expect((await history.sessions()).some((s) => s.startsWith("Bob Marlowe"))).toBe(false);
    // The rename left Bob's editor as it was: his undo still takes back what he typed before it.
    await bobs.focusEnd();
    await bobs.press("Control+z");
    await expect.poll(() => bobs.ownText(), { timeout: 10_000 }).toBe("Who wrote this?");
  });
});
