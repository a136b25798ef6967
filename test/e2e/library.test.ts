import http from "node:http";
import net from "node:net";
import { describe, expect, it, vi } from "vitest";
import { useWriterFixtures } from "./support/fixture";

describe("the document library", () => {
  const newWriter = useWriterFixtures();

  it("creates, renames, duplicates, searches, trashes, restores and empties the trash", async () => {
    const f = await newWriter();
    const { library } = f;

    let editor = await library.newDocument();
    await editor.setTitle("Letters to Ana");
    await editor.type("Dear Ana, the almond trees are in flower.");
    editor = await library.newDocument();
    await editor.setTitle("Shopping");
    await editor.type("Bread, olives, café crème.");

    // Most recently edited first.
    await expect.poll(() => library.titles()).toEqual(["Shopping", "Letters to Ana"]);

    // Rename: the title field renames the document everywhere.
    await editor.setTitle("Market list");
    await expect.poll(() => library.titles()).toEqual(["Market list", "Letters to Ana"]);

    // Search covers titles and text, ignoring case and accents.
    await library.search("ALMOND");
    expect(await library.searchResults()).toEqual(["Letters to Ana"]);
    await library.search("cafe creme");
    await expect.poll(() => library.searchResults()).toEqual(["Market list"]);
    await library.search("market");
    await expect.poll(() => library.searchResults()).toEqual(["Market list"]);
    await library.search("nothing like this");
    await expect.poll(() => f.page.locator(".list-empty").innerText()).toContain("Nothing matches");
    await library.search("");

    // Duplicate: a new document with the same text.
    editor = await library.open("Letters to Ana");
    await editor.documentAction("Duplicate");
    await expect.poll(() => editor.title.inputValue()).toBe("Letters to Ana (copy)");
    await editor.waitReady();
    expect(await editor.text.innerText()).toBe("Dear Ana, the almond trees are in flower.");
    await expect.poll(async () => (await library.titles()).sort()).toEqual(["Letters to Ana", "Letters to Ana (copy)", "Market list"]);

    // Trash and restore.
    await editor.documentAction("Move to trash");
    await expect.poll(async () => (await library.titles()).sort()).toEqual(["Letters to Ana", "Market list"]);
    await library.showTrash();
    expect(await library.titles()).toEqual(["Letters to Ana (copy)"]);
    await library.restore("Letters to Ana (copy)");
    await expect.poll(() => editor.title.inputValue()).toBe("Letters to Ana (copy)");
    await library.backToDocuments();
    expect((await library.titles()).sort()).toEqual(["Letters to Ana", "Letters to Ana (copy)", "Market list"]);

    // Trash two, then empty the trash: they are gone for good, after a host restart too.
    editor = await library.open("Market list");
    await editor.documentAction("Move to trash");
    editor = await library.open("Letters to Ana (copy)");
    await editor.documentAction("Move to trash");
    await library.showTrash();
    await expect.poll(async () => (await library.titles()).sort()).toEqual(["Letters to Ana (copy)", "Market list"]);
    await library.emptyTrash();
    await expect.poll(() => f.page.locator(".list-empty").innerText()).toBe("The trash is empty.");
    await library.backToDocuments();
    expect(await library.titles()).toEqual(["Letters to Ana"]);

    expect(await f.restartShell("stop")).toBe(0);
    await f.newPage();
    expect(await f.library.titles()).toEqual(["Letters to Ana"]);
    await f.library.showTrash();
    expect(await f.library.titles()).toEqual([]);
  });

  it("keeps the document the writer opened while another was going to the trash", async () => {
    const f = await newWriter();
    const { library, page } = f;
    let editor = await library.newDocument();
    await editor.setTitle("Keep me open");
    await editor.type("Still here.");
    editor = await library.newDocument();
    await editor.setTitle("Throw me away");
    await editor.type("Gone soon.");

    // Hold the host's answer to the trash request until the writer has clicked another document.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let trashAsked!: () => void;
    const asked = new Promise<void>((resolve) => (trashAsked = resolve));
    await page.route("**/api", async (route) => {
      const body = route.request().postData() ?? "";
      if (!body.includes('"trashDocument"')) return route.fallback();
      trashAsked();
      const response = await route.fetch();
      await held;
      await route.fulfill({ response });
    });
    await editor.documentAction("Move to trash");
    await asked;
    // The click lands while the trashed item leaves the list (the host has already
    // trashed it; only its answer is held). Once, on a busy machine, a click then opened
    // nothing in 30 s; the cause is not known. A writer clicks again, and so does this
    // test, and says how many clicks it took, so that a lost click shows in the log.
    const keep = library.sidebar.locator(".doc-item", { has: page.locator(".doc-title", { hasText: "Keep me open" }) });
    let clicks = 0;
    await vi.waitFor(
      async () => {
        clicks++;
        await keep.click();
        await page.locator(".title-input[value='Keep me open']").waitFor({ timeout: 5000 });
      },
      { timeout: 45_000, interval: 100 },
    );
    if (clicks > 1) console.log(`"Keep me open" opened after ${clicks} clicks`);
    release();
    await expect.poll(() => page.locator(".notice").innerText()).toContain("moved to the trash");
    // The late answer must not close the document the writer chose meanwhile.
    await editor.waitReady();
    expect(await editor.title.inputValue()).toBe("Keep me open");
    expect(await editor.text.innerText()).toBe("Still here.");
    await page.unroute("**/api");
  });

  it("refuses anyone without the token, or from another origin, or by another name", async () => {
    const f = await newWriter();
    const origin = f.shell.origin;
    const post = (headers: Record<string, string>, body: unknown = { method: "bootstrap" }) => fetch(`${origin}/api`, { method: "POST", headers, body: JSON.stringify(body) });
    // The page itself is public (the app's code); everything it can do needs the token.
    expect((await fetch(`${origin}/?token=wrong`)).status).toBe(401);
    expect((await post({ Origin: origin })).status).toBe(401);
    expect((await post({ Origin: origin, Authorization: "Bearer wrong" })).status).toBe(401);
    // The right token, but not from the shell's own page, or not under its own name.
    expect((await post({ Authorization: `Bearer ${f.token}` })).status).toBe(403);
    expect((await post({ Origin: "http://127.0.0.1:1", Authorization: `Bearer ${f.token}` })).status).toBe(403);
    // A page on another name that resolves to 127.0.0.1 (DNS rebinding) is not the shell's.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${origin}/api`, { method: "POST", headers: { Host: "writer.example.com", Origin: "http://writer.example.com", Authorization: `Bearer ${f.token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(JSON.stringify({ method: "bootstrap" }));
    });
    expect(rebound).toBe(421);
    // A refused upgrade whose client resets the connection does not take the shell down.
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(f.port, "127.0.0.1", () => socket.write(`GET /sync HTTP/1.1\r\nHost: 127.0.0.1:${f.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16, i).toString("base64")}\r\n\r\n`));
        socket.once("data", () => {
          socket.resetAndDestroy();
          resolve();
        });
        socket.once("error", reject);
      });
    }
    expect((await fetch(`${origin}/`)).status).toBe(200);
    // No cookie carries it: another server on 127.0.0.1 (cookies go to every port) learns nothing.
    expect(await f.context.cookies()).toEqual([]);
    // Signed in, a malformed request is refused with a reason, not obeyed.
    const bad = await post({ Origin: origin, Authorization: `Bearer ${f.token}` }, { method: "deleteForever", url: "../../etc/passwd" });
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: "invalid-request" } });
    // The page keeps the token for its tab and takes it out of the address bar.
    expect(f.page.url()).toBe(`${origin}/`);
    const page = await fetch(`${origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
  });
});
