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

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const GROWTH_TARGET_MB = 50;

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
  const text = await (await fetch(`${relay.http}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").pop()) : Number.NaN;
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

async function run(maxInMemory: number): Promise<boolean> {
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
    const start = await metric(relay, "process_resident_memory_bytes");
    let peak = start;
    const began = Date.now();
    for (let i = 0; i < options.documents; i++) {
      const handle = repo.create<{ title: string; text: string }>({ title: `Document ${i}`, text: `A short note, number ${i}, with a few words in it.` });
      handle.change((d) => (d.text += " And one more sentence."));
      await onRelay(handle as DocHandle<unknown>, relayPeer);
      // The writer lets it go: nothing of it stays in the writer's Repo.
      await repo.removeFromCache(handle.documentId);
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
    return growthOk && endOk;
  } finally {
    await repo.shutdown().catch(() => undefined);
    relay.child.kill("SIGTERM");
    await new Promise((resolve) => relay.child.once("exit", resolve));
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

console.log(`# Relay memory: ${options.documents} small documents, one after another (node ${process.version}, ${os.cpus().length} cores, ${new Date().toISOString()})`);
let all = true;
for (const max of options.maxInMemory) all = (await run(max)) && all;
console.log(all ? "targets: PASS" : "targets: FAIL");
process.exit(0);
