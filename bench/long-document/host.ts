/**
 * Nobody waits for someone else's long document (issue 6), in the desktop's host: a
 * writer types into a small document in one window while another window of the same
 * host opens the long document. Measured on the host's main thread (the one that
 * answers every window, syncs every other document and keeps the library): how late
 * the small document's keystrokes reach the host while the open is under way, against
 * before it, and the longest the thread went without running a 5 ms timer. The two
 * windows run in a thread of their own (window-thread.ts), as a renderer runs in a
 * process of its own; the host is the real Host, on a real data directory.
 *
 * For each of the two documents run.ts saved (grouped per burst, one change per
 * keystroke), once with every document on the host's main thread (`count: 0`, the host
 * before this change) and once with long documents in its document worker (the default).
 *
 *   tsx bench/long-document/host.ts [--rounds 2] [--rate 10] [--seconds 6]
 *   (after `npm run bench:long-document`, which saves the two documents)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MessageChannel, Worker } from "node:worker_threads";
import { Command, InvalidArgumentError } from "commander";
import pino from "pino";
import type { DocHandle } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { Host } from "../../src/host/Host";
import type { WriterDocument } from "../../src/shared/document";
import { stallMeter } from "./stallMeter";
import type { FromWindows, ToWindows } from "./window-thread";

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const options = new Command("host")
  .option("--rounds <n>", "runs of each document and setting", int(1), 2)
  .option("--rate <n>", "keystrokes a second into the small document", int(1), 10)
  .option("--seconds <n>", "typing time; the open starts a third of the way in", int(3), 6)
  .parse()
  .opts<{ rounds: number; rate: number; seconds: number }>();

const results = path.join(import.meta.dirname, "results");
const documents = [
  ["grouped", path.join(results, "grouped.automerge")],
  ["per keystroke", path.join(results, "per-keystroke.automerge")],
] as const;
for (const [, file] of documents) if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run bench:long-document first`);

type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];
const wall = () => performance.timeOrigin + performance.now();
const quiet = { level: "silent" } as const;

/** A data directory with the long document and a small one. */
async function prepare(bytes: Uint8Array): Promise<{ dataDir: string; long: string; small: string }> {
  const dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "writer-long-host-"));
  const host = await Host.open({ dataDir, logger: pino(quiet) });
  try {
    const imported = await host.library.importBackup(bytes);
    if (!("url" in imported)) throw new Error("the trace's document was already in a fresh library");
    const long = imported.url;
    const created = await host.handle({ method: "createDocument", title: "Notes" });
    if (!created.ok) throw new Error(created.error.message);
    return { dataDir, long, small: (created.value as { url: string }).url };
  } finally {
    await host.close();
  }
}

interface Run {
  quietP99: number;
  duringP99: number;
  duringMax: number;
  stallMs: number;
  hostHasItMs: number;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function run(dataDir: string, long: string, small: string, workers: boolean): Promise<Run> {
  const host = await Host.open({ dataDir, logger: pino(quiet), documentWorkers: workers ? {} : { count: 0 } });
  const typing = new MessageChannel();
  const opening = new MessageChannel();
  host.connect(new MessageChannelNetworkAdapter(typing.port1 as unknown as Port));
  host.connect(new MessageChannelNetworkAdapter(opening.port1 as unknown as Port));
  const windows = new Worker(new URL("./window-thread.mjs", import.meta.url), {
    workerData: { typing: typing.port2, opening: opening.port2 },
    transferList: [typing.port2, opening.port2],
  });
  const send = (m: ToWindows) => windows.postMessage(m);
  const next = (t: FromWindows["t"]) => new Promise<FromWindows>((resolve) => {
    const on = (m: FromWindows) => m.t === t && (windows.off("message", on), resolve(m));
    windows.on("message", on);
  });
  try {
    // Keystroke n has reached the host when the small document's text has n more "x".
    const sent: number[] = [];
    const arrived: number[] = [];
    send({ t: "type", url: small, rate: options.rate, seconds: options.seconds });
    windows.on("message", (m: FromWindows) => m.t === "typed" && (sent[m.seq - 1] = m.at));
    const handle = (await host.repo.find<WriterDocument>(small as never)) as DocHandle<WriterDocument>;
    const base = handle.doc().text.length;
    handle.on("change", ({ doc }) => {
      const n = doc.text.length - base;
      for (let i = arrived.length; i < n; i++) arrived[i] = wall();
    });

    await new Promise((r) => setTimeout(r, (options.seconds * 1000) / 3));
    const meter = stallMeter();
    const openStart = wall();
    // As the window does: the saved copy first (savedDocument), then sync.
    const saved = await host.handle({ method: "savedDocument", url: long });
    const base64 = saved.ok ? ((saved.value as { base64: string } | null)?.base64 ?? null) : null;
    send({ t: "open", url: long, base64 });
    const { heads } = (await next("opened")) as Extract<FromWindows, { t: "opened" }>;
    // The open is over once the host holds the document at the window's heads, on disk.
    let hostHasItMs = NaN;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      const saved = await host.handle({ method: "confirmSaved", url: long, heads });
      if (saved.ok && (saved.value as { saved: boolean }).saved) {
        hostHasItMs = wall() - openStart;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    const openEnd = wall();
    const stallMs = meter.stop();
    await next("typing-done");
    await new Promise((r) => setTimeout(r, 1000));

    const latency = (i: number) => (arrived[i] ?? Infinity) - sent[i]!;
    const quietKeys = sent.map((_, i) => i).filter((i) => sent[i]! < openStart);
    const duringKeys = sent.map((_, i) => i).filter((i) => sent[i]! >= openStart && sent[i]! <= openEnd);
    return {
      quietP99: percentile(quietKeys.map(latency), 99),
      duringP99: percentile(duringKeys.map(latency), 99),
      duringMax: Math.max(...duringKeys.map(latency)),
      stallMs,
      hostHasItMs,
    };
  } finally {
    send({ t: "close" });
    await next("closed");
    await windows.terminate();
    await host.close();
  }
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: 0 }) : String(n));
console.log(`A window types ${options.rate} keys/s into a small document; another window of the same host opens the long document.`);
console.log("Keystroke → host latency, p99 before the open → during it; the host's main thread's longest stall during the open.\n");
console.log("| long document | host | keystroke p99 before → during | ratio | slowest keystroke during | host main thread's longest stall | open until the host holds it |");
console.log("|---|---|---|---|---|---|---|");
for (const [name, file] of documents) {
  const { dataDir, long, small } = await prepare(new Uint8Array(fs.readFileSync(file)));
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const workers of [false, true]) {
        const r = await run(dataDir, long, small, workers);
        const ratio = r.duringP99 / r.quietP99;
        console.log(
          `| ${name} | ${workers ? "document worker" : "one thread (count 0)"} | ${fmt(r.quietP99)} → ${fmt(r.duringP99)} ms | ${ratio.toFixed(2)}x, ${ratio <= 2 ? "PASS" : "FAIL"} | ${fmt(r.duringMax)} ms | ${fmt(r.stallMs)} ms | ${fmt(r.hostHasItMs)} ms |`,
        );
      }
    }
  } finally {
    await fs.promises.rm(dataDir, { recursive: true, force: true });
  }
}
