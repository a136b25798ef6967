/**
 * One side of bench/trace-replay, in a process of its own so that its peak memory is its
 * own. Prints one JSON line (`Replayed`) and exits.
 *
 *   tsx bench/trace-replay/replay.ts app|editor|bare EDITS OUT_DIR
 *
 * app:  a real Host (src/host) on a fresh data directory in OUT_DIR, a document created
 *       through the host API, and a window (bench/common/window.ts: ProseMirror, Writer's
 *       sync plugin and its grouping, a Repo in memory, the change broadcast) typing the
 *       edits into it. After each change the window commits, the event loop is let run
 *       (setImmediate) so that sync, the broadcast and the host's saves go on while the
 *       replay does; the clock stops once the host confirms every change on its disk.
 *       Then the host is closed, its data directory measured, and opened again: a window's
 *       open (Host.open, `savedDocument`, Automerge.load of it, as the renderer does).
 * editor: the window alone (EditorWindow.detached): ProseMirror, the sync plugin and a Repo
 *       in memory, no host, no sync, no disk: the editor's share of the app's time.
 * bare: @automerge/automerge alone: the same document shape, one A.change with A.splice
 *       per edit, A.save once to a file; then A.load of that file.
 */
import fs from "node:fs";
import path from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import pino from "pino";
import { next as A } from "@automerge/automerge";
import { Host } from "../../src/host/Host";
import { initDocument, plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { dirBytes, peakRss, rss } from "../common/proc";
import { loadTrace, writerSchedule } from "../common/trace";
import { createDocument, EditorWindow, untilSaved } from "../common/window";

export interface Replayed {
  mode: "app" | "editor" | "bare";
  edits: number;
  /** Start of the replay to everything on disk (app: the host confirms; bare: A.save written). */
  replayMs: number;
  /** Of which, for bare, the one A.save and its write. */
  saveMs: number;
  /** Cumulative replay time at checkpoints: [edits, ms]. */
  progress: [number, number][];
  /** Automerge changes in the document. */
  changes: number;
  rssStart: number;
  peakRss: number;
  heapUsed: number;
  external: number;
  /** Bytes on disk at the end (app: every file of the data directory). */
  diskBytes: number;
  diskFiles: number;
  diskByEntry: Record<string, number>;
  /** The document's own chunk files (app), or the A.save file (bare). */
  documentBytes: number;
  /** Opening it again: app, Host.open + savedDocument + A.load; bare, A.load of the file. */
  loadMs: number;
  hostOpenMs?: number;
  textMatches: boolean;
}

const [mode, editsArg, outArg] = process.argv.slice(2);
if ((mode !== "app" && mode !== "editor" && mode !== "bare") || !editsArg || !outArg) throw new Error("usage: replay.ts app|editor|bare EDITS OUT_DIR");
const outDir = outArg;
const { edits, text: expected } = loadTrace(undefined, Number(editsArg));
const at = writerSchedule(edits);
const checkpointEvery = Math.max(1000, Math.ceil(edits.length / 20));
const silent = pino({ level: "silent" });
fs.mkdirSync(outDir, { recursive: true });

function documentFiles(dataDir: string, documentId: string): number {
  const dir = path.join(dataDir, "documents");
  let total = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (full.includes(documentId)) total += fs.statSync(full).size;
    }
  };
  walk(dir);
  return total;
}

async function app(): Promise<Replayed> {
  const dataDir = path.join(outDir, "data");
  const host = await Host.open({ dataDir, logger: silent });
  const url = await createDocument(host, "A Conflict-Free Replicated JSON Datatype");
  const window = await EditorWindow.open(host, url);
  await untilSaved(host, url, window.heads());
  const rssStart = rss();
  const progress: [number, number][] = [];
  const start = performance.now();
  let commits = window.commits;
  for (let i = 0; i < edits.length; i++) {
    window.type(edits[i]!, at[i]!);
    // A new change: let it travel (sync, broadcast, the host's save) as the app would.
    if (window.commits !== commits) {
      commits = window.commits;
      await yieldToLoop();
    }
    if ((i + 1) % checkpointEvery === 0 || i + 1 === edits.length) progress.push([i + 1, performance.now() - start]);
  }
  window.flush();
  await untilSaved(host, url, window.heads(), 600_000);
  const replayMs = performance.now() - start;
  progress[progress.length - 1] = [edits.length, replayMs];
  const peak = peakRss();
  const memory = process.memoryUsage();
  const changes = A.getAllChanges(window.handle.doc()).length;
  const textMatches = window.state.doc.textContent === expected && plainText(window.handle.doc()) === expected;
  await window.close();
  await host.close();
  const disk = dirBytes(dataDir);
  const documentBytes = documentFiles(dataDir, url.slice("automerge:".length));

  // A window opening it again: the host starts, the window asks for the saved copy and loads it.
  const t0 = performance.now();
  const again = await Host.open({ dataDir, logger: silent });
  const hostOpenMs = performance.now() - t0;
  const saved = await again.handle({ method: "savedDocument", url });
  if (!saved.ok || !saved.value) throw new Error("no saved copy after reopening");
  const loaded = A.load<WriterDocument>(Buffer.from((saved.value as { base64: string }).base64, "base64"));
  const loadMs = performance.now() - t0;
  if (plainText(loaded) !== expected) throw new Error("the reopened document's text differs from the trace's");
  await again.close();
  return { mode: "app", edits: edits.length, replayMs, saveMs: 0, progress, changes, rssStart, peakRss: peak, heapUsed: memory.heapUsed, external: memory.external, diskBytes: disk.total, diskFiles: disk.files, diskByEntry: disk.byEntry, documentBytes, loadMs, hostOpenMs, textMatches };
}

/** The window alone: the editor, the binding and a Repo in memory, no host, nothing on disk. */
async function editorOnly(): Promise<Replayed> {
  const window = EditorWindow.detached("A Conflict-Free Replicated JSON Datatype");
  const rssStart = rss();
  const progress: [number, number][] = [];
  const start = performance.now();
  for (let i = 0; i < edits.length; i++) {
    window.type(edits[i]!, at[i]!);
    if ((i + 1) % checkpointEvery === 0) progress.push([i + 1, performance.now() - start]);
  }
  window.flush();
  const replayMs = performance.now() - start;
  if (progress.at(-1)?.[0] !== edits.length) progress.push([edits.length, replayMs]);
  const peak = peakRss();
  const memory = process.memoryUsage();
  const doc = window.handle.doc();
  const saved = A.save(doc);
  return { mode: "editor", edits: edits.length, replayMs, saveMs: 0, progress, changes: A.getAllChanges(doc).length, rssStart, peakRss: peak, heapUsed: memory.heapUsed, external: memory.external, diskBytes: 0, diskFiles: 0, diskByEntry: {}, documentBytes: saved.length, loadMs: NaN, textMatches: window.state.doc.textContent === expected && plainText(doc) === expected };
}

function bare(): Replayed {
  const file = path.join(outDir, "bare.automerge");
  const rssStart = rss();
  const progress: [number, number][] = [];
  const start = performance.now();
  let doc = A.change(A.init<WriterDocument>(), (d) => initDocument(d, "A Conflict-Free Replicated JSON Datatype", 0));
  for (let i = 0; i < edits.length; i++) {
    const e = edits[i]!;
    doc = A.change(doc, (d) => A.splice(d, TEXT_PATH, 1 + e.pos, e.del, e.ins));
    if ((i + 1) % checkpointEvery === 0) progress.push([i + 1, performance.now() - start]);
  }
  const beforeSave = performance.now();
  const bytes = A.save(doc);
  const fd = fs.openSync(file, "w");
  fs.writeSync(fd, bytes);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const replayMs = performance.now() - start;
  const saveMs = performance.now() - beforeSave;
  if (progress.at(-1)?.[0] !== edits.length) progress.push([edits.length, replayMs]);
  const peak = peakRss();
  const memory = process.memoryUsage();
  const changes = A.getAllChanges(doc).length;
  const textMatches = plainText(doc) === expected;
  const t0 = performance.now();
  const loaded = A.load<WriterDocument>(fs.readFileSync(file));
  const loadMs = performance.now() - t0;
  if (plainText(loaded) !== expected) throw new Error("the loaded document's text differs from the trace's");
  return { mode: "bare", edits: edits.length, replayMs, saveMs, progress, changes, rssStart, peakRss: peak, heapUsed: memory.heapUsed, external: memory.external, diskBytes: bytes.length, diskFiles: 1, diskByEntry: { "bare.automerge": bytes.length }, documentBytes: bytes.length, loadMs, textMatches };
}

const result = mode === "app" ? await app() : mode === "editor" ? await editorOnly() : bare();
console.log(JSON.stringify(result));
process.exit(0);
