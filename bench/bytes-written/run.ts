/**
 * Bytes written (`npm run bench:bytes-written`): what Writer writes to disk while a writer
 * types for an hour, beside the naive design measured in the same run: the whole document
 * rendered as HTML and written as a snapshot every 30 seconds.
 *
 *   npx tsx bench/bytes-written/run.ts [--seconds 3600] [--rate 6] [--pace-ms 30] [--html-every 30]
 *
 * The typing: the first `seconds × rate` edits of the automerge-paper trace (CC BY 4.0;
 * 21,600 by default: inserts, deletions and moves of the caret as the author made them),
 * typed at a steady `rate` keys a second on the writer's clock, by a window as the renderer
 * types (bench/common/window.ts: ProseMirror + Writer's sync plugin, which commits a lone
 * writer's typing once per pause of 500 ms or per second of held typing; a Repo in memory
 * syncing to the host over a MessageChannel), into a real Host (src/host) on a fresh data
 * directory, no relay.
 *
 * Time is compressed: each second of the writer's clock takes `pace-ms` of real time (30 ms:
 * an hour in 108 s). The parts of the host that run on real time were scaled or checked:
 * - the host's save debounce (20 ms, real time) stays as it is: the window commits at most
 *   once a simulated second, and each commit is given its pace to be saved on its own, as
 *   in real time, where commits are 500 ms or more apart: after a second with a commit the
 *   bench waits (up to 2 s) for the document's next chunk file to be written before it goes
 *   on, and prints commits and saves (real time gives one save per commit);
 * - the library refresh (once a second per document, which also rewrites the document's
 *   render cache) is scaled with the clock: `libraryRefreshMs` = `pace-ms`, and so is the
 *   render cache's 30-second rewrite bound (`renderCacheRewriteMs` = 30 × `pace-ms`).
 *
 * Counted: every byte the process hands to the file system under the data directory,
 * caught at the calls Node's fs offers (FileHandle.write/writeFile/writev/appendFile,
 * fs.promises.writeFile/appendFile), by file: the document's chunk files (incremental
 * saves, and snapshots when automerge-repo compacts), the library document's, the render
 * cache, settings. Temp-file-then-rename writes each byte once; renames, unlinks and fsyncs
 * are counted beside. Cross-check: /proc/self/io's wchar (every write call of the process,
 * including its stdout) and write_bytes (what reached the block layer, page by page).
 *
 * Naive design: at every `html-every` seconds of the writer's clock (120 times an hour), the
 * document as the editor holds it, exported with the app's own HTML export
 * (src/renderer/src/convert/html.ts, toHTMLPage, on happy-dom), written whole to a file.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { syncBuiltinESMExports } from "node:module";
import { Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { Window as HappyWindow } from "happy-dom";
import { Host } from "../../src/host/Host";
import { toHTMLPage } from "../../src/renderer/src/convert/html";
import { plainText } from "../../src/shared/document";
import { commitDescription, machineDescription, writeSummary, type Figure, type Series } from "../common/results";
import { dirBytes, fmt, loadAverage, procIo } from "../common/proc";
import { loadTrace, TRACE_ATTRIBUTION } from "../common/trace";
import { createDocument, EditorWindow, untilSaved } from "../common/window";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const options = new Command("bytes-written")
  .option("--seconds <n>", "seconds of typing on the writer's clock", int(30), 3600)
  .option("--rate <n>", "keystrokes a second", int(1), 6)
  .option("--pace-ms <n>", "real milliseconds per second of the writer's clock", int(25), 30)
  .option("--html-every <n>", "seconds between the naive design's HTML snapshots", int(1), 30)
  .parse()
  .opts<{ seconds: number; rate: number; paceMs: number; htmlEvery: number }>();

// ---- Counting what reaches the file system ------------------------------------------------

interface Tally {
  bytes: number;
  writes: number;
}
const tallies = new Map<string, Tally>();
const ops = { fsyncs: 0, renames: 0, unlinks: 0, creates: 0 };
let dataDir = "";
let classify: (file: string) => string | undefined = () => undefined;

function count(file: string | undefined, bytes: number): void {
  if (!file || !dataDir || !path.resolve(file).startsWith(dataDir + path.sep)) return;
  const kind = classify(path.resolve(file)) ?? "other";
  const t = tallies.get(kind) ?? { bytes: 0, writes: 0 };
  t.bytes += bytes;
  t.writes++;
  tallies.set(kind, t);
}
const sizeOf = (data: unknown): number => (typeof data === "string" ? Buffer.byteLength(data) : ArrayBuffer.isView(data) ? data.byteLength : 0);

{
  const paths = new WeakMap<object, string>();
  const open = fsp.open;
  fsp.open = async (file, ...rest) => {
    const handle = await open(file, ...rest);
    paths.set(handle, String(file));
    if (typeof rest[0] === "string" && rest[0].includes("x")) ops.creates++;
    return handle;
  };
  const probe = path.join(os.tmpdir(), `writer-bytes-probe-${process.pid}`);
  const handle = await open(probe, "w");
  const proto = Object.getPrototypeOf(handle) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  await handle.close();
  fs.rmSync(probe);
  for (const name of ["writeFile", "appendFile", "write"] as const) {
    const original = proto[name]!;
    proto[name] = function (this: object, data: unknown, ...rest: unknown[]) {
      count(paths.get(this), sizeOf(data));
      return original.call(this, data, ...rest);
    };
  }
  const writev = proto.writev!;
  proto.writev = function (this: object, buffers: unknown, ...rest: unknown[]) {
    count(paths.get(this), (buffers as ArrayBufferView[]).reduce((n, b) => n + b.byteLength, 0));
    return writev.call(this, buffers, ...rest);
  };
  for (const name of ["sync", "datasync"] as const) {
    const original = proto[name]!;
    proto[name] = function (this: object) {
      if (paths.get(this)?.startsWith(dataDir)) ops.fsyncs++;
      return original.call(this);
    };
  }
  const writeFile = fsp.writeFile;
  fsp.writeFile = (file, data, ...rest) => {
    count(typeof file === "string" ? file : undefined, sizeOf(data));
    return writeFile(file, data, ...rest);
  };
  const appendFile = fsp.appendFile;
  fsp.appendFile = (file, data, ...rest) => {
    count(typeof file === "string" ? file : undefined, sizeOf(data));
    return appendFile(file, data, ...rest);
  };
  const rename = fsp.rename;
  fsp.rename = (from, to) => {
    if (String(to).startsWith(dataDir)) ops.renames++;
    return rename(from, to);
  };
  const unlink = fsp.unlink;
  fsp.unlink = (file) => {
    if (String(file).startsWith(dataDir)) ops.unlinks++;
    return unlink(file);
  };
  syncBuiltinESMExports();
}

// ---- The run ------------------------------------------------------------------------------

const keystrokes = options.seconds * options.rate;
const { edits, total } = loadTrace(undefined, keystrokes);
if (edits.length < keystrokes) throw new Error(`the trace has ${total} edits, fewer than ${keystrokes}`);
const startedAt = new Date();
const loadAtStart = loadAverage();
console.log(`# Bytes written: ${fmt(options.seconds)} s of typing at ${options.rate} keys/s (${fmt(keystrokes)} edits of the automerge-paper trace; ${TRACE_ATTRIBUTION})`);
console.log(`${machineDescription()}, ${startedAt.toISOString()}, load average ${loadAtStart}`);
console.log(`Each second of the writer's clock in ${options.paceMs} ms (${fmt((options.seconds * options.paceMs) / 1000)} s for the whole); HTML snapshot every ${options.htmlEvery} s.\n`);

const root = fs.mkdtempSync(path.join(os.tmpdir(), "writer-bytes-written-"));
dataDir = path.join(root, "data");
const htmlFile = path.join(root, "naive", "document.html");
fs.mkdirSync(path.dirname(htmlFile), { recursive: true });
const happy = new HappyWindow();
const host = await Host.open({ dataDir, logger: pino({ level: "silent" }), libraryRefreshMs: options.paceMs, renderCacheRewriteMs: 30 * options.paceMs });
const url = await createDocument(host, "A Conflict-Free Replicated JSON Datatype");
const documentId = url.slice("automerge:".length);
const libraryId = JSON.parse(fs.readFileSync(path.join(dataDir, "settings.json"), "utf8")).libraryUrl.slice("automerge:".length) as string;
classify = (file) => {
  const rel = path.relative(dataDir, file).split(path.sep);
  if (rel[0] === "documents") {
    const who = rel[2] === documentId ? "document" : rel[2] === libraryId ? "library" : "other document";
    const kind = file.includes("/snapshot/") ? "snapshot (compaction)" : file.includes("/incremental/") ? "incremental" : file.includes("/sync-state/") ? "sync state" : "other";
    return `${who}: ${kind}`;
  }
  if (rel[0] === "render-cache") return "render cache";
  if (rel[0]?.startsWith("settings") || rel[0]?.startsWith("secrets")) return "settings";
  return undefined;
};
const window = await EditorWindow.open(host, url);
await untilSaved(host, url, window.heads());
// From here on: what the hour of typing costs.
tallies.clear();
Object.assign(ops, { fsyncs: 0, renames: 0, unlinks: 0, creates: 0 });
const ioStart = procIo();

const html = { bytes: 0, pages: 0, snapshots: 0, last: 0 };
const points: { app: [number, number][]; html: [number, number][] } = { app: [[0, 0]], html: [[0, 0]] };
const appBytes = () => [...tallies.values()].reduce((n, t) => n + t.bytes, 0);
const saves = () => (tallies.get("document: incremental")?.writes ?? 0) + (tallies.get("document: snapshot (compaction)")?.writes ?? 0);
const interval = 1000 / options.rate;
const wallStart = performance.now();
let lag = 0;
let committed = window.commits;
const startCommits = window.commits;
for (let second = 0; second < options.seconds; second++) {
  for (let k = 0; k < options.rate; k++) {
    const i = second * options.rate + k;
    window.type(edits[i]!, i * interval);
  }
  window.clock.advanceTo((second + 1) * 1000);
  // Each commit saved on its own, as real time (commits 0.5 s or more apart, a 20 ms debounce) does.
  if (window.commits > committed) {
    committed = window.commits;
    const wanted = saves() + 1;
    for (const deadline = performance.now() + 2000; saves() < wanted && performance.now() < deadline; ) await new Promise((r) => setTimeout(r, 1));
  }
  if ((second + 1) % options.htmlEvery === 0) {
    const page = toHTMLPage("A Conflict-Free Replicated JSON Datatype", window.state.doc, happy.document as unknown as Document);
    fs.writeFileSync(htmlFile, page);
    html.bytes += Buffer.byteLength(page);
    html.pages += Math.ceil(Buffer.byteLength(page) / 4096) * 4096;
    html.last = Buffer.byteLength(page);
    html.snapshots++;
    points.html.push([(second + 1) / 60, html.bytes]);
  }
  if ((second + 1) % 60 === 0) points.app.push([(second + 1) / 60, appBytes()]);
  const due = wallStart + (second + 1) * options.paceMs;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  else {
    lag = Math.max(lag, -wait);
    await new Promise((r) => setImmediate(r));
  }
}
window.flush();
await untilSaved(host, url, window.heads());
const wallMs = performance.now() - wallStart;
const commits = window.commits - startCommits;
const savesDuring = saves();
const textLength = plainText(window.handle.doc()).length;
await window.close();
await host.close();
const ioEnd = procIo();
const loadAtEnd = loadAverage();
points.app.push([options.seconds / 60, appBytes()]);
const disk = dirBytes(dataDir);
fs.rmSync(root, { recursive: true, force: true });

const app = appBytes();
console.log(`| what was written (${fmt(options.seconds / 60)} min of typing) | bytes | writes |`);
console.log("|---|---|---|");
for (const [kind, t] of [...tallies].sort((a, b) => b[1].bytes - a[1].bytes)) console.log(`| Writer: ${kind} | ${fmt(t.bytes)} | ${fmt(t.writes)} |`);
console.log(`| **Writer, all** | **${fmt(app)}** | ${fmt([...tallies.values()].reduce((n, t) => n + t.writes, 0))} |`);
console.log(`| **naive: the HTML page every ${options.htmlEvery} s** | **${fmt(html.bytes)}** | ${html.snapshots} |`);
console.log(`\nWriter / naive: ${fmt(app / html.bytes, 2)}x. The last HTML snapshot: ${fmt(html.last)} bytes (${fmt(textLength)} characters of text).`);
console.log(`Writer's data directory at the end: ${fmt(disk.total)} bytes in ${disk.files} files.`);
console.log(`Commits by the editor: ${fmt(commits)}; saves of the document (chunk files written): ${fmt(savesDuring)} (real time gives one per commit).`);
console.log(`fsyncs ${fmt(ops.fsyncs)}, files created ${fmt(ops.creates)}, renames ${fmt(ops.renames)}, unlinks ${fmt(ops.unlinks)}.`);
console.log(`Cross-check, /proc/self/io over the run: wchar ${fmt(ioEnd.wchar - ioStart.wchar)} bytes (every write call, the bench's output and the HTML snapshots included), write_bytes ${fmt(ioEnd.writeBytes - ioStart.writeBytes)} (pages dirtied for the block layer, 4 KB each, the HTML snapshots' ${fmt(html.pages)} included).`);
console.log(`Real time ${fmt(wallMs / 1000, 1)} s (${fmt(options.seconds * options.paceMs / 1000)} s planned; the most the loop fell behind: ${fmt(lag)} ms). Load average at the start ${loadAtStart}, at the end ${loadAtEnd}.`);

const naive = (value: number) => ({ name: `naive: whole document as HTML every ${options.htmlEvery} s`, value });
const figures: Figure[] = [
  { name: `bytes written in ${fmt(options.seconds / 60)} min of typing (${fmt(keystrokes)} keystrokes)`, value: app, unit: "bytes", baseline: naive(html.bytes) },
  { name: "bytes written per keystroke", value: Math.round(app / keystrokes), unit: "bytes", baseline: naive(Math.round(html.bytes / keystrokes)) },
  { name: "of which the document's chunk files (incremental + compaction)", value: (tallies.get("document: incremental")?.bytes ?? 0) + (tallies.get("document: snapshot (compaction)")?.bytes ?? 0), unit: "bytes", baseline: naive(html.bytes) },
  { name: "of which the render cache", value: tallies.get("render cache")?.bytes ?? 0, unit: "bytes", baseline: naive(html.bytes) },
  { name: "of which the library document", value: (tallies.get("library: incremental")?.bytes ?? 0) + (tallies.get("library: snapshot (compaction)")?.bytes ?? 0), unit: "bytes", baseline: naive(html.bytes) },
  { name: "bytes sent to the block layer (/proc/self/io write_bytes, 4 KB pages; naive: its pages)", value: ioEnd.writeBytes - ioStart.writeBytes - html.pages, unit: "bytes", baseline: naive(html.pages) },
  { name: "files written", value: [...tallies.values()].reduce((n, t) => n + t.writes, 0), unit: "count", baseline: naive(html.snapshots) },
];
const series: Series[] = [
  {
    id: "bytes-written",
    title: "Bytes written while typing at 6 keys/s: Writer beside an HTML snapshot every 30 s",
    x: { label: "minutes of typing" },
    y: { label: "bytes written, cumulative" },
    kind: "line",
    lines: [
      { name: "Writer (host storage, library, render cache)", points: points.app },
      { name: `naive: HTML every ${options.htmlEvery} s`, points: points.html },
    ],
  },
];
const file = await writeSummary(import.meta.dirname, {
  bench: "bytes-written",
  command: `npx tsx bench/bytes-written/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
  commit: commitDescription(projectRoot),
  machine: machineDescription(),
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
  figures,
  series,
  notes: [
    `${fmt(keystrokes)} edits of the automerge-paper trace (CC BY 4.0, test/fixtures/traces/README.md) typed at ${options.rate} keys/s on the writer's clock into a new document by a window stand-in (ProseMirror + Writer's sync plugin) syncing to a real Host, no relay; each second of the clock took ${options.paceMs} ms, the library refresh scaled to match; ${fmt(commits)} commits, ${fmt(savesDuring)} saves of the document.`,
    "Writer's bytes: everything handed to the file system under the data directory (FileHandle and fs.promises writes), each file once (temp file, then rename).",
    `Naive: the document exported with the app's HTML export (toHTMLPage) every ${options.htmlEvery} s of the writer's clock, ${html.snapshots} snapshots. Load average ${loadAtStart} at the start, ${loadAtEnd} at the end (2 cores, shared).`,
  ],
});
console.log(`summary: ${path.relative(process.cwd(), file)}`);
process.exit(0);
