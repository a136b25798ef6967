/**
 * What one keystroke costs Automerge itself, on every Repo that takes it in: a local
 * change, applying a received change alone, applying received changes in batches, and
 * receiving one by the sync protocol, against the length of the document.
 *
 *   npx tsx bench/automerge-cost/run.ts [--lengths 1000,10000,100000] [--changes 200]
 *
 * Each document is built from paragraphs typed in changes of 100 characters (so that a
 * 100,000-character document is made in seconds), saved, and loaded again for each
 * measurement; the measured changes insert one character in the middle and bump a
 * counter in a map, as the propagation bench's typists do. Times are per change, the
 * median of `--rounds` rounds. It is a diagnostic, with no target: bench/propagation's
 * README says what follows from it.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { next as A } from "@automerge/automerge";
import { commitDescription, machineDescription, writeSummary, type Figure } from "../common/results";

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, "../..");

const list = (v: string) => v.split(",").map((n) => Number.parseInt(n, 10));
const program = new Command()
  .option("--lengths <list>", "document lengths in characters", list, [1000, 10_000, 100_000])
  .option("--changes <n>", "one-character changes measured per round", (v) => Number.parseInt(v, 10), 200)
  .option("--batches <list>", "batch sizes for applying received changes", list, [1, 5, 20, 100])
  .option("--rounds <n>", "rounds per measurement (the median is printed)", (v) => Number.parseInt(v, 10), 3);
program.parse();
const options = program.opts<{ lengths: number[]; changes: number; batches: number[]; rounds: number }>();

type Doc = {
  text: string;
  clock: Record<string, number>;
};

function build(length: number): Uint8Array {
  let doc = A.from<Doc>({ text: "", clock: {} }, { actor: "aa" });
  const words = "the tide came in at six and she slept through every page twice ";
  for (let at = 0; at < length; at += 100) {
    const piece = words.repeat(2).slice(0, Math.min(100, length - at));
    doc = A.change(doc, (d) => A.splice(d, ["text"], at, 0, piece));
  }
  return A.save(doc);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs `measure` `rounds` times on fresh loads; returns the median ms per change. */
function perChange(rounds: number, measure: () => number): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) times.push(measure());
  return median(times);
}

function measureLength(saved: Uint8Array, length: number) {
  const n = options.changes;
  // The changes a collaborator makes: one character in the middle, and a counter.
  let theirs = A.load<Doc>(saved, { actor: "bb" });
  const changes: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    theirs = A.change(theirs, (d) => {
      A.splice(d, ["text"], Math.floor(length / 2) + i, 0, "x");
      d.clock.bb = i;
    });
    changes.push(A.getLastLocalChange(theirs)!);
  }

  const local = perChange(options.rounds, () => {
    let doc = A.load<Doc>(saved, { actor: "cc" });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) doc = A.change(doc, (d) => {
      A.splice(d, ["text"], Math.floor(length / 2) + i, 0, "y");
      d.clock.cc = i;
    });
    return (performance.now() - t0) / n;
  });

  const apply: Record<number, number> = {};
  for (const size of options.batches) {
    apply[size] = perChange(options.rounds, () => {
      let doc = A.load<Doc>(saved, { actor: "dd" });
      const t0 = performance.now();
      for (let i = 0; i < n; i += size) [doc] = A.applyChanges(doc, changes.slice(i, i + size));
      return (performance.now() - t0) / n;
    });
  }

  // By the sync protocol, one change per message (what a relay or host does per keystroke).
  const sync = perChange(options.rounds, () => {
    let sender = A.load<Doc>(saved, { actor: "ee" });
    let receiver = A.load<Doc>(saved, { actor: "ff" });
    let senderState = A.initSyncState();
    let receiverState = A.initSyncState();
    const exchange = (): number => {
      let spent = 0;
      for (;;) {
        let out: Uint8Array | null;
        [senderState, out] = A.generateSyncMessage(sender, senderState);
        if (out) {
          const t0 = performance.now();
          [receiver, receiverState] = A.receiveSyncMessage(receiver, receiverState, out);
          let reply: Uint8Array | null;
          [receiverState, reply] = A.generateSyncMessage(receiver, receiverState);
          spent += performance.now() - t0;
          if (reply) [sender, senderState] = A.receiveSyncMessage(sender, senderState, reply);
        }
        if (!out) return spent;
      }
    };
    exchange();
    let spent = 0;
    for (const change of changes) {
      [sender] = A.applyChanges(sender, [change]);
      spent += exchange();
    }
    return spent / n;
  });

  const load = perChange(options.rounds, () => {
    const t0 = performance.now();
    A.load(saved);
    return performance.now() - t0;
  });

  return { local, apply, sync, load };
}

async function main(): Promise<void> {
  const started = Date.now();
  const machine = machineDescription();
  const commit = commitDescription(projectRoot);
  console.log(`Automerge's own cost per keystroke; Writer ${commit}; ${machine}`);
  console.log(`${options.changes} one-character changes per round, median of ${options.rounds} rounds; ms per change\n`);
  const header = ["length", "bytes", "load", "local change", ...options.batches.map((b) => `apply ×${b}`), "by sync (receive + reply)"];
  console.log(header.map((h) => h.padStart(14)).join(""));
  const figures: Figure[] = [];
  const lines: { name: string; points: [number, number][] }[] = options.batches.map((b) => ({ name: `applied ${b} at a time`, points: [] }));
  const syncLine: [number, number][] = [];
  for (const length of options.lengths) {
    const saved = build(length);
    const r = measureLength(saved, length);
    console.log(
      [String(length), String(saved.byteLength), r.load.toFixed(2), r.local.toFixed(3), ...options.batches.map((b) => r.apply[b]!.toFixed(3)), r.sync.toFixed(3)].map((c) => c.padStart(14)).join(""),
    );
    options.batches.forEach((b, i) => lines[i]!.points.push([length, r.apply[b]!]));
    syncLine.push([length, r.sync]);
    const alone = r.apply[options.batches[0]!]!;
    const largest = options.batches[options.batches.length - 1]!;
    figures.push({ name: `${length.toLocaleString("en")} characters: a local one-character change`, value: r.local, unit: "ms" });
    figures.push({ name: `${length.toLocaleString("en")} characters: applying one received change alone`, value: alone, unit: "ms", baseline: { name: `applied ${largest} at a time (per change)`, value: r.apply[largest]! } });
    figures.push({ name: `${length.toLocaleString("en")} characters: one change by sync (receive + reply)`, value: r.sync, unit: "ms" });
  }
  const file = await writeSummary(here, {
    bench: "automerge-cost",
    command: `npx tsx bench/automerge-cost/run.ts --lengths ${options.lengths.join(",")} --changes ${options.changes} --rounds ${options.rounds}`,
    commit,
    machine,
    date: new Date().toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    figures,
    series: [
      {
        id: "automerge-cost",
        title: "Automerge: ms per received change, by document length and batch",
        x: { label: "document length (characters)", log: true },
        y: { label: "ms per change", log: true },
        kind: "line",
        lines: [...lines, { name: "by sync, one per message (receive + reply)", points: syncLine }],
      },
    ],
    notes: ["Bare Automerge (the version in package-lock.json), no Repo: the floor under every hop of a keystroke."],
  });
  console.log(`\nsummary: ${path.relative(projectRoot, file)}`);
}

await main();
