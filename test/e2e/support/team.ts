import { expect } from "vitest";
import { addToken, startRelay, tempDir, type RunningRelay } from "../../support/relay";
import type { EditorPage } from "../pages/EditorPage";
import { SettingsPage } from "../pages/SettingsPage";
import type { WriterFixture } from "./fixture";

/**
 * Two writers on two machines (each its own browser shell, host and page), with their
 * own names and colours, both joined to one real relay with a token: the start of every
 * test of writing together. The caller kills the relay after the test.
 */
export async function twoWritersOnARelay(
  newWriter: () => Promise<WriterFixture>,
  people: [[string, string], [string, string]] = [
    ["Ada Lovelace", "#c2410c"],
    ["Bob Marlowe", "#0f766e"],
  ],
): Promise<{ relay: RunningRelay; ada: WriterFixture; bob: WriterFixture }> {
  const dataDir = tempDir();
  const token = await addToken(dataDir, "team");
  const relay = await startRelay({ dataDir });
  const ada = await newWriter();
  const bob = await newWriter();
  for (const [w, [name, color]] of [
    [ada, people[0]],
    [bob, people[1]],
  ] as const) {
    await new SettingsPage(w.page).setProfile(name, color);
    await new SettingsPage(w.page).joinRelay("Team", relay.url, token);
  }
  return { relay, ada, bob };
}

/**
 * Ada starts a document with a title and some text, and Bob opens its link (through the
 * relay) and sees her text: the shared document two-machine tests write in.
 */
export async function sharedDocument(ada: WriterFixture, bob: WriterFixture, title: string, text: string): Promise<{ editor: EditorPage; url: string; bobs: EditorPage }> {
  const editor = await ada.library.newDocument();
  await editor.setTitle(title);
  // One undo step (EditorPage.insert): tests that count Ada's undo steps start from it.
  await editor.insert(text);
  const url = (await ada.library.openDocument())!;
  const bobs = await bob.library.openLink(url);
  await expect.poll(() => bobs.ownText(), { timeout: 15_000 }).toBe(text);
  return { editor, url, bobs };
}
