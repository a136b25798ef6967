/**
 * Offline merge (`npm run bench:offline-merge`): two writers edit the same document offline,
 * 10,000 keystrokes each, then come back and merge through a relay; beside bare Automerge
 * merging the same two sets of changes, measured in the same run.
 *
 *   npx tsx bench/offline-merge/run.ts [--edits 10000] [--keep]
 *
 * - Two devices, each a real Host (src/host) with a window (bench/common/window.ts:
 *   ProseMirror + Writer's sync plugin, grouping per burst on the writer's clock) in a
 *   process of its own (device.ts), on fresh data directories. Online first, through a
 *   real relay (sync-server/cli.ts, a fresh data directory, a token): device A creates the
 *   document, device B opens A's link. Then both take the relay out of their settings
 *   (`removeRelay`): offline.
 * - Offline, both type at once: typing-like keystrokes (words, now and then a backspace) at
 *   random places of their own text, on the writer's clock (170 ms a key, a 2 s pause at
 *   every jump), each change committed by the editor as the app does, saved by the host.
 * - Connect: the relay is added to both hosts' settings again at the same moment
 *   (`addRelay`, as Settings does). Timed per device
 *   from then until its window has the merged heads (the union of both sides' heads) and
 *   until its host has them on disk (`confirmSaved`); CPU
 *   time of each device's process and of the relay over that span; protocol bytes the relay received and
 *   sent over that span (its /metrics: everything both hosts exchanged, through it).
 * - Baseline: in this process, the two sides' saved documents loaded, then `A.merge` (both
 *   ways), and the sync protocol between two bare documents in memory (generateSyncMessage /
 *   receiveSyncMessage until both are quiet): time and bytes.
 */
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { next as A } from "@automerge/automerge";
import type { WriterDocument } from "../../src/shared/document";
import { commitDescription, machineDescription, writeSummary, type Figure } from "../common/results";
import { cpuMs, fmt, loadAverage } from "../common/proc";
import { startRelay, type RelayProcess } from "../common/relay";
import type { FromDevice, ToDevice } from "./device";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
};
const options = new Command("offline-merge")
  .option("--edits <n>", "keystrokes each device types offline", int, 10_000)
  .option("--keep", "keep the data directories (printed)", false)
  .parse()
  .opts<{ edits: number; keep: boolean }>();

class Device {
  readonly child: ChildProcess;
  readonly #queue: FromDevice[] = [];
  #waiting: ((m: FromDevice) => void) | undefined;
  constructor(readonly name: string) {
    this.child = fork(path.join(import.meta.dirname, "device.ts"), [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (m: FromDevice) => {
      if (this.#waiting) {
        const w = this.#waiting;
        this.#waiting = undefined;
        w(m);
      } else this.#queue.push(m);
    });
  }
  send(m: ToDevice): void {
    this.child.send(m);
  }
  async next<T extends FromDevice["t"]>(t: T, timeoutMs: number): Promise<Extract<FromDevice, { t: T }>> {
    const m =
      this.#queue.shift() ??
      (await new Promise<FromDevice>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${this.name}: no "${t}" within ${timeoutMs} ms`)), timeoutMs);
        this.#waiting = (x) => {
          clearTimeout(timer);
          resolve(x);
        };
      }));
    if (m.t === "error") throw new Error(`${this.name}: ${m.message}`);
    if (m.t !== t) throw new Error(`${this.name}: expected "${t}", got ${JSON.stringify(m).slice(0, 200)}`);
    return m as Extract<FromDevice, { t: T }>;
  }
}

const startedAt = new Date();
const loadAtStart = loadAverage();
console.log(`# Offline merge: two writers, ${fmt(options.edits)} keystrokes each while offline, then a relay`);
console.log(`${machineDescription()}, ${startedAt.toISOString()}, load average ${loadAtStart}\n`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-offline-merge-"));
const devices = [new Device("A"), new Device("B")];
let relay: RelayProcess | undefined;
process.once("exit", () => {
  for (const d of devices) d.child.kill("SIGKILL");
  relay?.child.kill("SIGKILL");
  if (!options.keep) fs.rmSync(dir, { recursive: true, force: true });
});
const [a, b] = devices as [Device, Device];
let typed: Extract<FromDevice, { t: "typed" }>[];
let merged: Extract<FromDevice, { t: "merged" }>[];
let closed: Extract<FromDevice, { t: "closed" }>[];
let relayCpuMs: number;
/** Protocol bytes the relay received from and sent to the two hosts over the merge (its /metrics). */
let relayBytes: { received: number; sent: number };
let mergedHeads: string[];
try {
  // Online first: A creates the document, B opens A's link, both through the relay.
  relay = await startRelay(path.join(dir, "relay"));
  const online = { relayUrl: relay.url, token: relay.token };
  a.send({ t: "init", dataDir: path.join(dir, "a"), ...online });
  const ready = await a.next("ready", 60_000);
  b.send({ t: "init", dataDir: path.join(dir, "b"), ...online, share: { url: ready.url, heads: ready.heads } });
  await b.next("ready", 120_000);
  // Then both take the relay out of their settings: offline.
  devices.forEach((d) => d.send({ t: "offline" }));
  await Promise.all(devices.map((d) => d.next("offline", 30_000)));
  console.log(`Both devices have ${ready.url}, and are offline; typing…`);
  devices.forEach((d, i) => d.send({ t: "type", edits: options.edits, seed: 11 + i }));
  typed = await Promise.all(devices.map((d) => d.next("typed", 15 * 60_000)));
  typed.forEach((t, i) => console.log(`  ${devices[i]!.name}: ${fmt(t.ms / 1000, 1)} s, ${fmt(t.commits)} changes, ${fmt(t.chars)} characters`));
  mergedHeads = [...new Set([...typed[0]!.heads, ...typed[1]!.heads])].sort();

  const relayCpu = cpuMs(relay.child.pid!);
  const [inBefore, outBefore] = await relay.metrics("relay_bytes_received_total", "relay_bytes_sent_total");
  console.log(`Adding the relay (${relay.url}) to both devices again…\n`);
  devices.forEach((d) => d.send({ t: "connect", relayUrl: relay!.url, token: relay!.token, heads: mergedHeads }));
  merged = await Promise.all(devices.map((d) => d.next("merged", 10 * 60_000)));
  relayCpuMs = cpuMs(relay.child.pid!) - relayCpu;
  const [inAfter, outAfter] = await relay.metrics("relay_bytes_received_total", "relay_bytes_sent_total");
  relayBytes = { received: inAfter! - inBefore!, sent: outAfter! - outBefore! };
  if (merged[0]!.text !== merged[1]!.text) throw new Error("the two devices' texts differ after the merge");
  devices.forEach((d) => d.send({ t: "close" }));
  closed = await Promise.all(devices.map((d) => d.next("closed", 60_000)));
} finally {
  await relay?.stop();
}

// The baseline: the same two sets of changes, bare Automerge in this process.
const docA = A.load<WriterDocument>(Buffer.from(typed[0]!.base64, "base64"));
const docB = A.load<WriterDocument>(Buffer.from(typed[1]!.base64, "base64"));
const t0 = performance.now();
const mergedAB = A.merge(A.clone(docA), docB);
const mergeAB = performance.now() - t0;
const t1 = performance.now();
const mergedBA = A.merge(A.clone(docB), docA);
const mergeBA = performance.now() - t1;
const sameAsApp = JSON.stringify(A.getHeads(mergedAB).sort()) === JSON.stringify(mergedHeads) && A.getHeads(mergedBA).length === mergedHeads.length;

/** The sync protocol between two bare documents in memory, until neither has anything to send. */
function bareSync(): { ms: number; bytes: number; messages: number } {
  let x = A.clone(docA);
  let y = A.clone(docB);
  let sx = A.initSyncState();
  let sy = A.initSyncState();
  let bytes = 0;
  let messages = 0;
  const start = performance.now();
  for (let round = 0; round < 100; round++) {
    let quiet = true;
    const [sx2, toY] = A.generateSyncMessage(x, sx);
    sx = sx2;
    if (toY) {
      quiet = false;
      bytes += toY.byteLength;
      messages++;
      [y, sy] = A.receiveSyncMessage(y, sy, toY);
    }
    const [sy2, toX] = A.generateSyncMessage(y, sy);
    sy = sy2;
    if (toX) {
      quiet = false;
      bytes += toX.byteLength;
      messages++;
      [x, sx] = A.receiveSyncMessage(x, sx, toX);
    }
    if (quiet) break;
  }
  const ms = performance.now() - start;
  if (JSON.stringify(A.getHeads(x).sort()) !== JSON.stringify(mergedHeads) || JSON.stringify(A.getHeads(y).sort()) !== JSON.stringify(mergedHeads)) throw new Error("bare sync did not converge on the merged heads");
  return { ms, bytes, messages };
}
const sync = bareSync();
const savedBytes = A.save(mergedAB).byteLength;
const loadAtEnd = loadAverage();

const bothWindow = Math.max(merged[0]!.windowMs, merged[1]!.windowMs);
const bothSaved = Math.max(merged[0]!.savedMs, merged[1]!.savedMs);
const appBytes = relayBytes.received + relayBytes.sent;
const appCpu = merged[0]!.cpuMs + merged[1]!.cpuMs + relayCpuMs;
console.log(`| | A | B |`);
console.log(`|---|---|---|`);
console.log(`| changes typed offline (keystrokes grouped per burst) | ${fmt(typed[0]!.commits)} | ${fmt(typed[1]!.commits)} |`);
console.log(`| relay added → the window shows the merged heads | ${fmt(merged[0]!.windowMs)} ms | ${fmt(merged[1]!.windowMs)} ms |`);
console.log(`| relay added → the host has them on disk (confirmSaved) | ${fmt(merged[0]!.savedMs)} ms | ${fmt(merged[1]!.savedMs)} ms |`);
console.log(`| CPU of the device's process over that span | ${fmt(merged[0]!.cpuMs)} ms | ${fmt(merged[1]!.cpuMs)} ms |`);
console.log(`| data directory after the merge | ${fmt(closed[0]!.diskBytes)} bytes | ${fmt(closed[1]!.diskBytes)} bytes |`);
console.log(`| of which the document's own files | ${fmt(closed[0]!.documentBytes)} bytes | ${fmt(closed[1]!.documentBytes)} bytes |`);
console.log(`| by top-level entry | ${Object.entries(closed[0]!.diskByEntry).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")} | ${Object.entries(closed[1]!.diskByEntry).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")} |`);
console.log(`| peak resident memory of the process | ${fmt(closed[0]!.peakRss / 2 ** 20, 1)} MB | ${fmt(closed[1]!.peakRss / 2 ** 20, 1)} MB |`);
console.log(`\nRelay CPU over the merge: ${fmt(relayCpuMs)} ms. Merged document: ${fmt(merged[0]!.changes)} changes, ${fmt(merged[0]!.text.length)} characters.\n`);
console.log(`| both converged | Writer (2 hosts + relay) | bare Automerge |`);
console.log(`|---|---|---|`);
console.log(`| time, both windows at the merged heads | ${fmt(bothWindow)} ms | A.merge ${fmt(mergeAB)} ms (A←B), ${fmt(mergeBA)} ms (B←A); sync protocol in memory ${fmt(sync.ms)} ms |`);
console.log(`| time, both hosts with the merge on disk | ${fmt(bothSaved)} ms | |`);
console.log(`| bytes on disk, each device | ${fmt(closed[0]!.diskBytes)} and ${fmt(closed[1]!.diskBytes)} (the document's files: ${fmt(closed[0]!.documentBytes)} and ${fmt(closed[1]!.documentBytes)}) | ${fmt(savedBytes)} (A.save of the merged document) |`);
console.log(`| CPU, all processes | ${fmt(appCpu)} ms | ${fmt(mergeAB + mergeBA)} ms (both merges) |`);
console.log(`| bytes exchanged | ${fmt(appBytes)} (the relay's protocol bytes: ${fmt(relayBytes.received)} in, ${fmt(relayBytes.sent)} out) | ${fmt(sync.bytes)} (${sync.messages} messages, sync protocol directly) |`);
console.log(`\nA.merge gives the heads the devices reached: ${sameAsApp}. Load average at the start ${loadAtStart}, at the end ${loadAtEnd}.`);

const figures: Figure[] = [
  { name: `both windows at the merged heads after ${fmt(options.edits)} offline keystrokes each`, value: Math.round(bothWindow), unit: "ms", baseline: { name: "bare A.merge of the same changes", value: Math.round(mergeAB) } },
  { name: "both windows at the merged heads", value: Math.round(bothWindow), unit: "ms", baseline: { name: "bare sync protocol between two documents in memory", value: Math.round(sync.ms) } },
  { name: "both hosts with the merge on disk", value: Math.round(bothSaved), unit: "ms", baseline: { name: "bare A.merge", value: Math.round(mergeAB) } },
  { name: "CPU: both device processes and the relay, over the merge", value: Math.round(appCpu), unit: "ms", baseline: { name: "bare A.merge, both ways", value: Math.round(mergeAB + mergeBA) } },
  { name: "bytes on disk after the merge, device A's data directory", value: closed[0]!.diskBytes, unit: "bytes", baseline: { name: "A.save of the merged document", value: savedBytes } },
  { name: "bytes of the document's own files after the merge, device A", value: closed[0]!.documentBytes, unit: "bytes", baseline: { name: "A.save of the merged document", value: savedBytes } },
  { name: "protocol bytes through the relay (in + out, its /metrics)", value: appBytes, unit: "bytes", baseline: { name: "bare sync protocol, both ways", value: sync.bytes } },
];
const file = await writeSummary(import.meta.dirname, {
  bench: "offline-merge",
  command: `npx tsx bench/offline-merge/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
  commit: commitDescription(projectRoot),
  machine: machineDescription(),
  date: startedAt.toISOString(),
  durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
  figures,
  notes: [
    `Two real hosts in processes of their own, ${fmt(options.edits)} typing-like keystrokes each at random places of the same document while neither had a relay (${fmt(typed[0]!.commits)} and ${fmt(typed[1]!.commits)} changes: the editor groups a lone writer's keystrokes per burst), then the relay they had synced the empty document through added to both again at once. Times from addRelay, so they include connecting.`,
    "Baseline: the two sides' saved documents, loaded in one process: A.merge, and the sync protocol between two documents in memory (no network, no storage).",
    `Relay CPU over the merge: ${fmt(relayCpuMs)} ms. Load average ${loadAtStart} at the start, ${loadAtEnd} at the end (2 cores, shared).`,
  ],
});
console.log(`summary: ${path.relative(process.cwd(), file)}`);
if (options.keep) console.log(`kept: ${dir}`);
process.exit(0);
