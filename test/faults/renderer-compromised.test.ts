/**
 * S10: the renderer is compromised (XSS). Hostile code runs in the page of the browser
 * shell (page.evaluate, i.e. with everything the page itself may do): it must not read
 * relay tokens, files or Node, and every message it can send the host (the HTTP API and
 * the sync WebSocket) must be checked, answered with an error, and leave the host
 * working. Another origin must not reach the host at all. Electron's IPC sender and
 * port checks, which cannot run here, have unit tests (test/unit/main).
 */
import http from "node:http";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import { cbor } from "@automerge/automerge-repo";
import { next as A } from "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { useWriterFixtures } from "../e2e/support/fixture";
import { SettingsPage } from "../e2e/pages/SettingsPage";
import { addToken, startRelay, tempDir, upgradeStatus, type RunningRelay } from "../support/relay";

const writer = useWriterFixtures();
let relay: RunningRelay | undefined;
const servers: http.Server[] = [];

afterEach(async () => {
  await relay?.kill();
  relay = undefined;
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A server on another port of 127.0.0.1: it records every request and upgrade, and serves a blank page. */
async function otherServer(): Promise<{ origin: string; port: number; seen: { url: string; authorization: string | undefined; cookie: string | undefined }[] }> {
  const seen: { url: string; authorization: string | undefined; cookie: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? "", authorization: req.headers.authorization, cookie: req.headers.cookie });
    res.writeHead(200, { "Content-Type": "text/html" }).end("<!doctype html><title>elsewhere</title>");
  });
  server.on("upgrade", (req, socket) => {
    socket.on("error", () => undefined);
    seen.push({ url: req.url ?? "", authorization: req.headers.authorization, cookie: req.headers.cookie });
    socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { origin: `http://127.0.0.1:${port}`, port, seen };
}

/** POSTs a raw body to /api from inside the page, as hostile page code would (it can read the tab's shell token, and use it only here). */
async function postFromPage(page: Page, body: string): Promise<{ status: number; body: string }> {
  return page.evaluate(async (b) => {
    const res = await fetch("/api", { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${sessionStorage.getItem("writer-shell-token") ?? ""}` }, body: b });
    return { status: res.status, body: await res.text() };
  }, body);
}

/** Opens the sync socket from the page, sends `frames`, and reports how the host closed it. */
async function syncSocketFromPage(page: Page, frames: (number[] | string)[]): Promise<{ opened: boolean; code: number; reason: string }> {
  return page.evaluate(async (fs) => {
    const ws = new WebSocket(`ws://${location.host}/sync?token=${sessionStorage.getItem("writer-shell-token") ?? ""}`);
    ws.binaryType = "arraybuffer";
    let opened = false;
    return new Promise<{ opened: boolean; code: number; reason: string }>((resolve) => {
      const timer = setTimeout(() => {
        ws.close();
        resolve({ opened, code: -1, reason: "still open after 5 s" });
      }, 5000);
      ws.onopen = () => {
        opened = true;
        for (const f of fs) ws.send(typeof f === "string" ? f : new Uint8Array(f));
      };
      ws.onclose = (e) => {
        clearTimeout(timer);
        resolve({ opened, code: e.code, reason: e.reason });
      };
    });
  }, frames);
}

const bytes = (value: unknown): number[] => [...cbor.encode(value)];

describe("S10: a compromised renderer", () => {
  it("S10: page code cannot read tokens, files or Node; every API and sync message is validated and the host keeps working; other origins are refused", async () => {
    const relayDir = tempDir();
    const token = await addToken(relayDir, "team");
    relay = await startRelay({ dataDir: relayDir });
    const ada = await writer({ walled: true });
    const passwd = fs.statSync("/etc/passwd");
    const page = ada.page;
    const settings = new SettingsPage(page);
    await settings.open();
    await settings.addRelay("Team", relay.url, token);
    await settings.close();
    const editor = await ada.library.newDocument();
    await editor.setTitle("Moby-Dick");
    await editor.type("Call me Ishmael.");

    // 1. No Node, no files, no token anywhere the page can look.
    const reach = await page.evaluate(async () => {
      const g = globalThis as Record<string, unknown>;
      const attempt = async (f: () => Promise<unknown>) => {
        try {
          return `ran: ${String(await f()).slice(0, 40)}`;
        } catch (e) {
          return `refused: ${(e as Error).name}`;
        }
      };
      return {
        globals: ["require", "process", "module", "Buffer", "global", "__dirname", "writerHost", "electron"].filter((n) => typeof g[n] !== "undefined"),
        cookie: document.cookie,
        storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
        file: await attempt(() => fetch("file:///etc/passwd").then((r) => r.text())),
        nodeImport: await attempt(() => import(/* @vite-ignore */ "node:fs" as string)),
        traversal: await Promise.all(["/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/assets/../../package.json"].map((p) => fetch(p).then(async (r) => `${r.status} ${(await r.text()).slice(0, 20)}`))),
      };
    });
    expect(reach.globals).toEqual([]);
    expect(reach.cookie).toBe(""); // the session cookie is HttpOnly
    expect(reach.storage).not.toContain(token);
    expect(reach.file).toMatch(/^refused/);
    expect(reach.nodeImport).toMatch(/^refused/);
    for (const t of reach.traversal) expect(t).toMatch(/^404 /);
    expect(await page.content()).not.toContain(token);

    // 2. Every method that answers with data, asked everything: no token in any answer.
    const requests: Record<string, unknown>[] = [
      { method: "bootstrap" },
      { method: "getSettings" },
      { method: "status" },
      { method: "syncStatus", url: null },
      { method: "syncStatus", url: await ada.library.openDocument() },
      { method: "search", query: token },
      { method: "search", query: "team" },
      { method: "search", query: "" },
    ];
    const answers = await Promise.all(requests.map((r) => postFromPage(page, JSON.stringify(r))));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body).not.toContain(token);
    }
    const view = JSON.parse(answers[1]!.body) as { value: { relays: { id: string; hasToken: boolean }[] } };
    expect(view.value.relays).toEqual([expect.objectContaining({ name: "Team", url: relay.url, hasToken: true })]);
    const relayId = view.value.relays[0]!.id;

    // 3. Redirecting the relay to a server of the attacker's choosing does not take the token along.
    const evil = await otherServer();
    const redirected = JSON.parse((await postFromPage(page, JSON.stringify({ method: "updateRelay", id: relayId, url: `ws://127.0.0.1:${evil.port}` }))).body) as { ok: boolean };
    expect(redirected.ok).toBe(true);
    await expect.poll(() => evil.seen.length, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(JSON.stringify(evil.seen)).not.toContain(token);
    expect(evil.seen.every((s) => s.authorization === undefined)).toBe(true);
    const after = JSON.parse((await postFromPage(page, JSON.stringify({ method: "getSettings" }))).body) as { value: { relays: { hasToken: boolean }[] } };
    expect(after.value.relays[0]!.hasToken).toBe(false);

    // 4. Garbage, wrong types, unknown methods, traversal, pollution, huge and deep payloads.
    const garbage: [string, number, string | null][] = [
      ["not json at all", 400, "invalid-request"],
      ["null", 200, "invalid-request"],
      ["[]", 200, "invalid-request"],
      ["42", 200, "invalid-request"],
      ['"bootstrap"', 200, "invalid-request"],
      ["{}", 200, "invalid-request"],
      ['{"method":"readFile","path":"/etc/passwd"}', 200, "invalid-request"],
      ['{"method":"constructor"}', 200, "invalid-request"],
      ['{"method":"__proto__"}', 200, "invalid-request"],
      ['{"__proto__":{"method":"bootstrap","polluted":true},"method":"nope"}', 200, "invalid-request"],
      ['{"method":"createDocument","title":42}', 200, "invalid-request"],
      [JSON.stringify({ method: "createDocument", title: "x".repeat(501) }), 200, "invalid-request"],
      [JSON.stringify({ method: "renameDocument", url: "automerge:../../../etc/passwd", title: "x" }), 200, "invalid-request"],
      [JSON.stringify({ method: "renameDocument", url: "../../x", title: "x" }), 200, "invalid-request"],
      [JSON.stringify({ method: "deleteForever", url: { toString: "automerge:x" } }), 200, "invalid-request"],
      [JSON.stringify({ method: "setLastOpened", url: "automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu" }), 200, "not-found"],
      [JSON.stringify({ method: "openSharedDocument", url: "automerge:1111111111111111111111111111" }), 200, "invalid-request"],
      [JSON.stringify({ method: "addRelay", name: "x", url: "file:///etc/passwd", token: null }), 200, "invalid-request"],
      [JSON.stringify({ method: "addRelay", name: "x", url: "ws://user:pw@127.0.0.1:1", token: null }), 200, "invalid-request"],
      [JSON.stringify({ method: "moveRelay", id: relayId, index: -1 }), 200, "invalid-request"],
      [JSON.stringify({ method: "moveRelay", id: "../../secrets", index: 0 }), 200, "invalid-request"],
      [JSON.stringify({ method: "setProfile", name: "<script>", color: "red;background:url(x)" }), 200, "invalid-request"],
      [JSON.stringify({ method: "confirmSaved", url: await ada.library.openDocument(), heads: Array(65).fill("0".repeat(64)) }), 200, "invalid-request"],
      ["[".repeat(30_000) + "]".repeat(30_000), 200, "invalid-request"],
      [JSON.stringify({ method: "search", query: "x".repeat(200_000) }), 413, null],
    ];
    for (const [body, status, code] of garbage) {
      const answer = await postFromPage(page, body);
      expect(answer.status, body.slice(0, 60)).toBe(status);
      if (code) expect((JSON.parse(answer.body) as { ok: boolean; error: { code: string } }).error.code, body.slice(0, 60)).toBe(code);
    }
    // A title that looks like a path is only a title: no file is named after it.
    const titled = JSON.parse((await postFromPage(page, JSON.stringify({ method: "createDocument", title: "../../../../../tmp/writer-s10-escape" }))).body) as { ok: boolean };
    expect(titled.ok).toBe(true);
    expect(fs.existsSync("/tmp/writer-s10-escape")).toBe(false);
    expect(ada.walled!.outside()).toEqual([]);

    // 5. The sync socket: every hostile frame closes that socket (with a reason), nothing more.
    const ok = { type: "join", senderId: "mallory-page", peerMetadata: {}, supportedProtocolVersions: ["1"] };
    const hostile: [string, (number[] | string)[]][] = [
      ["CBOR null", [[0xf6]]],
      ["not CBOR", [[0xff, 0x00, 0x13, 0x37]]],
      ["a text frame", ["hello"]],
      ["an empty frame", [[]]],
      ["a join with versions of the wrong type", [bytes({ ...ok, supportedProtocolVersions: 5 })]],
      ["a join with an unknown protocol version", [bytes({ ...ok, supportedProtocolVersions: ["99"] })]],
      ["a join with a peer ID that is not a string", [bytes({ ...ok, senderId: { toString: 1 } })]],
      ["a join with a huge peer ID", [bytes({ ...ok, senderId: "p".repeat(100_000) })]],
      ["a sync message before any join", [bytes({ type: "sync", senderId: "x", targetId: "y", documentId: "4NMNnkMhL8jXrdJ9jamS58PAVdXu", data: new Uint8Array([1]) })]],
      ["a message of an unknown type", [bytes(ok), bytes({ type: "rm -rf", senderId: "mallory-page", targetId: "host" })]],
      ["a second join", [bytes(ok), bytes({ ...ok, senderId: "someone-else" })]],
      ["a traversal document ID", [bytes(ok), bytes({ type: "request", senderId: "mallory-page", targetId: "?", documentId: "../../../etc/passwd", data: new Uint8Array([0x42]) })]],
      ["a __proto__ document ID", [bytes(ok), bytes({ type: "request", senderId: "mallory-page", targetId: "?", documentId: "__proto__", data: new Uint8Array([0x42]) })]],
    ];
    for (const [label, frames] of hostile) {
      const result = await syncSocketFromPage(page, frames);
      expect(result.opened, label).toBe(true);
      expect(result.code, `${label}: ${result.reason}`).toBeGreaterThanOrEqual(4000);
      expect(result.code, label).toBeLessThan(5000);
    }
    // A sync message that is not an Automerge sync message, for a real document, from a peer that joined properly.
    const documentId = (await ada.library.openDocument())!.slice("automerge:".length);
    const peerMessage = (await page.evaluate(
      (join) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://${location.host}/sync?token=${sessionStorage.getItem("writer-shell-token") ?? ""}`);
          ws.binaryType = "arraybuffer";
          ws.onopen = () => ws.send(new Uint8Array(join));
          ws.onmessage = (e) => {
            ws.close();
            resolve(btoa(String.fromCharCode(...new Uint8Array(e.data as ArrayBuffer))));
          };
        }),
      bytes({ ...ok, senderId: "mallory-peer-probe" }),
    )) as string;
    const hostPeerId = String((cbor.decode(Buffer.from(peerMessage, "base64")) as { senderId: string }).senderId);
    const notSync = new Uint8Array([0x42, 0x00, 0xff, 0x13, 0x37]);
    expect(() => A.decodeSyncMessage(notSync)).toThrow();
    const bad = await syncSocketFromPage(page, [
      bytes({ ...ok, senderId: "mallory-sync" }),
      bytes({ type: "sync", senderId: "mallory-sync", targetId: hostPeerId, documentId, data: notSync }),
    ]);
    expect(bad.code, bad.reason).toBe(4002);
    const impostor = await syncSocketFromPage(page, [bytes({ ...ok, senderId: hostPeerId })]);
    expect(impostor.code, impostor.reason).toBeGreaterThanOrEqual(4000);

    // The host is still up and still the writer's: the page reloads, the text is there, typing saves.
    await page.reload();
    await ada.library.sidebar.waitFor();
    const again = await ada.library.open("Moby-Dick");
    await expect.poll(() => again.text.innerText()).toContain("Call me Ishmael.");
    await again.focusEnd();
    await again.type(" Some years ago.");
    await expect.poll(() => again.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");

    // 6. Another origin (another port on 127.0.0.1: a cookie would go along; there is none) gets nothing.
    const elsewhere = await otherServer();
    const other = await ada.context.newPage();
    await other.goto(`${elsewhere.origin}/`);
    const crossOrigin = await other.evaluate(async (shell) => {
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${shell.host}/sync`);
        ws.onopen = () => resolve("opened");
        ws.onerror = () => resolve("refused");
        setTimeout(() => resolve("timeout"), 5000);
      });
      // A "simple" request (no preflight): the browser sends it; the host must refuse it.
      const post = await fetch(`${shell.origin}/api`, { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ method: "createDocument", title: "made from elsewhere" }) })
        .then((r) => r.type)
        .catch(() => "refused");
      const read = await fetch(`${shell.origin}/api`, { method: "POST", body: JSON.stringify({ method: "getSettings" }) })
        .then((r) => r.text())
        .catch(() => "refused");
      return { socket, post, read };
    }, { host: new URL(ada.shell.origin).host, origin: ada.shell.origin });
    await other.close();
    expect(crossOrigin.socket).toBe("refused");
    expect(crossOrigin.read).toBe("refused");
    const titles = JSON.parse((await postFromPage(page, JSON.stringify({ method: "search", query: "made from elsewhere" }))).body) as { value: unknown[] };
    expect(titles.value).toEqual([]);
    expect(await ada.library.titles()).not.toContain("made from elsewhere");
    // The other origin got no cookie to replay (none is set), and the sync socket wants
    // the token from the shell's own page: without it, or from another origin, refused.
    expect(elsewhere.seen.some((h) => /writer/i.test(h.cookie ?? ""))).toBe(false);
    const syncUrl = `ws://127.0.0.1:${ada.port}/sync`;
    expect(await upgradeStatus(syncUrl, { Origin: ada.shell.origin })).toBe(401);
    expect(await upgradeStatus(`${syncUrl}?token=guess`, { Origin: ada.shell.origin })).toBe(401);
    expect(await upgradeStatus(`${syncUrl}?token=${ada.token}`, { Origin: elsewhere.origin })).toBe(401);
    expect(await upgradeStatus(`${syncUrl}?token=${ada.token}`)).toBe(401);
    expect(await upgradeStatus(`${syncUrl}?token=${ada.token}`, { Origin: ada.shell.origin })).toBe(101);

    // Nothing was written outside the data directory (not beside it, not six levels up,
    // not in /etc), and the host never went down.
    expect(ada.walled!.outside()).toEqual([]);
    const now = fs.statSync("/etc/passwd");
    expect([now.size, now.mtimeMs]).toEqual([passwd.size, passwd.mtimeMs]);
    expect(ada.shell.output.join("")).not.toMatch(/TypeError|Uncaught|exited/);
  });
});
