/**
 * F1: two writers edit the same paragraphs at the same time, online. Ada and Bob each
 * run the browser shell (their own host, their own data directory) and sync through a
 * real relay. Their edits are made truly concurrent by freezing the relay (SIGSTOP, the
 * sockets stay open: the network is only slow) while both edit, then letting it go.
 *
 * Expected results follow Automerge's rich text (the Peritext model, marks anchored to
 * characters): bold over overlapping ranges covers the union; text deleted by one
 * writer stays deleted while the other formats around it; two inserts at the same spot
 * both survive, each in one piece. The editor's bold is a mark with expand "both"
 * (inclusive, schema.ts), so text Bob types right after "Hello" while Ada bolds it
 * grows the bold span, as Peritext specifies for bold ("insert into a bold span"):
 * "<strong>Hello!!</strong>" on both sides and in the stored spans alike.
 */
import { afterEach, describe, expect, it } from "vitest";
import { useWriterFixtures, type WriterFixture } from "../e2e/support/fixture";
import { SettingsPage } from "../e2e/pages/SettingsPage";
import type { EditorPage } from "../e2e/pages/EditorPage";
import { HostProcess } from "../support/host";
import { addToken, startRelay, tempDir, type RunningRelay } from "../support/relay";

const writer = useWriterFixtures();
let relay: RunningRelay | undefined;
const hosts: HostProcess[] = [];

afterEach(async () => {
  for (const h of hosts.splice(0)) await h.kill();
  if (relay && !relay.exited()) process.kill(relay.pid, "SIGCONT");
  await relay?.kill();
  relay = undefined;
});

async function joinRelay(w: WriterFixture, url: string, token: string): Promise<void> {
  await new SettingsPage(w.page).joinRelay("Team", url, token, { waitForSync: true });
}

/** Puts the caret right before (or after) the first occurrence of `word`. */
async function caretAt(editor: EditorPage, word: string, side: "before" | "after"): Promise<void> {
  await editor.select(word);
  await editor.press(side === "before" ? "ArrowLeft" : "ArrowRight");
}

describe("F1: concurrent edits in one paragraph", () => {
  it("F1: concurrent inserts at one spot, bold over overlapping ranges, a delete under formatting, typing at a bold edge: both sides identical, Peritext intent kept", async () => {
    const relayDir = tempDir();
    const token = await addToken(relayDir, "team");
    relay = await startRelay({ dataDir: relayDir });
    const ada = await writer();
    const bob = await writer();
    await joinRelay(ada, relay.url, token);
    await joinRelay(bob, relay.url, token);

    const a = await ada.library.newDocument();
    await a.setTitle("Pequod");
    await a.focusEnd();
    for (const [i, line] of ["The quick fox.", "alpha beta gamma", "Hello World", "one two three"].entries()) {
      if (i > 0) await a.press("Enter");
      await a.type(line);
    }
    const url = (await ada.library.openDocument())!;
    const b = await bob.library.openLink(url);
    const base = "<p>The quick fox.</p><p>alpha beta gamma</p><p>Hello World</p><p>one two three</p>";
    await expect.poll(() => b.html(), { timeout: 30_000 }).toBe(base);
    await expect.poll(() => a.html()).toBe(base);

    // Freeze the relay: from here on neither side can see the other's edits.
    process.kill(relay.pid, "SIGSTOP");
    const frozenAt = Date.now();
    await Promise.all([
      (async () => {
        await caretAt(a, "fox", "before");
        await a.type("red ");
        await a.select("alpha beta");
        await a.press("Control+b");
        await a.select("Hello");
        await a.press("Control+b");
        await a.select("two ");
        await a.press("Backspace");
      })(),
      (async () => {
        await caretAt(b, "fox", "before");
        await b.type("brown ");
        await b.select("beta gamma");
        await b.press("Control+b");
        await caretAt(b, "Hello", "after");
        await b.type("!!");
        await b.select("one two three");
        await b.press("Control+i");
      })(),
    ]);
    // Each side sees only its own edits: they are concurrent.
    expect(await a.html()).toBe("<p>The quick red fox.</p><p><strong>alpha beta</strong> gamma</p><p><strong>Hello</strong> World</p><p>one three</p>");
    expect(await b.html()).toBe("<p>The quick brown fox.</p><p>alpha <strong>beta gamma</strong></p><p>Hello!! World</p><p><em>one two three</em></p>");
    process.kill(relay.pid, "SIGCONT");
    const frozenMs = Date.now() - frozenAt;

    // Both converge on the same document, with every edit and every format kept. (A
    // freeze longer than the hosts' 5 s liveness bound, which a busy machine makes, is the
    // relay gone away: each window then highlights the other's edits until dismissed.
    // html() leaves such highlights out, as they are not the document.)
    const merged = (first: string) =>
      `<p>The quick ${first} fox.</p><p><strong>alpha beta gamma</strong></p><p><strong>Hello!!</strong> World</p><p><em>one three</em></p>`;
    try {
      await expect.poll(async () => (await a.html()).includes("brown") && (await a.html()) === (await b.html()), { timeout: 30_000 }).toBe(true);
    } catch (error) {
      // What each side shows and what the hosts and the relay said, for a failure seen only on a busy machine.
      const tail = (text: string) => text.split("\n").slice(-30).join("\n");
      console.error(`F1 did not converge within 30 s of the relay's return (frozen ${frozenMs} ms).\nAda: ${await a.html()}\nBob: ${await b.html()}\nAda's host:\n${tail(ada.shell.output.join(""))}\nBob's host:\n${tail(bob.shell.output.join(""))}\nRelay:\n${tail(relay.logs())}`);
      throw error;
    }
    const mergedHtml = await a.html();
    expect([merged("red brown"), merged("brown red")], mergedHtml).toContain(mergedHtml);

    // A third replica, fresh from the relay, agrees; so do Ada's and Bob's files on disk.
    const carol = await HostProcess.start({ name: "carol" });
    hosts.push(carol);
    await carol.addRelay("Team", relay.url, token);
    await carol.call("openSharedDocument", { url });
    await expect.poll(async () => (await carol.spans(url).catch(() => null))?.text ?? "", { timeout: 30_000 }).toMatch(/three$/);
    await expect.poll(async () => (await carol.spans(url)).text, { timeout: 30_000 }).toBe(await a.ownText());
    const relayCopy = await carol.spans(url);
    // Each side's own edits reach the disk within the save debounce; a clean stop flushes.
    await expect.poll(() => a.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");
    await expect.poll(() => b.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");
    expect(await ada.shell.stop()).toBe(0);
    expect(await bob.shell.stop()).toBe(0);
    for (const w of [ada, bob]) {
      const reopened = await HostProcess.start({ dataDir: w.dataDir });
      hosts.push(reopened);
      const replica = await reopened.spans(url);
      expect(replica.text).toBe(relayCopy.text);
      expect(replica.heads).toEqual(relayCopy.heads);
      expect(replica.spans).toEqual(relayCopy.spans);
    }
    // Nothing after the merge: the last change of each writer are both heads.
    expect(relayCopy.heads).toHaveLength(2);
    const texts = relayCopy.spans.filter((s) => s.type === "text");
    expect(texts.filter((s) => s.marks?.strong === true).map((s) => s.value)).toEqual(["alpha beta gamma", "Hello!!"]);
    expect(texts.filter((s) => s.marks?.em === true).map((s) => s.value)).toEqual(["one three"]);
    console.log(`F1: relay frozen for ${frozenMs} ms while both wrote; converged to ${JSON.stringify(relayCopy.text)}`);
  });
});
