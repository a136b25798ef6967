/**
 * Comments in Chromium through the browser shell: one writer comments with the
 * shortcut, replies, edits, resolves and reopens, and finds comments through the panel;
 * then two writers through a real relay comment and reply, one resolves while the other
 * is offline and edits the commented words, and both end with the same thread and text.
 *
 * WRITER_SCREENSHOTS=dir saves the margin, the composer, the panel and a comment on
 * deleted text there.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Locator } from "playwright-core";
import { useWriterFixtures } from "./support/fixture";
import { screenshot } from "./support/screenshot";
import { SettingsPage } from "./pages/SettingsPage";
import { CommentsPage } from "./pages/CommentsPage";
import { addToken, startRelay, tempDir, type RunningRelay } from "../support/relay";
import { TcpProxy } from "../support/proxy";
import { quietPeriod } from "../support/wait";

let relay: RunningRelay | undefined;
afterEach(async () => {
  await relay?.kill();
  relay = undefined;
});

/** No two boxes overlap vertically. */
async function overlapping(cards: Locator): Promise<boolean> {
  const boxes = (await Promise.all((await cards.all()).map((c) => c.boundingBox()))).filter((b) => b !== null);
  boxes.sort((a, b) => a.y - b.y);
  return boxes.some((b, i) => i > 0 && b.y < boxes[i - 1]!.y + boxes[i - 1]!.height);
}

const STORY = [
  "The old lighthouse keeper climbed the stairs at dusk.",
  "He lit the lamp and watched the ships go by.",
  "The sea was calm, and the gulls were quiet.",
  ...Array.from({ length: 30 }, (_, i) => `Paragraph ${i + 1} of the long night, with nothing much happening in it.`),
  "At dawn a boat came with bread and letters.",
];

describe("comments", () => {
  const newWriter = useWriterFixtures();

  it("adds a comment with the shortcut, replies, edits, resolves, reopens, and finds it from the panel", async () => {
    const ada = await newWriter();
    await new SettingsPage(ada.page).setProfile("Ada Lovelace", "#c2410c");
    const editor = await ada.library.newDocument();
    await editor.setTitle("The lighthouse");
    await editor.type(STORY.join("\n"));
    // The whole document's counts, whatever is selected.
    const total = async () => (await editor.counts()).replace(/[\d,]+ of /g, "");
    await expect.poll(total).toBe("397 words · 2,154 characters");
    const counts = await total();
    const c = new CommentsPage(ada.page);

    await editor.select("lighthouse keeper");
    await ada.page.keyboard.press("Control+Alt+m");
    await c.composer.waitFor();
    await c.composer.fill("Who is he?");
    await screenshot(ada.page, "comments-composer.png");
    // Shift+Enter is a new line in the comment, not a post.
    await c.composer.press("Shift+Enter");
    await c.composer.type("And how old?");
    await c.composer.press("Enter");
    await expect.poll(() => c.thread("Who is he?").count()).toBe(1);
    // Held by its ID: its text changes below.
    const first = c.margin.locator(`[data-thread="${await c.thread("Who is he?").getAttribute("data-thread")}"]`);
    expect(await first.locator(".comment-text").first().innerText()).toBe("Who is he?\nAnd how old?");
    expect(await first.locator(".comment-author").first().innerText()).toBe("Ada Lovelace");
    expect(await first.locator(".comment-time").first().innerText()).toBe("just now");
    expect(await c.highlighted(editor.text)).toEqual(["lighthouse keeper"]);
    expect(await c.highlighted(editor.text, true)).toEqual(["lighthouse keeper"]);
    // The text, and its counts, are as they were.
    expect((await editor.ownText()).split("\n")[0]).toBe(STORY[0]);
    await quietPeriod(500, "longer than the word count's throttle: a comment that counted would show by then");
    expect(await total()).toBe(counts);

    // Escape cancels a comment.
    await editor.select("gulls");
    await ada.page.keyboard.press("Control+Alt+m");
    await c.composer.fill("Never mind");
    await c.composer.press("Escape");
    expect(await c.composer.count()).toBe(0);
    expect(await c.thread("Never mind").count()).toBe(0);

    await c.reply("Who is he?", "The keeper, forty years now.");
    await expect.poll(() => first.innerText()).toContain("The keeper, forty years now.");
    // Edit one's own message.
    await first.locator(".comment-message").first().getByRole("button", { name: "Edit" }).click();
    const edit = first.getByRole("textbox", { name: "Edit comment" });
    await edit.fill("Who is he, really?");
    await edit.press("Enter");
    await expect.poll(() => first.locator(".comment-message").first().innerText()).toContain("Who is he, really? (edited)");

    // A second comment with the toolbar's button, and a third on the next line: the cards do not overlap.
    await editor.select("lit the lamp");
    await editor.clickTool("Comment");
    await c.composer.fill("Which lamp?");
    await c.composer.press("Enter");
    await editor.select("The sea was calm");
    await c.comment("Calm before the storm?");
    await expect.poll(() => c.cards().count()).toBe(3);
    await quietPeriod(300, "the margin places its cards in the frames after they render");
    expect(await overlapping(c.cards())).toBe(false);
    // The active thread is beside its words.
    const calm = editor.text.locator(".comment-hl-active");
    expect(await calm.allTextContents()).toEqual(["The sea was calm"]);
    const [hl, card] = [await calm.boundingBox(), await c.thread("Calm before the storm?").boundingBox()];
    expect(Math.abs(hl!.y - card!.y)).toBeLessThan(30);
    await screenshot(ada.page, "comments-margin.png");
    if (process.env.WRITER_SCREENSHOTS) {
      await ada.page.emulateMedia({ colorScheme: "dark" });
      await screenshot(ada.page, "comments-margin-dark.png");
      await ada.page.emulateMedia({ colorScheme: "light" });
    }

    // Resolve: the thread leaves the margin and its highlight goes.
    await first.click({ position: { x: 8, y: 8 } });
    await first.getByRole("button", { name: "Resolve" }).click();
    await expect.poll(() => c.thread("Who is he, really?").count()).toBe(0);
    expect(await c.highlighted(editor.text)).toEqual(["lit the lamp", "The sea was calm"]);

    // The panel lists open and resolved threads; choosing the resolved one shows it, to reopen.
    await c.openPanel();
    expect(await c.panel.getByRole("tab").allInnerTexts()).toEqual(["Open (2)", "Resolved (1)"]);
    await c.tab("Resolved");
    await c.choose("Who is he, really?");
    const resolved = c.thread("Who is he, really?");
    await expect.poll(() => resolved.innerText()).toContain("Resolved by Ada Lovelace");
    await resolved.getByRole("button", { name: "Reopen" }).click();
    await expect.poll(() => c.panel.getByRole("tab").allInnerTexts()).toEqual(["Open (3)", "Resolved (0)"]);
    await expect.poll(() => c.highlighted(editor.text)).toEqual(["lighthouse keeper", "lit the lamp", "The sea was calm"]);

    // A comment far down; from the top, the panel scrolls the text to it.
    await editor.select("bread and letters");
    await c.comment("Who sends the letters?");
    const scroller = ada.page.locator(".scroller");
    await scroller.evaluate((el) => (el.scrollTop = 0));
    await c.tab("Open");
    await c.choose("Who sends the letters?");
    const far = editor.text.locator(".comment-hl-active");
    await expect.poll(() => far.allTextContents()).toEqual(["bread and letters"]);
    await expect.poll(() => far.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.top > 0 && r.bottom < window.innerHeight;
    })).toBe(true);
    // The panel shows the whole thread, ready for a reply.
    await c.thread("Who sends the letters?").getByRole("textbox", { name: "Reply" }).waitFor();
    await screenshot(ada.page, "comments-panel.png");

    // All of the commented words deleted: listed as on deleted text, and it can be resolved.
    await c.panel.getByRole("button", { name: "Close comments" }).click();
    await editor.select("bread and letters");
    await ada.page.keyboard.press("Backspace");
    const gone = c.thread("Who sends the letters?");
    await expect.poll(() => gone.innerText()).toContain("On deleted text: “bread and letters”");
    await gone.click({ position: { x: 8, y: 8 } });
    await gone.scrollIntoViewIfNeeded();
    await screenshot(ada.page, "comments-deleted-text.png");
    await gone.getByRole("button", { name: "Resolve" }).click();
    await c.openPanel();
    await c.tab("Resolved");
    await expect.poll(() => c.panel.locator(".comments-item").filter({ hasText: "Who sends" }).innerText()).toContain("On deleted text: “bread and letters”");
    await expect.poll(() => c.panel.getByRole("tab").allInnerTexts()).toEqual(["Open (3)", "Resolved (1)"]);

    // Delete one's own reply.
    await c.tab("Open");
    await c.choose("Who is he, really?");
    const thread = c.thread("Who is he, really?");
    const reply = thread.locator(".comment-message").nth(1);
    await reply.getByRole("button", { name: "Delete" }).click();
    await reply.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => reply.innerText()).toContain("Comment deleted");

    // HTML with comments has them as footnotes; plain HTML and Markdown do not.
    const withComments = (await editor.export("Export as HTML with comments")).bytes.toString();
    expect(withComments).toMatch(/lighthouse keeper<sup class="comment-ref"><a href="#comment-1" id="comment-ref-1">1<\/a><\/sup>/);
    expect(withComments).toContain("Who is he, really?");
    for (const plain of ["Export as HTML", "Export as Markdown"] as const) expect((await editor.export(plain)).bytes.toString()).not.toMatch(/Who is he|comment-ref/);

    // The comments are in the document: a reload shows them.
    await ada.page.reload();
    await editor.waitReady();
    await expect.poll(() => c.highlighted(editor.text)).toEqual(["lighthouse keeper", "lit the lamp", "The sea was calm"]);
    expect(await editor.counts()).not.toContain("Who");
    // A whole writer's session in one test (about 85 s on a quiet 2-core machine):
    // room for a machine twice as busy and more.
  }, 300_000);

  it("merges a thread resolved by one writer while the other, offline, edited its words", async () => {
    const dataDir = tempDir();
    const token = await addToken(dataDir, "team");
    relay = await startRelay({ dataDir });
    // Bob reaches the relay through a line that can be cut.
    const line = await TcpProxy.start(relay.port);
    const ada = await newWriter();
    const bob = await newWriter();
    await new SettingsPage(ada.page).setProfile("Ada Lovelace", "#c2410c");
    await new SettingsPage(ada.page).joinRelay("Team", relay.url, token);
    await new SettingsPage(bob.page).setProfile("Bob Marlowe", "#0f766e");
    await new SettingsPage(bob.page).joinRelay("Team", line.url, token);

    const text = "The keeper climbed the narrow stairs at dusk and lit the lamp.";
    const editor = await ada.library.newDocument();
    await editor.setTitle("Dusk");
    await editor.type(text);
    const url = (await ada.library.openDocument())!;
    const bobs = await bob.library.openLink(url);
    await expect.poll(() => bobs.ownText(), { timeout: 15_000 }).toBe(text);
    const adaC = new CommentsPage(ada.page);
    const bobC = new CommentsPage(bob.page);

    await editor.select("narrow stairs");
    await adaC.comment("Spiral, surely?");
    await expect.poll(() => bobC.thread("Spiral, surely?").count(), { timeout: 15_000 }).toBe(1);
    expect(await bobC.highlighted(bobs.text)).toEqual(["narrow stairs"]);
    expect(await bobC.thread("Spiral, surely?").locator(".comment-author").first().innerText()).toBe("Ada Lovelace");
    await bobC.reply("Spiral, surely?", "Yes, a spiral one.");
    await expect.poll(() => adaC.thread("Spiral, surely?").innerText(), { timeout: 15_000 }).toContain("Yes, a spiral one.");
    expect(await adaC.thread("Spiral, surely?").locator(".comment-author").nth(1).innerText()).toBe("Bob Marlowe");

    // Bob goes offline. Ada resolves; Bob edits the commented words.
    line.refuse();
    await expect.poll(() => bob.page.getByTestId("relay-state").innerText(), { timeout: 15_000 }).toMatch(/Not synced/);
    const adaThread = adaC.thread("Spiral, surely?");
    await adaThread.click({ position: { x: 8, y: 8 } });
    await adaThread.getByRole("button", { name: "Resolve" }).click();
    await expect.poll(() => adaC.highlighted(editor.text)).toEqual([]);
    await bobs.caretAfter("narrow");
    await bobs.type(", winding");
    await expect.poll(() => bobs.ownText()).toBe("The keeper climbed the narrow, winding stairs at dusk and lit the lamp.");
    // Bob's window still has the thread open, on the edited words.
    await expect.poll(() => bobC.highlighted(bobs.text).then((h) => h.join(""))).toBe("narrow, winding stairs");
    await quietPeriod(1000, "Bob is offline: nothing of his may reach Ada meanwhile");
    expect(await editor.ownText()).toBe(text);

    // Back online: the same text, the same resolved thread, on the right words, for both.
    line.heal();
    const merged = "The keeper climbed the narrow, winding stairs at dusk and lit the lamp.";
    await expect.poll(() => editor.ownText(), { timeout: 30_000 }).toBe(merged);
    await expect.poll(() => bobC.highlighted(bobs.text), { timeout: 15_000 }).toEqual([]);
    for (const c of [adaC, bobC]) {
      await c.openPanel();
      await expect.poll(() => c.panel.getByRole("tab").allInnerTexts()).toEqual(["Open (0)", "Resolved (1)"]);
      await c.tab("Resolved");
      await c.choose("Spiral, surely?");
      const thread = c.thread("Spiral, surely?");
      await expect.poll(() => thread.innerText()).toContain("Resolved by Ada Lovelace");
      expect(await thread.innerText()).toContain("Yes, a spiral one.");
    }
    // Reopened by Bob, the highlight is on the words as edited, in both windows.
    await bobC.thread("Spiral, surely?").getByRole("button", { name: "Reopen" }).click();
    await expect.poll(() => adaC.highlighted(editor.text).then((h) => h.join("")), { timeout: 15_000 }).toBe("narrow, winding stairs");
    await expect.poll(() => bobC.highlighted(bobs.text).then((h) => h.join(""))).toBe("narrow, winding stairs");
    await line.close();
  });
});
