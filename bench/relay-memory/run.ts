/**
 * Relay memory while many small documents pass through it, one after another: each is
 * created by a writer, synced to the relay (the relay confirms it has it), then let go by
 * the writer. The relay's resident memory (`process_resident_memory_bytes` on /metrics)
 * is read before, at its peak, once every document has passed, and after eviction.
 *
 *   npx tsx bench/relay-memory/run.ts [--documents 1500] [--max-in-memory 200,1000] [--idle-evict-ms 15000]
 *
 * One relay per `--max-in-memory` value (default: the relay's own default), each on a
 * fresh data directory. Targets: memory
 * grows by less than 50 MB while the documents pass through, and is back within 50 MB of
 * its start after eviction. Prints PASS or FAIL per target; it is a benchmark, not a test.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { Repo, type DocHandle, type PeerId, type StorageId } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { commitDescription, machineDescription, writeSummary, type Figure, type Series } from "../common/results";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const GROWTH_TARGET_MB = 50;
/** The relay's memory is read every this many documents, for the plot (and its peak). */
const SAMPLE_EVERY = 25;

const program = new Command()
  .option("--documents <n>", "documents passing through", (v) => Number.parseInt(v, 10), 1500)
  .option("--max-in-memory <list>", "--max-documents-in-memory of each relay", (v) => v.split(",").map((n) => Number.parseInt(n, 10)), [200])
  .option("--idle-evict-ms <ms>", "the relays' --idle-evict-ms (how long until the rest leave memory)", (v) => Number.parseInt(v, 10), 15_000);
program.parse();
const options = program.opts<{ documents: number; maxInMemory: number[]; idleEvictMs: number }>();

interface Relay {
  child: ChildProcess;
  url: string;
  http: string;
}

async function startRelay(dataDir: string, maxInMemory: number): Promise<Relay> {
  const args = ["--import", "tsx", "sync-server/cli.ts", "--allow-anonymous", "--port", "0", "--host", "127.0.0.1", "--data", dataDir, "--max-documents-in-memory", String(maxInMemory), "--idle-evict-ms", String(options.idleEvictMs)];
  const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (ws:\/\/[\d.:]+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.stderr!.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`relay exited with ${code}: ${out}`)));
  });
  return { child, url, http: url.replace(/^ws:/, "http:") };
}

async function metric(relay: Relay, name: string): Promise<number> {
  return (await metrics(relay, name))[0]!;
}

/** Several metrics from one read of /metrics. */
async function metrics(relay: Relay, ...names: string[]): Promise<number[]> {
  const text = await (await fetch(`${relay.http}/metrics`)).text();
  return names.map((name) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(" ").pop()) : Number.NaN;
  });
}

/** One relay's run, for the summary. */
interface RunResult {
  maxInMemory: number;
  startMB: number;
  peakMB: number;
  endMB: number;
  evictedOverBudget: number;
  seconds: number;
  /** [documents passed, RSS MB, documents in memory], every SAMPLE_EVERY documents. */
  samples: [number, number, number][];
  growthOk: boolean;
  endOk: boolean;
}

const mb = (bytes: number) => bytes / 1024 / 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once the relay's sync state says it has the handle's heads (it replies only once they are on its disk). */
async function onRelay(handle: DocHandle<unknown>, storageId: StorageId): Promise<void> {
  const ours = handle.heads().join(",");
  for (let i = 0; i < 2000; i++) {
    if (handle.getSyncInfo(storageId)?.lastHeads?.join(",") === ours) return;
    await sleep(5);
  }
  throw new Error(`the relay did not confirm ${handle.documentId}`);
}

async function run(maxInMemory: number): Promise<RunResult> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "relay-memory-"));
  const relay = await startRelay(dataDir, maxInMemory);
  const adapter = new WebSocketClientAdapter(relay.url);
  const repo = new Repo({ network: [adapter], peerId: `bench-${process.pid}` as PeerId });
  try {
    await adapter.whenReady();
    const relayPeer = await (async () => {
      for (let i = 0; i < 1000; i++) {
        const peer = Object.values(repo.peerMetadataByPeerId).find((meta) => meta?.storageId);
        if (peer?.storageId) return peer.storageId;
        await sleep(10);
      }
      throw new Error("the relay never said who it is");
    })();
    // Warm up (modules, wasm, first allocations), then read the start.
    for (let i = 0; i < 20; i++) {
      const handle = repo.create<{ text: string }>({ text: `warm-up ${i}` });
      await onRelay(handle as DocHandle<unknown>, relayPeer);
    }
    await sleep(2000);
    const [start, inMemoryAtStart] = (await metrics(relay, "process_resident_memory_bytes", "relay_documents_in_memory")) as [number, number];
    let peak = start;
    const samples: [number, number, number][] = [[0, mb(start), inMemoryAtStart]];
    const began = Date.now();
    for (let i = 0; i < options.documents; i++) {
      const handle = repo.create<{ title: string; text: string }>({ title: `Document ${i}`, text: `A short note, number ${i}, with a few words in it.` });
      handle.change((d) => (d.text += " And one more sentence."));
      await onRelay(handle as DocHandle<unknown>, relayPeer);
      // The writer lets it go: nothing of it stays in the writer's Repo.
      await repo.removeFromCache(handle.documentId);
      if ((i + 1) % SAMPLE_EVERY === 0) {
        const [rss, inMemory] = (await metrics(relay, "process_resident_memory_bytes", "relay_documents_in_memory")) as [number, number];
        peak = Math.max(peak, rss);
        samples.push([i + 1, mb(rss), inMemory]);
      }
      if (i % 100 === 99) {
        peak = Math.max(peak, await metric(relay, "process_resident_memory_bytes"));
        process.stdout.write(`  ${i + 1} documents, relay ${mb(peak).toFixed(0)} MB at most, ${await metric(relay, "relay_documents_in_memory")} in memory\n`);
      }
    }
    const passed = await metric(relay, "process_resident_memory_bytes");
    peak = Math.max(peak, passed);
    const seconds = (Date.now() - began) / 1000;
    // Then nobody uses them: after the idle time every one leaves memory.
    const deadline = Date.now() + options.idleEvictMs * 3 + 30_000;
    while (Date.now() < deadline && (await metric(relay, "relay_documents_in_memory")) > 0) await sleep(500);
    await sleep(2000);
    const end = await metric(relay, "process_resident_memory_bytes");
    const evictedEarly = await metric(relay, "relay_documents_evicted_over_budget_total");
    const growth = mb(peak - start);
    const after = mb(end - start);
    console.log(
      `--max-documents-in-memory ${maxInMemory}: ${options.documents} documents in ${seconds.toFixed(0)} s; relay RSS ${mb(start).toFixed(0)} MB at the start, ` +
        `${mb(peak).toFixed(0)} MB at most (+${growth.toFixed(0)} MB), ${mb(end).toFixed(0)} MB after eviction (${after >= 0 ? "+" : ""}${after.toFixed(0)} MB); ${evictedEarly} evicted over the budget`,
    );
    const growthOk = growth < GROWTH_TARGET_MB;
    const endOk = after < GROWTH_TARGET_MB;
    console.log(`  growth under ${GROWTH_TARGET_MB} MB: ${growthOk ? "PASS" : "FAIL"}; back within ${GROWTH_TARGET_MB} MB of the start after eviction: ${endOk ? "PASS" : "FAIL"}`);
    return { maxInMemory, startMB: mb(start), peakMB: mb(peak), endMB: mb(end), evictedOverBudget: evictedEarly, seconds, samples, growthOk, endOk };
  } finally {
    await repo.shutdown().catch(() => undefined);
    relay.child.kill("SIGTERM");
    await new Promise((resolve) => relay.child.once("exit", resolve));
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

const startedAt = new Date();
console.log(`# Relay memory: ${options.documents} small documents, one after another (node ${process.version}, ${os.cpus().length} cores, ${startedAt.toISOString()})`);
let all = true;
const runs: RunResult[] = [];
for (const max of options.maxInMemory) {
  const result = await run(max);
  runs.push(result);
  all = result.growthOk && result.endOk && all;
}
console.log(all ? "targets: PASS" : "targets: FAIL");

// The suite's view (bench/suite.ts): the figures per budget, and memory as the documents pass.
const figures: Figure[] = runs.flatMap((r) => {
  const budget = `budget ${r.maxInMemory}`;
  return [
    { name: `${budget}: RSS at the start`, value: r.startMB, unit: "MB" },
    { name: `${budget}: growth while ${options.documents.toLocaleString("en-US")} documents pass (peak − start)`, value: r.peakMB - r.startMB, unit: "MB", target: { text: `< ${GROWTH_TARGET_MB} MB`, met: r.growthOk } },
    { name: `${budget}: after eviction − start`, value: r.endMB - r.startMB, unit: "MB", target: { text: `< ${GROWTH_TARGET_MB} MB`, met: r.endOk } },
    { name: `${budget}: documents evicted over the budget`, value: r.evictedOverBudget, unit: "count" },
  ];
});
const series: Series[] = [
  {
    id: "relay-memory-rss",
    title: `Relay memory while ${options.documents.toLocaleString("en-US")} small documents pass through it`,
    x: { label: "documents passed through the relay" },
    y: { label: "relay resident memory (MB)", log: false },
    kind: "line",
    lines: runs.map((r) => ({ name: `--max-documents-in-memory ${r.maxInMemory}`, points: r.samples.map(([n, rss]): [number, number] => [n, rss]) })),
  },
  {
    id: "relay-memory-documents",
    title: "Documents the relay holds in memory as they pass",
    x: { label: "documents passed through the relay" },
    y: { label: "documents in memory", log: false },
    kind: "line",
    lines: runs.map((r) => ({ name: `--max-documents-in-memory ${r.maxInMemory}`, points: r.samples.map(([n, , inMemory]): [number, number] => [n, inMemory]) })),
  },
];
const summary = await writeSummary(path.join(projectRoot, "bench", "relay-memory"), {
  bench: "relay-memory",
  command: `npx tsx bench/relay-memory/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
  commit: commitDescription(projectRoot),
  machine: machineDescription(),
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
  figures,
  series,
  notes: [
    `RSS is the relay's process_resident_memory_bytes (/metrics), read every ${SAMPLE_EVERY} documents; "after eviction" once every document has left memory (--idle-evict-ms ${options.idleEvictMs}). MB = 2^20 bytes. No baseline: the figure is the relay's own growth.`,
  ],
});
console.log(`summary: ${path.relative(process.cwd(), summary)}`);
process.exit(0);
