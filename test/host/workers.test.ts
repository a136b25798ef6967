// The host's document worker (issue 6): a long document is loaded, synced and saved in a
// worker thread, and everything the host does with it (the library entry, the render
// cache, "Saved", search, rename, duplicate, delete, the relay status) still works. The
// window is a real Repo on a real MessageChannel, as the renderer's; the worker is the
// real thread (src/host/workers/start.mjs), on the real data directory.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { MessageChannel } from "node:worker_threads";
import { next as A } from "@automerge/automerge";
import { Repo, type AutomergeUrl, type DocumentId, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readyWhenPeered } from "../../src/shared/sync/readyWhenPeered";
import { Host } from "../../src/host/Host";
import { documentSizeOnDisk } from "../../src/node/storage";
import { plainRelay } from "../support/plainRelay";
import type { SearchHit } from "../../src/shared/api";
import { initDocument, plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { eventually } from "../support/wait";

const logger = pino({ level: "silent" });
type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];

/** Small enough that the test's document is "long", large enough that a new one is not. */
const THRESHOLD = 2 * 1024;

let dataDir: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "writer-workers-test-"));
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await fs.rm(dataDir, { recursive: true, force: true });
});

async function start(thresholdBytes = THRESHOLD): Promise<Host> {
  const host = await Host.open({ dataDir, logger, documentWorkers: { thresholdBytes } });
  cleanups.push(() => host.close());
  return host;
}

/** A window of the host, connected as the renderer connects one. */
function windowOf(host: Host, name: string): Repo {
  const { port1, port2 } = new MessageChannel();
  host.connect(new MessageChannelNetworkAdapter(port1 as unknown as Port));
  const window = new Repo({ network: [readyWhenPeered(new MessageChannelNetworkAdapter(port2 as unknown as Port))], peerId: name as PeerId });
  cleanups.push(() => window.shutdown());
  return window;
}

async function call<T>(host: Host, request: Record<string, unknown>): Promise<T> {
  const response = await host.handle(request);
  if (!response.ok) throw new Error(`${String(request.method)} failed: ${response.error.code} ${response.error.message}`);
  return response.value as T;
}

const idOf = (url: string) => url.slice("automerge:".length) as DocumentId;

/** A document with a history long enough for the worker: a paragraph typed a few words per change. */
async function writeLongDocument(): Promise<{ url: string; text: string }> {
  const host = await start();
  const { url } = await call<{ url: string }>(host, { method: "createDocument", title: "Moby-Dick" });
  const window = windowOf(host, "writer-window");
  const handle = await window.find<WriterDocument>(url as AutomergeUrl);
  let text = "";
  for (let i = 0; i < 1500; i++) {
    // Words that do not repeat, or Automerge's compression would make the history short.
    const word = `${((i * 7919) % 10007).toString(36)} `;
    handle.change((d) => A.splice(d, TEXT_PATH, 1 + text.length, 0, word));
    text += word;
  }
  await eventually(async () => (await call<{ saved: boolean }>(host, { method: "confirmSaved", url, heads: A.getHeads(handle.doc()) })).saved, 10_000, 20);
  await host.close();
  cleanups.length = 0;
  return { url, text };
}

describe("the host's document worker", () => {
  it("loads, edits and saves a long document off the main thread, with everything the host does to it", async () => {
    const { url, text } = await writeLongDocument();
    const id = idOf(url);
    expect(await documentSizeOnDisk(path.join(dataDir, "documents"), id)).toBeGreaterThanOrEqual(THRESHOLD);

    let host = await start();
    const window = windowOf(host, "writer-window-2");
    const handle = await window.find<WriterDocument>(url as AutomergeUrl);
    expect(plainText(handle.doc())).toBe(text);
    // Held in the worker: the main thread's Repo never loaded it.
    expect(host.repo.handles[id]).toBeUndefined();

    // Typing in the window reaches the worker, its disk, and "Saved on this computer".
    handle.change((d) => A.splice(d, TEXT_PATH, 1, 0, "CHAPTER 1. Loomings. "));
    const heads = A.getHeads(handle.doc());
    await eventually(async () => (await call<{ saved: boolean }>(host, { method: "confirmSaved", url, heads })).saved, 10_000, 20);
    expect(host.repo.handles[id]).toBeUndefined();

    // The library entry and the render cache follow it, taken in the worker.
    await eventually(async () => host.library.entries()[id]?.snippet.startsWith("CHAPTER 1. Loomings.") === true, 10_000, 50);
    expect(host.library.entries()[id]?.words).toBe(text.trim().split(/\s+/).length + 3);
    await eventually(async () => JSON.stringify((await call<{ heads: string[] }>(host, { method: "renderCache", url })).heads) === JSON.stringify(heads), 10_000, 50);

    // Rename, search, sync status: answered from the worker.
    await call(host, { method: "renameDocument", url, title: "Moby-Dick; or, The Whale" });
    await eventually(async () => handle.doc().title === "Moby-Dick; or, The Whale", 10_000, 20);
    const hits = await call<SearchHit[]>(host, { method: "search", query: "loomings" });
    expect(hits.map((h) => h.url)).toEqual([url]);
    expect(hits[0]!.context).toContain("Loomings");
    expect(await call(host, { method: "syncStatus", url })).toMatchObject({ connection: "off" });

    // Duplicate: the copy is made in the worker, with the whole history, and lives there.
    const { url: copy } = await call<{ url: string }>(host, { method: "duplicateDocument", url });
    const copied = await windowOf(host, "writer-window-3").find<WriterDocument>(copy as AutomergeUrl);
    expect(plainText(copied.doc())).toBe(plainText(handle.doc()));
    expect(copied.doc().title).toBe("Moby-Dick; or, The Whale (copy)");
    expect(host.repo.handles[idOf(copy)]).toBeUndefined();

    // Everything is on disk after a restart.
    await host.close();
    host = await start(Number.MAX_SAFE_INTEGER);
    const reread = await host.repo.find<WriterDocument>(url as AutomergeUrl);
    expect(plainText(reread.doc())).toBe(`CHAPTER 1. Loomings. ${text}`);
    expect(reread.doc().title).toBe("Moby-Dick; or, The Whale");
    expect(plainText((await host.repo.find<WriterDocument>(copy as AutomergeUrl)).doc())).toBe(`CHAPTER 1. Loomings. ${text}`);
  });

  it("deletes a long document for good from the worker and the disk", async () => {
    const { url } = await writeLongDocument();
    const id = idOf(url);
    let host = await start();
    // Loaded in the worker, and still open in a window: neither a save the worker had
    // scheduled nor the window's sync may write it back (TrackedStorage.forget).
    await windowOf(host, "writer-window-2").find<WriterDocument>(url as AutomergeUrl);
    await call(host, { method: "trashDocument", url });
    await call(host, { method: "deleteForever", url });
    await host.close();
    expect(await documentSizeOnDisk(path.join(dataDir, "documents"), id)).toBe(0);
    host = await start();
    expect(await call(host, { method: "savedDocument", url })).toBeNull();
  });

  it("imports a long backup into the worker, and refuses what is not one", async () => {
    let doc = A.change(A.init<WriterDocument>(), (d) => initDocument(d, "Backup", 0));
    let text = "";
    for (let i = 0; i < 1500; i++) {
      const word = `${((i * 7919) % 10007).toString(36)} `;
      doc = A.change(doc, (d) => A.splice(d, TEXT_PATH, 1 + text.length, 0, word));
      text += word;
    }
    const bytes = A.save(doc);
    expect(bytes.byteLength).toBeGreaterThanOrEqual(THRESHOLD);
    const host = await start();
    const { url, title } = await call<{ url: string; title: string }>(host, { method: "importBackup", data: Buffer.from(bytes).toString("base64") });
    expect(title).toBe("Backup");
    expect(host.library.entries()[idOf(url)]).toMatchObject({ title: "Backup", words: 1500 });
    const handle = await windowOf(host, "writer-window").find<WriterDocument>(url as AutomergeUrl);
    expect(plainText(handle.doc())).toBe(text);
    expect(A.getHeads(handle.doc())).toEqual(A.getHeads(doc));
    expect(host.repo.handles[idOf(url)]).toBeUndefined();
    const refused = await host.handle({ method: "importBackup", data: Buffer.from(A.save(A.from({ hello: "x".repeat(THRESHOLD) }))).toString("base64") });
    expect(refused).toMatchObject({ ok: false, error: { code: "invalid-request", message: expect.stringMatching(/not a Writer document/) } });
  });

  it("takes a document it does not have yet, from a relay, in the worker: its length is not known", async () => {
    const relay = await plainRelay("t");
    cleanups.push(() => relay.close());
    const ada = await Host.open({ dataDir: await fs.mkdtemp(path.join(os.tmpdir(), "writer-workers-ada-")), logger, documentWorkers: { thresholdBytes: THRESHOLD } });
    cleanups.push(() => ada.close());
    const bob = await start();
    for (const h of [ada, bob]) await call(h, { method: "addRelay", name: "Team", url: relay.url, token: "t" });
    const { url } = await call<{ url: string }>(ada, { method: "createDocument", title: "Shared" });
    const adaWindow = await windowOf(ada, "ada-window").find<WriterDocument>(url as AutomergeUrl);
    adaWindow.change((d) => A.splice(d, TEXT_PATH, 1, 0, "from ada"));
    await eventually(async () => (await call<{ document: string }>(ada, { method: "syncStatus", url })).document === "on-relay", 10_000, 20);

    await call(bob, { method: "openSharedDocument", url });
    await eventually(async () => bob.library.entries()[idOf(url)]?.title === "Shared", 10_000, 20);
    const bobWindow = await windowOf(bob, "bob-window").find<WriterDocument>(url as AutomergeUrl);
    expect(plainText(bobWindow.doc())).toBe("from ada");
    expect(bob.repo.handles[idOf(url)]).toBeUndefined();
    // Both ways, through the worker.
    bobWindow.change((d) => A.splice(d, TEXT_PATH, 1, 0, "bob and "));
    await eventually(async () => plainText(adaWindow.doc()) === "bob and from ada", 10_000, 20);
    await eventually(async () => (await call<{ document: string }>(bob, { method: "syncStatus", url })).document === "on-relay", 10_000, 20);
  });

  it("keeps working on the main thread when its worker cannot start", async () => {
    const { url, text } = await writeLongDocument();
    const logged: string[] = [];
    const broken = pino({ level: "error" }, { write: (line: string) => void logged.push(line) });
    const host = await Host.open({ dataDir, logger: broken, documentWorkers: { thresholdBytes: THRESHOLD, worker: new URL("file:///nonexistent/documentWorker.js") } });
    cleanups.push(() => host.close());
    // The worker starts when the long document first needs it, fails, and the document
    // (with the window's request that was waiting for the worker) goes to the main thread.
    const handle = await windowOf(host, "writer-window").find<WriterDocument>(url as AutomergeUrl);
    expect(logged.some((l) => l.includes("could not start"))).toBe(true);
    expect(plainText(handle.doc())).toBe(text);
    expect(host.repo.handles[idOf(url)]?.isReady()).toBe(true);
    handle.change((d) => A.splice(d, TEXT_PATH, 1, 0, "Still saved. "));
    const heads = A.getHeads(handle.doc());
    await eventually(async () => (await call<{ saved: boolean }>(host, { method: "confirmSaved", url, heads })).saved, 10_000, 20);
    expect(await call(host, { method: "syncStatus", url })).toMatchObject({ connection: "off" });
  });

  it("keeps short documents on the main thread, and starts no worker for them", async () => {
    const host = await start();
    const { url } = await call<{ url: string }>(host, { method: "createDocument", title: "Note" });
    await call(host, { method: "setLastOpened", url });
    await host.close();
    cleanups.length = 0;
    const again = await start();
    const handle = await windowOf(again, "writer-window").find<WriterDocument>(url as AutomergeUrl);
    expect(handle.doc().title).toBe("Note");
    expect(again.repo.handles[idOf(url)]?.isReady()).toBe(true);
    expect(again.documentWorkerStarted).toBe(false);
  });

  it("starts the worker as it opens when the document the window reopens is long, and only when a long one is needed otherwise", async () => {
    const { url } = await writeLongDocument();
    let host = await start();
    expect(host.documentWorkerStarted).toBe(false);
    await windowOf(host, "writer-window").find<WriterDocument>(url as AutomergeUrl);
    expect(host.documentWorkerStarted).toBe(true);
    await call(host, { method: "setLastOpened", url });
    await host.close();
    cleanups.length = 0;
    host = await start();
    expect(host.documentWorkerStarted).toBe(true);
  });
});
