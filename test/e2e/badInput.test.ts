/**
 * Issue 17, bad input: every field says what is wrong with it, at the field, and
 * nothing is created from input Writer cannot use. (Binary files posing as text are
 * in importExport.test.ts.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";
import { twoWritersOnARelay } from "./support/team";
import { SettingsPage } from "./pages/SettingsPage";
import type { RunningRelay } from "../support/relay";

let relay: RunningRelay | undefined;
afterEach(async () => {
  await relay?.kill();
  relay = undefined;
});

describe("bad input", () => {
  const newWriter = useWriterFixtures();

  it("Add a relay: an empty token, a web address and a token in the address are refused at their fields; nothing is added", async () => {
    const f = await newWriter();
    const settings = new SettingsPage(f.page);
    await settings.open();
    const form = settings.dialog.getByRole("form", { name: "Add a relay" });
    const address = form.getByRole("textbox", { name: "Address" });
    const token = form.getByLabel("Token", { exact: true });
    const add = form.getByRole("button", { name: "Add relay" });

    await address.fill("wss://relay.example.org");
    await add.click();
    await expect.poll(() => form.getByRole("alert").allInnerTexts()).toEqual(["Paste the token the relay's administrator gave you."]);
    expect(await token.getAttribute("aria-invalid")).toBe("true");
    expect(await token.evaluate((el) => el === document.activeElement)).toBe(true);

    await address.fill("https://relay.example.org");
    await token.fill("two words");
    await add.click();
    await expect
      .poll(() => form.getByRole("alert").allInnerTexts())
      .toEqual(["A relay's address starts with wss:// (not https://).", "A token is one word of letters, digits and - _ . ~ + / =, with no spaces."]);

    await address.fill("wss://relay.example.org/?token=abc");
    await token.fill("abc");
    await add.click();
    await expect.poll(() => form.getByRole("alert").allInnerTexts()).toEqual(["Leave the token out of the address, and paste it under Token."]);
    expect(await settings.relays()).toEqual([]);

    // A development relay takes no token: said so, it is added.
    await address.fill("ws://127.0.0.1:9");
    await form.getByLabel("This relay takes no token (a development relay)").check();
    expect(await token.isDisabled()).toBe(true);
    await add.click();
    await expect.poll(() => settings.relays()).toEqual(["127.0.0.1"]);
    expect(await form.getByRole("alert").count()).toBe(0);
  });

  it("a link that is not one is told what is wrong with it", async () => {
    const f = await newWriter();
    await f.library.sidebar.getByRole("button", { name: "Open a link…" }).click();
    const dialog = f.page.getByRole("dialog", { name: "Open a shared document" });
    const link = dialog.getByRole("textbox", { name: "Link" });
    const open = dialog.getByRole("button", { name: "Open", exact: true });
    for (const [pasted, said] of [
      ["automerge:notarealid", "“notarealid” is not a document ID: IDs never contain “l”. Copy the link again rather than typing it."],
      ["automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXv", "This link is damaged: its check characters do not match. Copy it again from where it was shared."],
      ["https://example.org/notes", "That is a web address. A Writer link starts with “automerge:”: ask for the link from Writer’s Copy link."],
    ] as const) {
      await link.fill(pasted);
      await open.click();
      await expect.poll(() => dialog.getByRole("alert").innerText()).toBe(said);
    }
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await f.library.titles()).toEqual([]);
  });

  it("a library link pasted as a document's is recognised, and offered as the library to use", async () => {
    const team = await twoWritersOnARelay(newWriter);
    relay = team.relay;
    const { ada, bob } = team;
    const editor = await ada.library.newDocument();
    await editor.setTitle("Ada's chapter");
    await editor.type("It begins.");
    const settings = new SettingsPage(ada.page);
    await settings.open();
    const libraryLink = await settings.dialog.getByRole("textbox", { name: "Library link" }).inputValue();
    await settings.close();

    await bob.library.sidebar.getByRole("button", { name: "Open a link…" }).click();
    const dialog = bob.page.getByRole("dialog", { name: "Open a shared document" });
    await dialog.getByRole("textbox", { name: "Link" }).fill(libraryLink);
    await dialog.getByRole("button", { name: "Open", exact: true }).click();
    const pane = bob.page.getByRole("status").filter({ hasText: "This is a library link, not a document’s." });
    await pane.waitFor({ timeout: 30_000 });
    await pane.getByRole("button", { name: "Use this library on this device" }).click();
    await expect.poll(async () => (await bob.library.titles().catch(() => [])).sort(), { timeout: 30_000 }).toEqual(["Ada's chapter"]);
  });
});
