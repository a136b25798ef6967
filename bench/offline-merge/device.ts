/**
 * One device of bench/offline-merge, a process of its own driven over IPC by run.ts: a real
 * Host on a fresh data directory with a window typing into one document
 * (bench/common/window.ts), offline (no relay in its settings), until run.ts adds the relay.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import path from "node:path";
import pino from "pino";
import { next as A } from "@automerge/automerge";
import type { SyncStatus } from "../../src/shared/api";
import { Host } from "../../src/host/Host";
import { plainText } from "../../src/shared/document";
import { mulberry32 } from "../../test/support/random";
import { dirBytes, peakRss } from "../common/proc";
import { writerSchedule, type Edit } from "../common/trace";
import { createDocument, EditorWindow, untilSaved } from "../common/window";

export type ToDevice =
  | { t: "init"; dataDir: string; relayUrl: string; token: string; share?: { url: string; heads: string[] } }
  | { t: "offline" }
  | { t: "type"; edits: number; seed: number }
  | { t: "connect"; relayUrl: string; token: string; heads: string[] }
  | { t: "close" };
export type FromDevice =
  | { t: "ready"; url: string; heads: string[] }
  | { t: "offline" }
  | { t: "typed"; ms: number; heads: string[]; commits: number; base64: string; chars: number }
  | { t: "merged"; windowMs: number; savedMs: number; cpuMs: number; text: string; changes: number }
  | { t: "closed"; diskBytes: number; diskByEntry: Record<string, number>; documentBytes: number; peakRss: number }
  | { t: "error"; message: string };

const send = (m: FromDevice) => process.send!(m);
let host: Host;
let window: EditorWindow;
let url: string;

/** Typing-like keystrokes at random places of the device's own text: words, and now and then a few backspaces. */
function typingLike(count: number, seed: number, startLength: number): Edit[] {
  const random = mulberry32(seed);
  const words = ["the", "merge", "of", "two", "writers", "who", "were", "offline", "a", "chapter", "and", "then", "she", "said", "nothing", "more", "about", "it", "until", "morning"];
  const edits: Edit[] = [];
  let length = startLength;
  while (edits.length < count) {
    let caret = Math.floor(random() * (length + 1));
    const burst = 10 + Math.floor(random() * 60);
    for (let i = 0; i < burst && edits.length < count; i++) {
      if (caret > 0 && random() < 0.06) {
        edits.push({ pos: caret - 1, del: 1, ins: "" });
        caret--;
        length--;
        continue;
      }
      const word = words[Math.floor(random() * words.length)]!;
      const ch = i % (word.length + 1) === word.length ? " " : word[i % (word.length + 1)]!;
      edits.push({ pos: caret, del: 0, ins: ch });
      caret++;
      length++;
    }
  }
  return edits;
}

let relayId = "";

async function addRelay(relayUrl: string, token: string): Promise<string> {
  const added = await host.handle({ method: "addRelay", name: "Bench", url: relayUrl, token });
  if (!added.ok) throw new Error(added.error.message);
  return (added.value as { id: string }).id;
}

/** The host's connection to its relay, as the sidebar shows it. */
async function connection(): Promise<string> {
  const status = await host.handle({ method: "syncStatus", url: null });
  return status.ok ? (status.value as SyncStatus).connection : "unknown";
}

function sameHeads(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((h, i) => h === [...b].sort()[i]);
}

async function until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function handle(m: ToDevice): Promise<void> {
  if (m.t === "init") {
    host = await Host.open({ dataDir: m.dataDir, logger: pino({ level: "silent" }) });
    if (m.share) {
      relayId = await addRelay(m.relayUrl, m.token);
      // The second device opens the link the first one shared, through the relay.
      const opened = await host.handle({ method: "openSharedDocument", url: m.share.url });
      if (!opened.ok) throw new Error(opened.error.message);
      url = m.share.url;
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          window = await EditorWindow.open(host, url);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const heads = m.share.heads;
      await until(() => sameHeads(window.heads(), heads), 60_000, "the shared document did not arrive");
    } else {
      url = await createDocument(host, "Offline");
      window = await EditorWindow.open(host, url);
      relayId = await addRelay(m.relayUrl, m.token);
    }
    await untilSaved(host, url, window.heads());
    send({ t: "ready", url, heads: window.heads() });
  } else if (m.t === "offline") {
    // The writer takes the relay out of Settings: from now on this device is offline.
    const removed = await host.handle({ method: "removeRelay", id: relayId });
    if (!removed.ok) throw new Error(removed.error.message);
    for (const deadline = Date.now() + 10_000; (await connection()) === "connected"; ) {
      if (Date.now() > deadline) throw new Error("still connected 10 s after the relay was removed");
      await new Promise((r) => setTimeout(r, 20));
    }
    send({ t: "offline" });
  } else if (m.t === "type") {
    const edits = typingLike(m.edits, m.seed, window.state.doc.textContent.length);
    const at = writerSchedule(edits);
    const start = performance.now();
    let commits = window.commits;
    for (let i = 0; i < edits.length; i++) {
      window.type(edits[i]!, at[i]!);
      if (window.commits !== commits) {
        commits = window.commits;
        await yieldToLoop();
      }
    }
    window.flush();
    await untilSaved(host, url, window.heads());
    const doc = window.handle.doc();
    send({ t: "typed", ms: performance.now() - start, heads: A.getHeads(doc), commits: window.commits, base64: Buffer.from(A.save(doc)).toString("base64"), chars: window.state.doc.textContent.length });
  } else if (m.t === "connect") {
    const cpu = process.cpuUsage();
    const start = performance.now();
    relayId = await addRelay(m.relayUrl, m.token);
    // The host's copy may be in its document worker (a document that arrived from a relay
    // goes there): it is asked, as the window asks, whether it has the heads on disk.
    let windowMs = NaN;
    const saved = untilSaved(host, url, m.heads, 300_000).then(() => performance.now() - start);
    await until(() => sameHeads(window.heads(), m.heads), 300_000, "the window did not reach the merged heads");
    windowMs = performance.now() - start;
    const savedMs = await saved;
    const used = process.cpuUsage(cpu);
    const doc = window.handle.doc();
    send({ t: "merged", windowMs, savedMs, cpuMs: (used.user + used.system) / 1000, text: plainText(doc), changes: A.getAllChanges(doc).length });
  } else {
    await window.close();
    await host.close();
    const disk = dirBytes(host.dataDir);
    const id = url.slice("automerge:".length);
    const documentBytes = dirBytes(path.join(host.dataDir, "documents", id.slice(0, 2), id)).total;
    send({ t: "closed", diskBytes: disk.total, diskByEntry: disk.byEntry, documentBytes, peakRss: peakRss() });
    process.exit(0);
  }
}

process.on("message", (m: ToDevice) => {
  handle(m).catch((error: unknown) => {
    send({ t: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  });
});
