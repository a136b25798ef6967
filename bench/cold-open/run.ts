/**
 * Cold open through a relay (`npm run bench:cold-open`): a new device (an empty data
 * directory) opens the paper document, which only a relay has, from a link; beside a plain
 * automerge-repo Repo fetching the same document from the same relay, and bare
 * Automerge.load of the same bytes, in the same run.
 *
 *   npx tsx bench/cold-open/run.ts [--rounds 3] [--document FILE] [--from-trace]
 *
 * The document: the automerge-paper trace (CC BY 4.0) as Writer stores it, grouped per
 * burst: bench/long-document/results/grouped.automerge when `npm run bench:long-document`
 * has made it (typed through the editor), else made here in bare Automerge with the same
 * grouping bounds on the same writer's clock (one change per burst: a pause of 500 ms or a
 * second of held typing), which takes seconds instead of minutes; the output says which.
 *
 * The relay: the real one (sync-server/cli.ts, default settings), the document put in its
 * storage beforehand as if synced there long ago, one token. One untimed fetch first, so
 * that every timed open finds the relay with the document in memory.
 *
 * Each round, each in a fresh process, alternating:
 * - Writer: bench/long-document/open-through-relay.ts: a real Host on an empty data
 *   directory adds the relay, and once connected opens the link (`openSharedDocument`);
 *   timed until the document's library entry has its word count (the document arrived, in
 *   the host's document worker, and the library was filled from it). Also its host's
 *   longest event-loop stall meanwhile.
 * - plain automerge-repo: plain-repo.ts: a Repo without storage, stock settings, the
 *   WebSocket client adapter, connected first; `find` to ready.
 * - bare: Automerge.load of the document's bytes (this process, warm).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { next as A } from "@automerge/automerge";
import { Repo } from "@automerge/automerge-repo";
import { FileStorageAdapter } from "../../src/node/storage";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { TYPING_GROUP } from "../../src/renderer/src/editor/sync";
import { commitDescription, machineDescription, writeSummary, type Figure } from "../common/results";
import { fmt, loadAverage, runJsonChild } from "../common/proc";
import { startRelay } from "../common/relay";
import { loadTrace, TRACE_ATTRIBUTION, writerSchedule } from "../common/trace";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const LONG_DOCUMENT = path.join(projectRoot, "bench/long-document/results/grouped.automerge");
const OPENER = path.join(projectRoot, "bench/long-document/open-through-relay.ts");
const PLAIN = path.join(import.meta.dirname, "plain-repo.ts");

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
};
const options = new Command("cold-open")
  .option("--rounds <n>", "opens of each kind", int, 3)
  .option("--document <file>", "a saved Automerge document to open instead of the paper")
  .option("--from-trace", "group the paper trace here even when bench/long-document's document is there", false)
  .parse()
  .opts<{ rounds: number; document?: string; fromTrace: boolean }>();

/** The paper trace in bare Automerge, one change per burst on the writer's clock, with the editor's grouping bounds. */
function groupedPaper(): Uint8Array {
  const { edits } = loadTrace();
  const at = writerSchedule(edits);
  let doc = A.change(A.init<WriterDocument>(), (d) => initDocument(d, "A Conflict-Free Replicated JSON Datatype", 0));
  let burst: typeof edits = [];
  let heldSince = 0;
  const commit = () => {
    const ops = burst;
    burst = [];
    if (ops.length) doc = A.change(doc, (d) => ops.forEach((e) => A.splice(d, TEXT_PATH, 1 + e.pos, e.del, e.ins)));
  };
  for (let i = 0; i < edits.length; i++) {
    const t = at[i]!;
    if (burst.length && (t - at[i - 1]! >= TYPING_GROUP.idleMs || t - heldSince >= TYPING_GROUP.maxHoldMs)) commit();
    if (!burst.length) heldSince = t;
    burst.push(edits[i]!);
  }
  commit();
  return A.save(doc);
}

const startedAt = new Date();
const loadAtStart = loadAverage();
let source: string;
let bytes: Uint8Array;
if (options.document) {
  bytes = fs.readFileSync(options.document);
  source = options.document;
} else if (fs.existsSync(LONG_DOCUMENT) && !options.fromTrace) {
  bytes = fs.readFileSync(LONG_DOCUMENT);
  source = `bench/long-document/results/grouped.automerge (typed through the editor by bench/long-document, ${fs.statSync(LONG_DOCUMENT).mtime.toISOString().slice(0, 16)} UTC)`;
} else {
  console.log("Grouping the paper trace per burst in bare Automerge…");
  bytes = groupedPaper();
  source = "the paper trace grouped per burst in bare Automerge (this run)";
}
const doc = A.load<WriterDocument>(bytes);
const changes = A.getAllChanges(doc).length;
console.log(`# Cold open through a relay: ${fmt(bytes.byteLength)} bytes, ${fmt(changes)} changes, ${fmt(doc.text.length)} characters (${TRACE_ATTRIBUTION})`);
console.log(`document: ${source}`);
console.log(`${machineDescription()}, ${startedAt.toISOString()}, load average ${loadAtStart}\n`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-cold-open-"));
const relayData = path.join(dir, "relay");
// The document in the relay's storage, as if a writer had synced it there long ago.
const storage = await FileStorageAdapter.open(path.join(relayData, "documents"));
const seed = new Repo({ storage, network: [] });
const url = seed.import<WriterDocument>(bytes).url;
await seed.flush();
await seed.shutdown();
await storage.close();

const relay = await startRelay(relayData);
process.once("exit", () => relay.child.kill("SIGKILL"));
const writer: { ms: number; stallMs: number }[] = [];
const plain: number[] = [];
const bare: number[] = [];
try {
  await runJsonChild(PLAIN, [relay.url, relay.token, url], 120_000);
  for (let round = 0; round < options.rounds; round++) {
    const opened = await runJsonChild<{ start: number; end: number; words: number; stallMs: number }>(OPENER, [relay.url, relay.token, url], 180_000);
    writer.push({ ms: opened.end - opened.start, stallMs: opened.stallMs });
    const fetched = await runJsonChild<{ ms: number; chars: number }>(PLAIN, [relay.url, relay.token, url], 180_000);
    if (fetched.chars !== doc.text.length) throw new Error(`the plain Repo got ${fetched.chars} characters, not ${doc.text.length}`);
    plain.push(fetched.ms);
    const t0 = performance.now();
    A.load(bytes);
    bare.push(performance.now() - t0);
    console.log(`  round ${round + 1}: Writer ${fmt(writer.at(-1)!.ms)} ms (its host's longest stall ${fmt(opened.stallMs)} ms), plain Repo ${fmt(fetched.ms)} ms, Automerge.load ${fmt(bare.at(-1)!)} ms`);
  }
} finally {
  await relay.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
const loadAtEnd = loadAverage();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const w = median(writer.map((x) => x.ms));
const p = median(plain);
const b = median(bare);
console.log(`\n| medians of ${options.rounds} | cold open |`);
console.log("|---|---|");
console.log(`| Writer: new device, openSharedDocument → in its library (real Host) | ${fmt(w)} ms |`);
console.log(`| plain automerge-repo Repo, no storage, same relay: find → ready | ${fmt(p)} ms |`);
console.log(`| bare Automerge.load of the same bytes | ${fmt(b)} ms |`);
console.log(`\nWriter / plain Repo: ${fmt(w / p, 2)}x; Writer / Automerge.load: ${fmt(w / b, 1)}x. Writer's host's longest event-loop stall during the open (median): ${fmt(median(writer.map((x) => x.stallMs)))} ms.`);
console.log(`Load average at the start ${loadAtStart}, at the end ${loadAtEnd}.`);

const figures: Figure[] = [
  { name: `cold open of the paper through a relay, new device (median of ${options.rounds})`, value: Math.round(w), unit: "ms", baseline: { name: "plain automerge-repo Repo without storage, same relay", value: Math.round(p) } },
  { name: `cold open of the paper through a relay, new device (median of ${options.rounds})`, value: Math.round(w), unit: "ms", baseline: { name: "bare Automerge.load of the same bytes", value: Math.round(b) } },
  { name: "the new device's host: longest event-loop stall during the open (median)", value: Math.round(median(writer.map((x) => x.stallMs))), unit: "ms" },
];
const file = await writeSummary(import.meta.dirname, {
  bench: "cold-open",
  command: `npx tsx bench/cold-open/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
  commit: commitDescription(projectRoot),
  machine: machineDescription(),
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
  figures,
  notes: [
    `The document: ${source}; ${fmt(bytes.byteLength)} bytes, ${fmt(changes)} changes (automerge-paper trace, CC BY 4.0, test/fixtures/traces/README.md).`,
    "Writer: bench/long-document/open-through-relay.ts, a real Host on an empty data directory, connected to the relay first, then openSharedDocument until its library entry has the document's word count. Plain: a Repo without storage and the WebSocket client adapter, connected first, find until ready. Each in a fresh process; the relay had the document in memory (one untimed fetch first).",
    `Load average ${loadAtStart} at the start, ${loadAtEnd} at the end (2 cores, shared).`,
  ],
});
console.log(`summary: ${path.relative(process.cwd(), file)}`);
process.exit(0);
