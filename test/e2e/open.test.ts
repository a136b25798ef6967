/**
 * First paint from the render cache: on opening, the last document's text is
 * on screen before the app itself has loaded, read-only; the editor then takes over
 * with the document's own text. A cache that is wrong is shown at most until the
 * document is there, and is rewritten from it. The opening page takes typing at once,
 * and what is typed there joins the document when it has loaded, even a
 * document that moved on since its cache was written.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useWriterFixtures, type WriterFixture } from "./support/fixture";
import { EditorPage } from "./pages/EditorPage";
import type { Page } from "playwright-core";

/** Ada's first line in a new document, saved: what each test reopens. */
async function harbourLog(f: WriterFixture): Promise<void> {
  const editor = await f.library.newDocument();
  await editor.setTitle("Harbour log");
  await editor.type("The tide came in at six.");
  await expect.poll(() => editor.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");
}

/**
 * Holds the app's own script back until the returned function is called (early.ts's page
 * comes without it). Released by the test when it has seen what it came for, not after a
 * fixed while, which a loaded machine can outlast.
 */
async function holdAppScript(page: Page): Promise<() => void> {
  const { released, release } = gate();
  await page.route(/\/assets\/index-[^/]+\.js$/, async (route) => {
    await released;
    await route.continue();
  });
  return release;
}

function gate(): { released: Promise<void>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { released, release };
}

/** The app opened afresh at `url`, once its editor is ready. */
async function openAgain(page: Page, url: string): Promise<EditorPage> {
  await page.goto(url, { waitUntil: "commit" });
  const editor = new EditorPage(page);
  await editor.waitReady();
  return editor;
}

/** Holds the window's load of the document (the host's saved copy) back until released: the opening page stays. */
async function holdDocumentLoad(page: Page): Promise<() => void> {
  const { released, release } = gate();
  await page.route("**/api", async (route) => {
    if (route.request().postData()?.includes('"savedDocument"')) await released;
    await route.continue();
  });
  return release;
}

/**
 * Holds the host's answers to "is this on your disk?" while held: until then the save
 * indicator cannot honestly say "Saved". Registered after the other holds, it hands
 * every request on to them (fallback).
 */
async function holdSaveConfirmation(page: Page): Promise<{ hold: () => void; release: () => void }> {
  let current: ReturnType<typeof gate> | null = gate();
  await page.route("**/api", async (route) => {
    if (current && route.request().postData()?.includes('"confirmSaved"')) await current.released;
    await route.fallback();
  });
  return {
    hold: () => (current ??= gate()),
    release: () => {
      current?.release();
      current = null;
    },
  };
}

/** Types on the opening page: it takes typing before the editor is there. */
async function typeOnOpeningPage(page: Page, text: string): Promise<void> {
  const opening = page.locator('.opening-prose[contenteditable="true"]');
  await opening.waitFor({ timeout: 5000 });
  await opening.click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type(text);
  expect(await page.locator('.editor-mount[data-ready="true"]').count(), "the editor came before the typing was done: the test did not type on the opening page").toBe(0);
}

describe("opening a document", () => {
  const newWriter = useWriterFixtures();

  it("shows the text from the render cache before the app has loaded, then the editor with the document's own text", async () => {
    const f = await newWriter();
    await harbourLog(f);
    const url = (await f.library.openDocument())!;
    // The host rewrites the cache at most every 30 s while the document changes, and on
    // closing (RenderCacheUpdates): after a clean stop it has the last words.
    const cacheFile = path.join(f.dataDir, "render-cache", `${url.slice("automerge:".length)}.json`);

    // A wrong cache (a bug, a hand edit): shown first at most, never kept. The page
    // leaves first: left open on the editor, it would reconnect to the restarted host
    // and ask for the document, and a host that has the document checks the cache
    // against it (and rewrites it) before it shows it to anyone, so the planted cache
    // would be gone before the first paint asked for it.
    await f.page.goto("about:blank");
    await f.shell.stop();
    expect(await fs.readFile(cacheFile, "utf8")).toContain("The tide came in at six.");
    const cache = JSON.parse(await fs.readFile(cacheFile, "utf8")) as { spans: { type: string; value: unknown }[] };
    cache.spans = cache.spans.map((s) => (s.type === "text" ? { ...s, value: "Stale words from the cache." } : s));
    await fs.writeFile(cacheFile, JSON.stringify(cache));
    await f.restartShell("kill");

    // The app's own bundle held back: the first paint must not need it.
    const releaseApp = await holdAppScript(f.page);
    await f.page.goto(f.shell.url, { waitUntil: "commit" });
    const early = f.page.locator(".app.early .prose");
    await expect.poll(() => early.innerText().catch(() => ""), { timeout: 1500, interval: 50 }).toBe("Stale words from the cache.");
    expect(await f.page.locator(".app.early .cached-title").innerText()).toBe("Harbour log");
    expect(await f.page.locator(".editor-mount").count()).toBe(0);
    if (process.env.WRITER_SCREENSHOTS) await f.page.screenshot({ path: path.join(process.env.WRITER_SCREENSHOTS, "first-paint.png") });
    releaseApp();

    // The editor comes with the document's own text, and the cache is set right.
    const reopened = new EditorPage(f.page);
    await reopened.waitReady();
    expect(await reopened.ownText()).toBe("The tide came in at six.");
    await expect.poll(() => fs.readFile(cacheFile, "utf8"), { timeout: 10_000 }).toContain("The tide came in at six.");
  });

  it("loads the reopened document from the host's saved copy, and what is typed then is saved", async () => {
    const f = await newWriter();
    await harbourLog(f);

    // A fresh host and window: the window loads the document from the host's disk.
    await f.restartShell("kill");
    const reopened = await openAgain(f.page, f.shell.url);
    expect(await reopened.ownText()).toBe("The tide came in at six.");
    expect(await f.page.evaluate(() => performance.getEntriesByName("writer:document-loaded").length)).toBe(1);

    // Typing into it reaches the host's disk ("Saved" only once the host has every change)...
    await reopened.focusEnd();
    await reopened.type(" The boats went out.");
    await expect.poll(() => reopened.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");
    // ...and is there after a crash of the host.
    await f.restartShell("kill");
    const again = await openAgain(f.page, f.shell.url);
    expect(await again.ownText()).toBe("The tide came in at six. The boats went out.");
  });

  it("takes typing on the opening page at once, and puts it in the document where it was typed", async () => {
    const f = await newWriter();
    await harbourLog(f);
    await f.page.goto("about:blank");
    await f.restartShell("stop");

    const releaseDocument = await holdDocumentLoad(f.page);
    // The writer starts on early.ts's page, before the app's own script has come...
    const releaseApp = await holdAppScript(f.page);
    await f.page.goto(f.shell.url, { waitUntil: "commit" });
    await f.page.locator(".app.early .opening-prose").waitFor({ timeout: 5000 });
    await typeOnOpeningPage(f.page, " The boats");
    expect(await f.page.locator(".app.early").count(), "still early.ts's page").toBe(1);
    // ...the app takes the page over, and the writer types on where the caret was.
    releaseApp();
    await expect.poll(() => f.page.locator(".app.early").count(), { timeout: 30_000 }).toBe(0);
    await f.page.keyboard.type(" went out.");
    expect(await f.page.locator('.editor-mount[data-ready="true"]').count(), "the document is still held back").toBe(0);
    if (process.env.WRITER_SCREENSHOTS) await f.page.screenshot({ path: path.join(process.env.WRITER_SCREENSHOTS, "typing-while-opening.png") });
    const confirmation = await holdSaveConfirmation(f.page);
    releaseDocument();
    const marks = () => f.page.evaluate(() => ["writer:editable", "writer:editor-ready"].map((m) => performance.getEntriesByName(m)[0]?.startTime ?? null));
    const reopened = new EditorPage(f.page);
    await reopened.waitReady();
    expect(await reopened.ownText()).toBe("The tide came in at six. The boats went out.");
    // What was typed there is in the document, not yet known to be on disk: "Saved" waits
    // for the host to say so.
    expect(await reopened.saveState()).toBe("Saving…");
    confirmation.release();
    await expect.poll(() => reopened.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");
    const [editable, ready] = await marks();
    expect(editable).not.toBeNull();
    expect(editable!).toBeLessThan(ready!);
    // The caret is where the writer left it: typing goes on after the last word.
    confirmation.hold();
    await reopened.type(" Gulls.");
    expect(await reopened.ownText()).toBe("The tide came in at six. The boats went out. Gulls.");
    // From the first key on, until the host says it has it.
    expect(await reopened.saveState()).toBe("Saving…");
    confirmation.release();
    await expect.poll(() => reopened.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");

    // On disk: a crash of the host keeps it.
    await f.restartShell("kill");
    await f.page.unrouteAll();
    const again = await openAgain(f.page, f.shell.url);
    expect(await again.ownText()).toBe("The tide came in at six. The boats went out. Gulls.");
  });

  it("typing on a cache older than the document is merged with what the document has since, nothing lost", async () => {
    const f = await newWriter();
    await harbourLog(f);
    const url = (await f.library.openDocument())!;
    const cacheFile = path.join(f.dataDir, "render-cache", `${url.slice("automerge:".length)}.json`);
    await f.page.goto("about:blank");
    await f.restartShell("stop");
    const older = await fs.readFile(cacheFile, "utf8");
    expect(older).toContain("The tide came in at six.");

    // The document moves on; its cache is then put back as it was (as after a crash
    // between the cache's rewrites).
    const later = await openAgain(f.page, f.shell.url);
    await later.focusEnd();
    await later.type(" Later words.");
    await expect.poll(() => later.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");
    await f.page.goto("about:blank");
    await f.shell.stop();
    await fs.writeFile(cacheFile, older);
    await f.restartShell("kill");

    const releaseDocument = await holdDocumentLoad(f.page);
    await f.page.goto(f.shell.url, { waitUntil: "commit" });
    expect(await f.page.locator(".opening-prose").innerText()).toBe("The tide came in at six.");
    await typeOnOpeningPage(f.page, " Early words.");
    releaseDocument();
    const reopened = new EditorPage(f.page);
    await reopened.waitReady();
    // Both, each whole, once: typed at the same place concurrently, Automerge orders them.
    const text = await reopened.ownText();
    expect(text.startsWith("The tide came in at six. ")).toBe(true);
    expect([...text.matchAll(/ Later words\./g)]).toHaveLength(1);
    expect([...text.matchAll(/ Early words\./g)]).toHaveLength(1);
    expect(text).toHaveLength("The tide came in at six. Later words. Early words.".length);
  });
});
