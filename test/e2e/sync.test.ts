/**
 * The browser shell syncing through a real relay with a second, real host process:
 * the writer adds the relay in Settings, sees "All changes on" it, watches a remote
 * writer's text appear, and sees the status change when the relay goes away and
 * comes back.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { useWriterFixtures } from "./support/fixture";
import { twoWritersOnARelay } from "./support/team";
import { SettingsPage } from "./pages/SettingsPage";
import { HostProcess } from "../support/host";
import { addToken, startRelay, tempDir, type RunningRelay } from "../support/relay";

const writer = useWriterFixtures();
let relay: RunningRelay | undefined;
let bob: HostProcess | undefined;

afterEach(async () => {
  await bob?.kill();
  await relay?.kill();
  bob = relay = undefined;
});

describe("syncing in the browser shell", () => {
  it("shows a remote writer's text appear, and the sync status follow the relay", async () => {
    const dataDir = tempDir();
    const token = await addToken(dataDir, "team");
    relay = await startRelay({ dataDir });
    const ada = await writer();
    const page = ada.page;
    const status = page.getByTestId("sync-status");
    await expect.poll(() => status.innerText()).toBe("On this computer only");

    const settings = new SettingsPage(page);
    await settings.open();
    // Nothing outside this page confirms a relay here, and the page says so (the desktop
    // app asks in a dialog of its own).
    expect(await settings.dialog.getByTestId("relay-trust").innerText()).toMatch(/^In the browser shell this page is trusted/);
    await settings.addRelay("Team", relay.url, token);
    await expect.poll(() => settings.dialog.getByTestId("settings-sync-status").innerText(), { timeout: 10_000 }).toMatch(/All changes on Team|Syncing with Team/);
    // The token went to the host and stays there: not in the page, not in settings.json.
    expect(await page.content()).not.toContain(token);
    expect(await fs.readFile(path.join(ada.dataDir, "settings.json"), "utf8")).not.toContain(token);
    await settings.close();

    const editor = await ada.library.newDocument();
    await editor.setTitle("Letters");
    await editor.type("Dear Bob,");
    await expect.poll(() => status.innerText(), { timeout: 10_000 }).toBe("All changes on Team");
    await expect.poll(() => page.getByTestId("relay-state").innerText(), { timeout: 10_000 }).toBe("On Team");

    // Bob, on another machine, opens the shared link and writes.
    const url = (await ada.library.openDocument())!;
    bob = await HostProcess.start({ name: "bob" });
    await bob.addRelay("Team", relay.url, token);
    await bob.call("openSharedDocument", { url });
    await expect.poll(async () => (await bob!.read(url).catch(() => null))?.text ?? "", { timeout: 10_000 }).toContain("Dear Bob,");
    await bob.type(url, " Dear Ada, hello from Bob.");
    await expect.poll(() => editor.text.innerText(), { timeout: 10_000 }).toContain("hello from Bob.");

    // The relay goes away: the status says so, typing goes on, and all of it syncs
    // once the relay is back.
    await relay.kill();
    await expect.poll(() => status.innerText(), { timeout: 10_000 }).toMatch(/Offline|Connecting/);
    await expect.poll(() => page.getByTestId("relay-state").innerText()).toMatch(/Not synced/);
    await editor.focusEnd();
    await editor.type(" Written while the relay was down.");
    // While offline the sidebar says when it tries again, and offers to try now (issue 17).
    await expect.poll(() => page.getByTestId("sync-detail").innerText(), { timeout: 10_000 }).toMatch(/Trying again in \d+ s\./);
    const tryNow = page.locator(".sidebar").getByRole("button", { name: "Try now" });
    await tryNow.click();
    await expect.poll(() => status.innerText()).toMatch(/Offline|Connecting/);
    relay = await startRelay({ dataDir, port: relay.port });
    const answered = Date.now();
    await expect.poll(() => status.innerText(), { timeout: 20_000 }).toBe("All changes on Team");
    // Within 1.5 s of the relay answering (the host's retry), plus the sidebar's 1 s poll.
    console.log(`synced again ${Date.now() - answered} ms after the relay answered`);
    expect(await tryNow.count()).toBe(0);
    await expect.poll(async () => (await bob!.read(url)).text, { timeout: 10_000 }).toContain("Written while the relay was down.");
  });

  it("opens a shared link whose document is not on the relay yet as soon as it arrives, without Try again", async () => {
    const dataDir = tempDir();
    const token = await addToken(dataDir, "team");
    relay = await startRelay({ dataDir });
    const ada = await writer();
    await new SettingsPage(ada.page).joinRelay("Team", relay.url, token);

    // Bob wrote it offline: the relay has never seen it.
    bob = await HostProcess.start({ name: "bob" });
    const url = await bob.createDocument("Not there yet");
    await bob.type(url, "Written before the relay knew of it.");
    await ada.page.getByRole("button", { name: "Open a link…" }).click();
    const dialog = ada.page.getByRole("dialog", { name: "Open a shared document" });
    await dialog.getByRole("textbox", { name: "Link" }).fill(url);
    await dialog.getByRole("button", { name: "Open", exact: true }).click();
    await expect.poll(() => ada.page.getByText("This document is not here yet.").count(), { timeout: 20_000 }).toBe(1);
    // Nothing joins the library until the document is here (issue 17: an "Untitled ·
    // Empty" entry was left for every link the relay did not have).
    expect(await ada.library.titles()).toEqual([]);

    // Bob connects; Ada does nothing, and the document opens.
    await bob.addRelay("Team", relay.url, token);
    const editor = ada.page.locator(`.editor-mount[data-ready=true][data-document="${url}"]`);
    await expect.poll(() => editor.count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => editor.innerText()).toContain("Written before the relay knew of it.");
    await expect.poll(() => ada.library.titles(), { timeout: 10_000 }).toEqual(["Not there yet"]);
  });
  it("says why a relay refuses, and counts down the seconds to its next try", async () => {
    const dataDir = tempDir();
    await addToken(dataDir, "team");
    relay = await startRelay({ dataDir });
    const ada = await writer();
    await new SettingsPage(ada.page).joinRelay("Team", relay.url, "not-the-teams-token");
    const detail = ada.page.getByTestId("sync-detail");
    await expect.poll(() => ada.page.getByTestId("sync-status").innerText(), { timeout: 10_000 }).toBe("Cannot sync");
    await expect.poll(() => detail.innerText()).toMatch(/did not accept this token.*Trying again in \d+ s\./);
    // A refused token backs off (doubling): within a few rounds a pause is long enough
    // to show its seconds going down, one by one.
    let last: number | undefined;
    const seen: number[] = [];
    await expect
      .poll(
        async () => {
          const shown = Number((await detail.innerText()).match(/Trying again in (\d+) s/)?.[1] ?? NaN);
          seen.push(shown);
          // From 3 or more, a lower number can only be the same pause going by.
          const countedDown = last !== undefined && last >= 3 && shown === last - 1;
          last = shown;
          return countedDown;
        },
        { timeout: 40_000, interval: 300 },
      )
      .toBe(true);
    console.log(`seconds shown: ${seen.join(" ")}`);
  });
  it("the sidebar's word count follows the text: an imported chapter's at once, a collaborator's as they type", async () => {
    const team = await twoWritersOnARelay(writer);
    relay = team.relay;
    const { ada, bob } = team;
    // A 2,000-word chapter (issue 17: its entry said "Empty · 0 words" for seconds).
    const chapter = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(" ");
    const editor = await ada.library.importFile("Chapter one.md", Buffer.from(`# Chapter one\n\n${chapter}\n`));
    const adas = ada.library.sidebar.locator(".doc-item", { hasText: "Chapter one" });
    await expect.poll(() => adas.innerText(), { timeout: 3000 }).toContain("2000 words");
    // Bob follows the document (once it is on the relay); his sidebar keeps up with Ada's typing.
    await expect.poll(() => ada.page.getByTestId("relay-state").innerText(), { timeout: 15_000 }).toMatch(/^On /);
    const url = (await ada.library.openDocument())!;
    await bob.library.openLink(url);
    const bobs = bob.library.sidebar.locator(".doc-item", { hasText: "Chapter one" });
    await expect.poll(() => bobs.innerText(), { timeout: 15_000 }).toContain("2000 words");
    await editor.focusEnd();
    await editor.type(" and three more");
    await expect.poll(() => bobs.innerText(), { timeout: 5000 }).toContain("2003 words");
  });
});
