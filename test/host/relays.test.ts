import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { next as A } from "@automerge/automerge";
import { generateAutomergeUrl, Repo, type AutomergeUrl, type DocumentId, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Host, type HostOptions } from "../../src/host/Host";
import type { RelayChange } from "../../src/host/RelaySettings";
import type { SettingsView, SyncStatus } from "../../src/shared/api";
import { TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { plainRelay, type PlainRelay } from "../support/plainRelay";
import { eventually } from "../support/wait";
import { readyWhenPeered } from "../../src/shared/sync/readyWhenPeered";

const logger = pino({ level: "silent" });
/**
 * How long to wait for a connection or a sync to happen. None of these waits measures
 * speed; each is only a bound, generous for two hosts, their document workers and other
 * suites sharing a busy 2-core machine.
 */
const SYNC_WAIT_MS = 15_000;
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function host(name: string, options: Pick<HostOptions, "confirmRelay"> = {}): Promise<Host> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `writer-relays-${name}-`));
  const h = await Host.open({ dataDir, logger, user: { name }, ...options });
  cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  cleanups.push(() => h.close());
  return h;
}

async function relay(token: string): Promise<PlainRelay> {
  const r = await plainRelay(token);
  cleanups.push(() => r.close());
  return r;
}

async function call<T>(h: Host, request: Record<string, unknown>): Promise<T> {
  const response = await h.handle(request);
  if (!response.ok) throw new Error(`${String(request.method)} failed: ${response.error.code} ${response.error.message}`);
  return response.value as T;
}

const status = (h: Host, url: string | null = null) => call<SyncStatus>(h, { method: "syncStatus", url });

type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];
const windows = new Map<Host, Repo>();

/**
 * A window of the host, as the renderer connects one: documents are edited and read
 * there, never in the host's Repo directly (a long document is not in it, but in the
 * host's document worker; `npm test` runs this file again with every
 * document there).
 */
function windowOf(h: Host): Repo {
  let window = windows.get(h);
  if (!window) {
    const { port1, port2 } = new MessageChannel();
    h.connect(new MessageChannelNetworkAdapter(port1 as unknown as Port));
    window = new Repo({ network: [readyWhenPeered(new MessageChannelNetworkAdapter(port2 as unknown as Port))], peerId: `window-${windows.size}` as PeerId });
    windows.set(h, window);
    const opened = window;
    cleanups.push(async () => {
      windows.delete(h);
      await opened.shutdown();
    });
  }
  return window;
}

async function type(h: Host, url: string, text: string): Promise<void> {
  const handle = await windowOf(h).find<WriterDocument>(url as AutomergeUrl);
  handle.change((d) => A.splice(d, TEXT_PATH, A.spans(d, TEXT_PATH).length > 0 ? 1 : 0, 0, text));
}

async function textOf(h: Host, url: string): Promise<string> {
  const handle = await windowOf(h).find<WriterDocument>(url as AutomergeUrl);
  return handle.doc().text;
}

describe("syncing through relays", () => {
  it("drops a relay's token when its address changes without a new one, so the token never goes to another server", async () => {
    const a = await host("ada");
    const { id } = await call<{ id: string }>(a, { method: "addRelay", name: "Team", url: "ws://127.0.0.1:9/", token: "s3cret-token-value" });
    await call(a, { method: "updateRelay", id, name: "Renamed" });
    expect((await call<SettingsView>(a, { method: "getSettings" })).relays[0]).toMatchObject({ name: "Renamed", hasToken: true });
    await call(a, { method: "updateRelay", id, url: "ws://127.0.0.1:10/" });
    expect((await call<SettingsView>(a, { method: "getSettings" })).relays[0]).toMatchObject({ url: "ws://127.0.0.1:10/", hasToken: false });
    await call(a, { method: "updateRelay", id, url: "ws://127.0.0.1:11/", token: "another-token" });
    expect((await call<SettingsView>(a, { method: "getSettings" })).relays[0]).toMatchObject({ url: "ws://127.0.0.1:11/", hasToken: true });
  });

  it("adds a relay, or moves one to another address, only once the writer confirms it outside the page", async () => {
    const asked: RelayChange[] = [];
    let answer = false;
    const a = await host("ada", { confirmRelay: async (change) => (asked.push(change), answer) });
    // What the page says where the app asks for itself: nothing about trusting the page.
    expect((await call<SettingsView>(a, { method: "getSettings" })).relayTrust).toBeNull();
    const refused = await a.handle({ method: "addRelay", name: "Elsewhere", url: "ws://127.0.0.1:9/", token: "s3cret-token-value" });
    expect(refused).toEqual({ ok: false, error: { code: "not-confirmed", message: "Elsewhere was not added: you did not confirm it." } });
    expect(asked).toEqual([{ kind: "add", name: "Elsewhere", url: "ws://127.0.0.1:9/", documents: 0 }]);
    const settings = await call<SettingsView>(a, { method: "getSettings" });
    expect(settings.relays).toEqual([]);
    expect(await fs.readFile(path.join(a.dataDir, "secrets.json"), "utf8").catch(() => "")).not.toContain("s3cret");

    answer = true;
    await call(a, { method: "createDocument", title: "Mine" });
    const { id } = await call<{ id: string }>(a, { method: "addRelay", name: "Team", url: "ws://127.0.0.1:9/", token: "s3cret-token-value" });
    expect(asked[1]).toEqual({ kind: "add", name: "Team", url: "ws://127.0.0.1:9/", documents: 1 });
    // A new name or token sends nothing anywhere new: not asked. A new address is.
    await call(a, { method: "updateRelay", id, name: "Renamed", token: "another-token" });
    expect(asked).toHaveLength(2);
    answer = false;
    const moved = await a.handle({ method: "updateRelay", id, url: "ws://127.0.0.1:10/" });
    expect(moved).toMatchObject({ ok: false, error: { code: "not-confirmed" } });
    expect(asked[2]).toEqual({ kind: "move", name: "Renamed", url: "ws://127.0.0.1:10/", previousUrl: "ws://127.0.0.1:9/", documents: 1 });
    expect((await call<SettingsView>(a, { method: "getSettings" })).relays[0]).toMatchObject({ url: "ws://127.0.0.1:9/", hasToken: true });
  });

  it("says in the browser shell (no confirmation outside the page) that the page is trusted", async () => {
    const a = await host("ada");
    expect((await call<SettingsView>(a, { method: "getSettings" })).relayTrust).toMatch(/^In the browser shell this page is trusted/);
  });

  it("keeps the token out of the settings and out of every answer to the renderer", async () => {
    const r = await relay("s3cret-token-value");
    const a = await host("ada");
    const { id } = await call<{ id: string }>(a, { method: "addRelay", name: "Team", url: r.url, token: "s3cret-token-value" });
    const view = await call<SettingsView>(a, { method: "getSettings" });
    expect(view.relays).toEqual([{ id, name: "Team", url: r.url, hasToken: true }]);
    expect(JSON.stringify(view)).not.toContain("s3cret");
    expect(await fs.readFile(path.join(a.dataDir, "settings.json"), "utf8")).not.toContain("s3cret");
    const secrets = await fs.stat(path.join(a.dataDir, "secrets.json"));
    expect(secrets.mode & 0o077).toBe(0);
    await eventually(async () => (await status(a)).connection === "connected", SYNC_WAIT_MS, 20);
    expect(JSON.stringify(await status(a))).not.toContain("s3cret");
  });

  it("says a document is on the relay only once the relay's heads confirm it", async () => {
    const r = await relay("t0ken");
    const a = await host("ada");
    await call(a, { method: "addRelay", name: "Team", url: r.url, token: "t0ken" });
    await eventually(async () => (await status(a)).connection === "connected", SYNC_WAIT_MS, 20);
    const { url } = await call<{ url: string }>(a, { method: "createDocument", title: "Notes" });
    await type(a, url, "hello");
    await eventually(async () => (await status(a, url)).document === "on-relay", SYNC_WAIT_MS, 20);
    const handle = await a.repo.find<WriterDocument>(url as AutomergeUrl);
    // The relay's copy has what the status claims.
    const relayHandle = r.repo.handles[handle.documentId as DocumentId];
    expect(A.getHeads(relayHandle!.doc() as A.Doc<unknown>)).toEqual(A.getHeads(handle.doc()));
    // The library's own change (the new entry) follows in the host's next sync round.
    await eventually(async () => (await status(a)).pending === 0, SYNC_WAIT_MS, 20);

    // Offline: edits are pending, and say so, until the relay is back.
    await r.close();
    await eventually(async () => (await status(a)).connection !== "connected", SYNC_WAIT_MS, 20);
    await type(a, url, " more");
    expect((await status(a, url)).document).not.toBe("on-relay");
  });

  it("names a refused token, then connects once the writer fixes it", async () => {
    const r = await relay("right");
    const a = await host("ada");
    const { id } = await call<{ id: string }>(a, { method: "addRelay", name: "Team", url: r.url, token: "wrong" });
    await eventually(async () => (await status(a)).error?.code === "unauthorized", SYNC_WAIT_MS, 20);
    expect((await status(a)).error?.message).toMatch(/^Team: .*token/);
    await call(a, { method: "updateRelay", id, token: "right" });
    await eventually(async () => (await status(a)).connection === "connected", SYNC_WAIT_MS, 20);
  });

  it("two hosts co-edit through a relay; a shared link opens on the other", async () => {
    const r = await relay("t");
    const a = await host("ada");
    const b = await host("bob");
    for (const h of [a, b]) await call(h, { method: "addRelay", name: "Team", url: r.url, token: "t" });
    const { url } = await call<{ url: string }>(a, { method: "createDocument", title: "Shared" });
    await type(a, url, "from ada");
    await eventually(async () => (await status(a, url)).document === "on-relay", SYNC_WAIT_MS, 20);
    await call(b, { method: "openSharedDocument", url });
    await eventually(async () => b.library.entries()[url.slice(10)]?.title === "Shared", SYNC_WAIT_MS, 20);
    await type(b, url, "bob and ");
    await eventually(async () => (await textOf(a, url)) === (await textOf(b, url)) && (await textOf(a, url)).includes("bob"), SYNC_WAIT_MS, 20);
  });

  it("links a second device to the same library, keeping what it had", async () => {
    const r = await relay("t");
    const a = await host("ada");
    const b = await host("ada-laptop");
    for (const h of [a, b]) await call(h, { method: "addRelay", name: "Team", url: r.url, token: "t" });
    const { url: onA } = await call<{ url: string }>(a, { method: "createDocument", title: "From the desktop" });
    const { url: onB } = await call<{ url: string }>(b, { method: "createDocument", title: "From the laptop" });
    await eventually(async () => (await status(a)).pending === 0, SYNC_WAIT_MS, 20);
    const libraryA = (await call<SettingsView>(a, { method: "getSettings" })).libraryUrl;
    const linked = await call<{ libraryUrl: string }>(b, { method: "linkLibrary", url: libraryA });
    expect(linked.libraryUrl).toBe(libraryA);
    const titles = (h: Host) => Object.values(h.library.entries()).map((e) => e.title).sort();
    expect(titles(b)).toEqual(["From the desktop", "From the laptop"]);
    await eventually(async () => titles(a).length === 2, SYNC_WAIT_MS, 20);
    expect(titles(a)).toEqual(["From the desktop", "From the laptop"]);
    await eventually(async () => (await textOf(b, onA)) !== undefined && (await textOf(a, onB)) !== undefined, SYNC_WAIT_MS, 20);
    expect((await call<SettingsView>(b, { method: "getSettings" })).libraryUrl).toBe(libraryA);
  });

  it("refuses a library link nobody has, with words for the writer", async () => {
    const a = await host("ada");
    const response = await a.handle({ method: "linkLibrary", url: generateAutomergeUrl() });
    expect(response).toMatchObject({ ok: false, error: { code: "unavailable", message: expect.stringMatching(/could not be found on your relays/) } });
  });

  it("rejects relay addresses with tokens in them and non-websocket schemes", async () => {
    const a = await host("ada");
    for (const url of ["http://example.com", "ws://example.com/?token=abc", "wss://user:pw@example.com", "javascript:alert(1)"]) {
      const response = await a.handle({ method: "addRelay", name: "x", url, token: null });
      expect(response.ok, url).toBe(false);
    }
  });
});

describe("closing with documents that never arrived", () => {
  it("closes cleanly and releases the data directory after a shared link nobody has", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-relays-unavailable-"));
    cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    const a = await Host.open({ dataDir, logger });
    const response = await a.handle({ method: "openSharedDocument", url: "automerge:2GFZ4Bp8yWJ3AomMUaw9LSuhrv5z" });
    expect(response).toMatchObject({ ok: false, error: { code: "invalid-request", message: expect.stringMatching(/damaged or cut short/) } });
    const shared = generateAutomergeUrl();
    await call(a, { method: "openSharedDocument", url: shared });
    // The window asks for it (through the host's Repo); nobody has it.
    await expect(a.repo.find(shared)).rejects.toThrow(/unavailable/i);
    // One document still loading too: neither may keep the host from closing.
    void a.repo.find(generateAutomergeUrl()).catch(() => undefined);
    await a.close();
    const again = await Host.open({ dataDir, logger });
    await again.close();
  });
});
