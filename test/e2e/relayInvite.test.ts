/**
 * One-paste invites: the relay's administrator runs `relay token invite`, the
 * writer pastes the one link it prints into Settings, Add a relay, and the relay is
 * added and syncs. The token in the link shows in no field, no title, no log.
 * WRITER_SCREENSHOTS=dir saves the form after the paste there.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { Locator, Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";
import { SettingsPage } from "./pages/SettingsPage";
import { programArgs } from "../support/programs";
import { PROJECT_ROOT, startRelay, tempDir, type RunningRelay } from "../support/relay";

const run = promisify(execFile);
const writer = useWriterFixtures();
let relay: RunningRelay | undefined;

afterEach(async () => {
  await relay?.kill();
  relay = undefined;
});

/** Pastes `text` into `field` through the clipboard, as a writer does with Ctrl+V. */
async function paste(page: Page, field: Locator, text: string): Promise<void> {
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await field.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("ControlOrMeta+V");
}

describe("relay invites", () => {
  it("one paste of the invite link into Add a relay adds the relay, which syncs; the token shows nowhere", async () => {
    const dataDir = tempDir();
    relay = await startRelay({ dataDir });
    // As the administrator would: the address writers reach the relay at, and a name.
    const { stdout } = await run(process.execPath, [...programArgs("relay"), "token", "invite", "ada", "--url", relay.url, "--data", dataDir], { cwd: PROJECT_ROOT });
    const invite = /^http:\/\/127\.0\.0\.1:\d+\/invite#\S+$/m.exec(stdout)?.[0];
    expect(invite, stdout).toBeDefined();
    const token = invite!.split("#")[1]!;

    const ada = await writer();
    const page = ada.page;
    await ada.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: ada.shell.url });
    const settings = new SettingsPage(page);
    await settings.open();
    const form = settings.dialog.getByRole("form", { name: "Add a relay" });
    const address = form.getByRole("textbox", { name: "Address" });
    const tokenField = form.getByLabel("Token", { exact: true });

    // Cut short on its way (a line break in a mail): said so at the field, and no part
    // of the token stays in it or in the message.
    const cut = invite!.slice(0, invite!.length - 30);
    await paste(page, tokenField, cut);
    await expect.poll(() => form.getByRole("alert").allInnerTexts()).toEqual(["The token in that invite link is damaged: copy the whole link again, or ask for a new invite."]);
    expect(await tokenField.inputValue()).toBe("");
    expect(await address.inputValue()).toBe("");

    // The whole link, in the address field: the relay's address shows, the token does not.
    await paste(page, address, invite!);
    await expect.poll(() => address.inputValue()).toBe(relay.url);
    expect(await tokenField.inputValue()).toBe("");
    expect(await tokenField.getAttribute("placeholder")).toBe("From the invite");
    expect(await form.getByRole("alert").count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    // WRITER_SCREENSHOTS=dir saves the form as the writer sees it after the paste.
    if (process.env.WRITER_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.WRITER_SCREENSHOTS, "relay-invite-pasted.png") });

    await form.getByRole("button", { name: "Add relay" }).click();
    await expect.poll(() => settings.relays()).toEqual(["127.0.0.1"]);
    await expect.poll(() => settings.dialog.getByTestId("settings-sync-status").innerText(), { timeout: 15_000 }).toMatch(/All changes on 127\.0\.0\.1|Syncing with 127\.0\.0\.1/);
    expect(await settings.dialog.locator(".relay-url").innerText()).toBe(`${relay.url} · token saved`);
    await settings.close();

    const editor = await ada.library.newDocument();
    await editor.type("Sent through an invite.");
    await expect.poll(() => page.getByTestId("sync-status").innerText(), { timeout: 15_000 }).toBe("All changes on 127.0.0.1");

    // The token went to the host and stays there: not in the page or its title, not in
    // the settings, not in the host's or the relay's log.
    expect(await page.content()).not.toContain(token);
    expect(await page.title()).not.toContain(token);
    expect(await fs.readFile(path.join(ada.dataDir, "settings.json"), "utf8")).not.toContain(token);
    expect(ada.shell.output.join("")).not.toContain(token);
    expect(relay.logs()).not.toContain(token);
    // The relay accepted it as the token named in the invite.
    expect(relay.logs()).toMatch(/"token":"ada"/);
  });
});
