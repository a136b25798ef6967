/**
 * Trace replay (`npm run bench:trace-replay`): the automerge-paper editing trace (259,778
 * keystrokes, CC BY 4.0) replayed through Writer's document layer, beside bare Automerge
 * replaying the same edits in the same run: time, peak memory, bytes on disk, and the time
 * to open the result again.
 *
 *   npx tsx bench/trace-replay/run.ts [--edits 40000|all] [--keep] [--skip-editor]
 *
 * Each side runs in a fresh process of its own (replay.ts), one after the other:
 * - Writer: a real Host on a fresh data directory (its crash-safe storage: atomic chunk
 *   files, fsync, automerge-repo's compaction; its library and render cache), the document
 *   created through the host API, typed by a window as the renderer types it
 *   (bench/common/window.ts: ProseMirror + Writer's sync plugin, grouping a lone writer's
 *   keystrokes per burst on the writer's clock, a Repo in memory syncing to the host over a
 *   MessageChannel, the change broadcast). Timed until the host confirms it all on disk.
 * - the window alone (unless --skip-editor): the same editor and binding on a Repo of its
 *   own, no host, no disk: how much of Writer's time is the editor's.
 * - bare Automerge: one A.change with A.splice per edit on one document of the same shape,
 *   A.save once, written to a file with fsync.
 *
 * Peak memory is the kernel's high-water mark of each process's resident memory (VmHWM),
 * which includes Node, tsx and the parsed trace (the "at start" column); the default replays
 * a prefix of the trace so that the bench ends within about 2 minutes on 2 cores (the
 * editor's cost per keystroke grows with the text); `--edits all` replays all of it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { commitDescription, machineDescription, writeSummary, type Figure, type Series } from "../common/results";
import { fmt, loadAverage, mb, runJsonChild } from "../common/proc";
import { loadTrace, TRACE_ATTRIBUTION } from "../common/trace";
import type { Replayed } from "./replay";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const options = new Command("trace-replay")
  .option("--edits <n>", "edits of the trace to replay, or all", "40000")
  .option("--keep", "keep the data directory and the saved file (printed)", false)
  .option("--skip-editor", "do not replay through the window alone (the editor's share)", false)
  .parse()
  .opts<{ edits: string; keep: boolean; skipEditor: boolean }>();

const { total } = loadTrace(undefined, 0);
const edits = options.edits === "all" ? total : Math.min(total, Number(options.edits));
if (!Number.isInteger(edits) || edits < 1) throw new Error(`--edits: expected a positive integer or "all", got ${options.edits}`);

const startedAt = new Date();
const loadAtStart = loadAverage();
console.log(`# Trace replay: ${fmt(edits)} of the automerge-paper trace's ${fmt(total)} edits (${TRACE_ATTRIBUTION})`);
console.log(`${machineDescription()}, ${startedAt.toISOString()}, load average ${loadAtStart}\n`);

const out = fs.mkdtempSync(path.join(os.tmpdir(), "writer-trace-replay-"));
const script = path.join(import.meta.dirname, "replay.ts");
let bare: Replayed;
let app: Replayed;
let editor: Replayed | undefined;
try {
  console.log("bare Automerge…");
  bare = await runJsonChild<Replayed>(script, ["bare", String(edits), path.join(out, "bare")], 20 * 60_000);
  console.log(`  ${fmt(bare.replayMs / 1000, 1)} s`);
  console.log("Writer (Host + window)…");
  app = await runJsonChild<Replayed>(script, ["app", String(edits), path.join(out, "app")], 60 * 60_000);
  console.log(`  ${fmt(app.replayMs / 1000, 1)} s`);
  if (!options.skipEditor) {
    console.log("the window alone (no host)…");
    editor = await runJsonChild<Replayed>(script, ["editor", String(edits), path.join(out, "editor")], 60 * 60_000);
    console.log(`  ${fmt(editor.replayMs / 1000, 1)} s`);
  }
  console.log("");
} finally {
  if (options.keep) console.log(`kept: ${out}`);
  else fs.rmSync(out, { recursive: true, force: true });
}
const loadAtEnd = loadAverage();

const ratio = (a: number, b: number) => `${fmt(a / b, 1)}x`;
const rows: [string, (r: Replayed) => string, number, number][] = [
  ["replay, until on disk", (r) => `${fmt(r.replayMs)} ms`, app.replayMs, bare.replayMs],
  ["per edit", (r) => `${fmt((r.replayMs * 1000) / r.edits)} µs`, app.replayMs, bare.replayMs],
  ["Automerge changes", (r) => fmt(r.changes), app.changes, bare.changes],
  ["peak resident memory (VmHWM)", (r) => mb(r.peakRss), app.peakRss, bare.peakRss],
  ["resident memory at the start of the replay", (r) => mb(r.rssStart), app.rssStart, bare.rssStart],
  ["peak − start", (r) => mb(r.peakRss - r.rssStart), app.peakRss - app.rssStart, bare.peakRss - bare.rssStart],
  ["bytes on disk at the end", (r) => `${fmt(r.diskBytes)} (${r.diskFiles} files)`, app.diskBytes, bare.diskBytes],
  ["of which the document itself", (r) => fmt(r.documentBytes), app.documentBytes, bare.documentBytes],
  ["open it again", (r) => `${fmt(r.loadMs)} ms`, app.loadMs, bare.loadMs],
];
console.log(`| ${fmt(edits)} edits | Writer | bare Automerge | Writer / bare |`);
console.log("|---|---|---|---|");
for (const [name, show, a, b] of rows) console.log(`| ${name} | ${show(app)} | ${show(bare)} | ${ratio(a, b)} |`);
if (editor) {
  const hostShare = app.replayMs - editor.replayMs;
  console.log(`\nWhere Writer's time goes: the window alone (editor + binding + grouping, a Repo in memory, no host, no disk) ${fmt(editor.replayMs)} ms (${fmt((100 * editor.replayMs) / app.replayMs)} %), peak memory ${mb(editor.peakRss)} (${mb(editor.peakRss - editor.rssStart)} over its start); the rest (sync to the host, the broadcast, the host's Repo, saves, library, render cache) ${fmt(hostShare)} ms.`);
}
console.log(`\nWriter's data directory: ${Object.entries(app.diskByEntry).map(([k, v]) => `${k} ${fmt(v)} bytes`).join(", ")}.`);
console.log(`Writer's open: Host.open ${fmt(app.hostOpenMs ?? NaN)} ms, then savedDocument and Automerge.load. Bare: Automerge.load of the file. Bare's replay includes A.save + write: ${fmt(bare.saveMs)} ms.`);
console.log(`Texts equal to the trace's: Writer ${app.textMatches}, bare ${bare.textMatches}. Load average at the start ${loadAtStart}, at the end ${loadAtEnd}.`);

const baseline = (value: number) => ({ name: "bare Automerge, one change per edit", value });
const figures: Figure[] = [
  { name: `replay of ${fmt(edits)} edits until on disk`, value: Math.round(app.replayMs), unit: "ms", baseline: baseline(Math.round(bare.replayMs)) },
  { name: "peak resident memory (VmHWM, whole process)", value: Math.round(app.peakRss / 2 ** 20), unit: "MB", baseline: baseline(Math.round(bare.peakRss / 2 ** 20)) },
  { name: "resident memory growth during the replay (peak − start)", value: Math.round((app.peakRss - app.rssStart) / 2 ** 20), unit: "MB", baseline: baseline(Math.round((bare.peakRss - bare.rssStart) / 2 ** 20)) },
  { name: "bytes on disk at the end (Writer: the whole data directory)", value: app.diskBytes, unit: "bytes", baseline: baseline(bare.diskBytes) },
  { name: "bytes of the document's own chunk files", value: app.documentBytes, unit: "bytes", baseline: baseline(bare.documentBytes) },
  { name: "Automerge changes", value: app.changes, unit: "count", baseline: baseline(bare.changes) },
  ...(editor ? [{ name: "replay through the window alone (editor + binding, no host, no disk)", value: Math.round(editor.replayMs), unit: "ms", baseline: baseline(Math.round(bare.replayMs)) }] : []),
  { name: "open again (Writer: Host.open + savedDocument + load)", value: Math.round(app.loadMs), unit: "ms", baseline: { name: "bare Automerge.load of the saved file", value: Math.round(bare.loadMs) } },
];
const series: Series[] = [
  {
    id: "trace-replay-time",
    title: "Replaying the automerge-paper trace: time against edits replayed",
    x: { label: "edits replayed" },
    y: { label: "cumulative time (s)" },
    kind: "line",
    lines: [
      { name: "Writer (host + window)", points: app.progress.map(([n, ms]) => [n, ms / 1000]) },
      ...(editor ? [{ name: "the window alone (no host)", points: editor.progress.map(([n, ms]): [number, number] => [n, ms / 1000]) }] : []),
      { name: "bare Automerge", points: bare.progress.map(([n, ms]) => [n, ms / 1000]) },
    ],
  },
];
const file = await writeSummary(import.meta.dirname, {
  bench: "trace-replay",
  command: `npx tsx bench/trace-replay/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
  commit: commitDescription(projectRoot),
  machine: machineDescription(),
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
  figures,
  series,
  notes: [
    `${fmt(edits)} of ${fmt(total)} edits of the automerge-paper trace (CC BY 4.0, test/fixtures/traces/README.md); line breaks typed as characters of one paragraph.`,
    "Writer: a real Host on a fresh data directory, the document typed by a window stand-in in the same process (ProseMirror + Writer's sync plugin grouping per burst on the writer's clock, a Repo in memory, MessageChannel sync and the change broadcast); no React, no DOM, no EditorView. Timed until the host confirms every change on disk.",
    "bare Automerge: one A.change + A.splice per edit on one document of the same shape, A.save once, written with fsync.",
    `Memory: each side in a process of its own, VmHWM of that process (includes Node, tsx and the parsed trace). Load average ${loadAtStart} at the start, ${loadAtEnd} at the end (2 cores, shared).`,
  ],
});
console.log(`summary: ${path.relative(process.cwd(), file)}`);
