/**
 * Relay capacity on one core (`npm run bench:relay-capacity`): how many typists the relay
 * serves, at 6 keystrokes a second each, before the 99th percentile of keystroke to the
 * other writers passes 100 ms: on one document, and spread over many documents.
 *
 * The relay is the real one (`sync-server/cli.ts`), pinned to core 0 with `taskset`. The
 * load comes from this one process, pinned to core 1, so that what is measured is the
 * relay and not the load generator: no automerge-repo `Repo` and no Automerge document per
 * simulated writer. Each writer is one WebSocket that speaks the relay's protocol as a
 * desktop's host does (join; then `sync` and `ephemeral` messages): every keystroke is a
 * pre-computed one-character Automerge change, sent at once as the app's fast path (an
 * ephemeral `writer/change` broadcast, src/shared/sync/changeBroadcast.ts) and by the sync
 * protocol beside it (the backstop), whose messages the generator writes and reads with
 * Automerge's sync-message codec and a record of which changes each connection has,
 * instead of a document. See README.md.
 *
 *   tsx bench/relay-capacity/run.ts [--one-document 2,4,8,16,32,64,96] [--many 100,200,300,400,500] [--documents 100] [--seconds 10] [--keep-going]
 *
 * Prints PASS or FAIL for the targets (64 typists on one document, 500 writers across 100
 * documents: p99 < 100 ms, nothing lost). A benchmark, not a test: it exits 0 whenever it
 * measured, non-zero only when it could not run.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { WebSocket } from "ws";
import { next as A } from "@automerge/automerge";
import { cbor, generateAutomergeUrl, parseAutomergeUrl } from "@automerge/automerge-repo/slim";
import { CHANGE_BROADCAST, type ChangeBroadcast } from "../../src/shared/sync/changeBroadcast";
import { cpuMs, machineTicks, memoryMiB } from "../common/proc";
import { commitDescription, machineDescription, writeSummary, type Figure, type Series } from "../common/results";

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, "../..");

/** The issue's targets. */
const TARGET_P99_MS = 100;
const TARGET_ONE_DOCUMENT = 64;
const TARGET_MANY_WRITERS = 500;
const TARGET_MANY_DOCUMENTS = 100;
/** A desktop host's sync throttle toward the relay (Host.ts: 50 ms per document and peer). */
const HOST_SYNC_THROTTLE_MS = 50;
/** From "go" to the first keystroke, so that every connection starts on time. */
const START_DELAY_MS = 500;
/** Setup bounds: a step that cannot get its connections in within these is an error. */
const SETUP_TIMEOUT_MS = 60_000;
/** A keystroke sent this much after its time counts as late (the generator was busy). */
const LATE_MS = 20;
/** The text each document starts with (one change by a "creator" actor). */
const BASE_TEXT = "It was a bright cold day in April, and the clocks were striking thirteen. ".repeat(4);
const LETTERS = "abcdefghijklmnopqrstuvwxyz     ";
/** The chain number of the base's change in the ChangeIndex. */
const BASE_CHAIN = -1;
/** An empty bloom filter: "of what came after `lastSync` I have nothing". */
const EMPTY_BLOOM = new Uint8Array(0);

// ---------------------------------------------------------------------------------
// Options.

interface Options {
  oneDocument: number[];
  many: number[];
  documents: number;
  seconds: number;
  rate: number;
  graceS: number;
  warmupS: number;
  seed: number;
  keepGoing: boolean;
  pin: boolean;
  profile: boolean;
  relayArgs: string[];
}

function parseOptions(): Options {
  const int = (min: number) => (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer >= ${min}`);
    return n;
  };
  const list = (value: string) => {
    if (value.trim() === "" || value === "none") return [];
    const ns = value.split(",").map((v) => Number(v.trim()));
    if (ns.some((n) => !Number.isInteger(n) || n < 2)) throw new InvalidArgumentError("must be a comma-separated list of integers >= 2 (or none)");
    return ns;
  };
  const collect = (value: string, previous: string[]) => [...previous, value];
  const program = new Command()
    .name("npm run bench:relay-capacity --")
    .description("Relay capacity on one core: typists on one document, and writers across many documents, at --rate keystrokes/s each, raised until p99 passes 100 ms.")
    .option("--one-document <list>", "typists on one document, one step each, in order (none: skip this ramp)", list, [2, 4, 8, 16, 32, 64, 96])
    .option("--many <list>", "writers spread over --documents documents, one step each, in order (none: skip this ramp)", list, [100, 200, 300, 400, 500])
    .option("--documents <n>", "documents the --many writers are spread over", int(1), TARGET_MANY_DOCUMENTS)
    .option("--seconds <n>", "measured typing time per step (after --warmup)", int(1), 10)
    .option("--rate <n>", "keystrokes per second per writer (±50 % jitter)", int(1), 6)
    .option("--grace <s>", "how long after typing a keystroke may still arrive", int(1), 5)
    .option("--warmup <s>", "typing before the measured --seconds (the relay warms up; not counted)", int(0), 2)
    .option("--seed <n>", "seed for typing times and positions", int(0), 1)
    .option("--keep-going", "run every step, even after p99 passed 100 ms", false)
    .option("--no-pin", "do not pin the relay to core 0 and the generator to core 1")
    .option("--profile", "write CPU profiles of the relay (one per thread) for each step to results/profiles/<step>/", false)
    .option("--relay-arg <arg>", "extra argument for the relay's command line (repeatable), e.g. --relay-arg=--workers=0", collect, [] as string[]);
  program.parse();
  const o = program.opts<{ oneDocument: number[]; many: number[]; documents: number; seconds: number; rate: number; grace: number; warmup: number; seed: number; keepGoing: boolean; pin: boolean; profile: boolean; relayArg: string[] }>();
  return { oneDocument: o.oneDocument, many: o.many, documents: o.documents, seconds: o.seconds, rate: o.rate, graceS: o.grace, warmupS: o.warmup, seed: o.seed, keepGoing: o.keepGoing, pin: o.pin, profile: o.profile, relayArgs: o.relayArg };
}

// ---------------------------------------------------------------------------------
// /proc readings (Linux).

/**
 * How long a process's main thread was ready to run but waited for a CPU (ms, from
 * /proc/PID/schedstat): the time other work on its core (other processes, and its own
 * other threads: storage, workers) took from the thread that serves every connection.
 */
function mainThreadRunDelayMs(pid: number): number {
  return Number(fsSync.readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e6;
}

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------
// Statistics.

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function stats(values: Float64Array): Stats {
  if (values.length === 0) return { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** A small seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------
// Pre-computed keystrokes.

/**
 * Every document starts from the same one-change base. Writer `c` of any step types
 * chain `c`: one-character insertions at random places of its own view (the base plus its
 * own earlier keystrokes), each change depending on its previous one. A chain does not
 * depend on the document it is typed into, so one set of chains serves every step.
 */
interface Base {
  changes: Uint8Array[];
  heads: string[];
  bytes: Uint8Array;
}

interface Chain {
  changes: Uint8Array[];
  hashes: string[];
  /** The ephemeral message's data for each change: CBOR of `{ type: "writer/change", change }`. */
  broadcasts: Uint8Array[];
}

function makeBase(): Base {
  const doc = A.from({ text: BASE_TEXT }, { actor: "00".repeat(16) });
  return { changes: A.getAllChanges(doc), heads: A.getHeads(doc), bytes: A.save(doc) };
}

function makeChain(base: Base, index: number, length: number, seed: number): Chain {
  const random = prng(seed * 1_000_003 + index);
  // The actor is the chain's number (plus one: actor 0 made the base).
  let doc = A.load<{ text: string }>(base.bytes, { actor: (index + 1).toString(16).padStart(32, "0") });
  const chain: Chain = { changes: [], hashes: [], broadcasts: [] };
  for (let k = 0; k < length; k++) {
    const position = Math.floor(random() * (doc.text.length + 1));
    const letter = LETTERS[Math.floor(random() * LETTERS.length)]!;
    doc = A.change(doc, { time: 0 }, (d) => A.splice(d, ["text"], position, 0, letter));
    const change = A.getLastLocalChange(doc)!;
    chain.changes.push(change);
    chain.hashes.push(A.getHeads(doc)[0]!);
    chain.broadcasts.push(cbor.encode({ type: CHANGE_BROADCAST, change } satisfies ChangeBroadcast));
  }
  return chain;
}

/** Which change some received bytes are: by their checksum (the hash's first 4 bytes), then by the bytes. */
class ChangeIndex {
  readonly #byChecksum = new Map<number, { chain: number; seq: number; bytes: Uint8Array }[]>();
  readonly #byHash = new Map<string, { chain: number; seq: number }>();

  add(chain: number, seq: number, bytes: Uint8Array, hash: string): void {
    const key = checksum(bytes);
    const list = this.#byChecksum.get(key);
    if (list) list.push({ chain, seq, bytes });
    else this.#byChecksum.set(key, [{ chain, seq, bytes }]);
    this.#byHash.set(hash, { chain, seq });
  }

  identify(bytes: Uint8Array): { chain: number; seq: number } | undefined {
    const list = this.#byChecksum.get(checksum(bytes));
    if (!list) return undefined;
    if (list.length === 1) return list[0];
    return list.find((c) => sameBytes(c.bytes, bytes));
  }

  byHash(hash: string): { chain: number; seq: number } | undefined {
    return this.#byHash.get(hash);
  }
}

/** A change chunk: 4 magic bytes, then the checksum. */
function checksum(bytes: Uint8Array): number {
  return ((bytes[4]! << 24) | (bytes[5]! << 16) | (bytes[6]! << 8) | bytes[7]!) >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------
// A step: its documents, writers and their typing times.

interface StepPlan {
  ramp: "one-document" | "many-documents";
  writers: number;
  documents: number;
  /** Writer w is in document w % documents and types chain w. */
  times: Float64Array[];
}

function planStep(ramp: StepPlan["ramp"], writers: number, documents: number, options: Options, stepSeed: number): StepPlan {
  const times: Float64Array[] = [];
  const interval = 1000 / options.rate;
  const end = (options.warmupS + options.seconds) * 1000;
  for (let w = 0; w < writers; w++) {
    const random = prng(stepSeed * 7919 + w);
    const at: number[] = [];
    for (let t = random() * interval; t < end; t += interval * (0.5 + random())) at.push(t);
    times.push(Float64Array.from(at));
  }
  return { ramp, writers, documents, times };
}

// ---------------------------------------------------------------------------------
// The relay.

interface Relay {
  child: ChildProcess;
  pid: number;
  url: string;
  output: string[];
}

async function startRelay(dataDir: string, writers: number, options: Options, pinned: boolean, label: string): Promise<Relay> {
  const nodeArgs = ["--import", "tsx"];
  // One profile per thread (the main thread's is the largest), in a folder per step.
  if (options.profile) nodeArgs.push("--cpu-prof", "--cpu-prof-dir", path.join(here, "results", "profiles", label));
  // Every writer connects anonymously: one "token", which by default may hold 100 connections.
  const limits = ["--max-connections-per-token", String(Math.max(100, writers + 10)), "--max-connections", String(Math.max(1000, writers + 10))];
  const relayArgs = ["sync-server/cli.ts", "--allow-anonymous", "--port", "0", "--host", "127.0.0.1", "--data", dataDir, ...limits, ...options.relayArgs];
  const [command, args] = pinned ? ["taskset", ["-c", "0", process.execPath, ...nodeArgs, ...relayArgs]] : [process.execPath, [...nodeArgs, ...relayArgs]];
  const child = spawn(command, args, { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the relay did not say "listening on" within 30 s:\n${output.join("")}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      const match = /listening on (ws:\/\/[\d.:]+)/.exec(output.join(""));
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the relay exited (${code}) before it was ready:\n${output.join("")}`));
    });
  });
  // Keep reading (a full pipe would block the relay), but keep only warnings and worse.
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line && !/"level":(10|20|30)\b/.test(line) && output.length < 2000) output.push(line + "\n");
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { child, pid: child.pid!, url, output };
}

async function stopRelay(relay: Relay): Promise<void> {
  if (relay.child.exitCode !== null || relay.child.signalCode !== null) return;
  const exited = new Promise((resolve) => relay.child.once("exit", resolve));
  relay.child.kill("SIGTERM");
  const timer = setTimeout(() => relay.child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Counters from the relay's /metrics, summed over their labels, by name{type}. */
async function relayCounters(relay: Relay): Promise<Record<string, number>> {
  // A relay far behind may answer late: the counters are left out rather than waited for.
  const text = await (await fetch(`${relay.url.replace(/^ws:/, "http:")}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(relay_messages_(?:received|sent)_total|relay_ephemeral_refused_total|relay_throttled_total|relay_slowed_total|relay_closed_connections_total|relay_sync_resyncs_total)(?:\{[^}]*?(?:type|reason)="([^"]*)"[^}]*\})? ([\d.e+-]+)$/.exec(line);
    if (!m) continue;
    const key = m[2] ? `${m[1]}{${m[2]}}` : m[1]!;
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}

const children = new Set<ChildProcess>();

// ---------------------------------------------------------------------------------
// The load generator: one connection per writer, as a desktop host speaks to the relay.

interface WireIn {
  type?: unknown;
  senderId?: unknown;
  targetId?: unknown;
  documentId?: unknown;
  data?: unknown;
  count?: unknown;
  message?: unknown;
}

/** What all the connections of one step share: the documents, the chains, the arrivals. */
class Step {
  readonly plan: StepPlan;
  readonly base: Base;
  readonly chains: Chain[];
  readonly index: ChangeIndex;
  readonly documentIds: string[];
  /** Writers of each document (their numbers), in order: a writer's place is its index there. */
  readonly members: number[][];
  readonly writers: Writer[] = [];
  /** When each writer sent each keystroke (performance.now()); NaN until sent. */
  readonly sentAt: Float64Array[];
  /** The longest chain of the step: arrival arrays are indexed place * stride + seq. */
  readonly stride: number;
  /** Ephemeral sender ID → writer number. */
  readonly writerBySender = new Map<string, number>();
  firstArrivals = 0;
  syncArrivals = 0;
  fastArrivals = 0;
  unknownChanges = 0;
  errors: string[] = [];
  late = 0;
  /** Arrivals count until the grace period ends; what comes later is lost. */
  recording = true;

  constructor(plan: StepPlan, base: Base, chains: Chain[], index: ChangeIndex) {
    this.plan = plan;
    this.base = base;
    this.chains = chains;
    this.index = index;
    this.documentIds = Array.from({ length: plan.documents }, () => parseAutomergeUrl(generateAutomergeUrl()).documentId);
    this.members = Array.from({ length: plan.documents }, () => []);
    for (let w = 0; w < plan.writers; w++) this.members[w % plan.documents]!.push(w);
    this.sentAt = plan.times.map((t) => new Float64Array(t.length).fill(NaN));
    this.stride = Math.max(1, ...plan.times.map((t) => t.length));
  }
}

class Writer {
  readonly step: Step;
  readonly number: number;
  readonly document: number;
  readonly documentId: string;
  /** This writer's place among its document's writers. */
  readonly place: number;
  readonly peerId: string;
  /** The sender of its keystroke broadcasts (the app's renderer; the host passes them on). */
  readonly senderId: string;
  readonly sessionId = randomUUID();
  readonly storageId = randomUUID();
  socket: WebSocket | undefined;
  relayPeerId = "";
  /** Per place of the document: the last keystroke of that writer this connection has by sync (its own: typed). */
  readonly latest: Int32Array;
  /** Per place * stride + seq: first arrival by the fast path, and by sync (NaN: not yet). */
  readonly fastAt: Float64Array;
  readonly syncAt: Float64Array;
  typed = 0;
  /** The relay closed its connection during the step (it does not reconnect). */
  closedByRelay = false;
  #unsent: Uint8Array[] = [];
  #lastSyncAt = -Infinity;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  #onSync: (() => void) | undefined;
  syncMessagesIn = 0;
  syncMessagesOut = 0;

  constructor(step: Step, number: number) {
    this.step = step;
    this.number = number;
    this.document = number % step.plan.documents;
    this.documentId = step.documentIds[this.document]!;
    this.place = step.members[this.document]!.indexOf(number);
    this.peerId = `cap-${process.pid}-${number}`;
    this.senderId = `${this.peerId}-window`;
    const places = step.members[this.document]!.length;
    this.latest = new Int32Array(places).fill(-1);
    this.fastAt = new Float64Array(places * step.stride).fill(NaN);
    this.syncAt = new Float64Array(places * step.stride).fill(NaN);
  }

  /** Opens the connection and joins; resolves with the relay's answer. */
  open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      this.socket = socket;
      const timer = setTimeout(() => reject(new Error(`writer ${this.number}: no "peer" answer within ${SETUP_TIMEOUT_MS / 1000} s`)), SETUP_TIMEOUT_MS);
      socket.binaryType = "nodebuffer";
      socket.once("open", () => this.#send({ type: "join", senderId: this.peerId, peerMetadata: { storageId: this.storageId, isEphemeral: false }, supportedProtocolVersions: ["1"] }));
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("close", (code, reason) => {
        if (closing) return;
        this.closedByRelay = true;
        this.step.errors.push(`writer ${this.number}: connection closed by the relay (${code} ${reason.toString()}); it does not reconnect (a desktop would, and resend what it has)`);
      });
      socket.on("message", (data: Buffer) => {
        const message = cbor.decode(data) as WireIn;
        if (message.type === "peer") {
          clearTimeout(timer);
          this.relayPeerId = String(message.senderId);
          resolve();
        } else this.#receive(message);
      });
    });
  }

  /**
   * The first sync message for its document. The creator sends the base change (as a
   * host that made the document); everyone else says it has the base. Resolves at the
   * relay's first answer (it answers once its copy is on disk).
   */
  join(create: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer ${this.number}: no sync answer within ${SETUP_TIMEOUT_MS / 1000} s`)), SETUP_TIMEOUT_MS);
      this.#onSync = () => {
        clearTimeout(timer);
        resolve();
      };
      const { base } = this.step;
      const data = create
        ? A.encodeSyncMessage({ heads: base.heads, need: [], have: [{ lastSync: base.heads, bloom: EMPTY_BLOOM }], changes: base.changes })
        : A.encodeSyncMessage({ heads: base.heads, need: [], have: [{ lastSync: base.heads, bloom: EMPTY_BLOOM }], changes: [] });
      this.#send({ type: "sync", senderId: this.peerId, targetId: this.relayPeerId, documentId: this.documentId, data });
    });
  }

  /** Keystroke `seq`: broadcast at once (the fast path), and synced within the host's throttle. */
  type(seq: number, now: number): void {
    this.step.sentAt[this.number]![seq] = now;
    this.typed = seq + 1;
    this.latest[this.place] = seq;
    const chain = this.step.chains[this.number]!;
    this.#unsent.push(chain.changes[seq]!);
    this.#send({ type: "ephemeral", senderId: this.senderId, targetId: this.relayPeerId, documentId: this.documentId, data: chain.broadcasts[seq], count: seq + 1, sessionId: this.sessionId });
    if (this.#syncTimer !== undefined) return;
    const wait = this.#lastSyncAt + HOST_SYNC_THROTTLE_MS - now;
    if (wait <= 0) this.#sync([], []);
    else
      this.#syncTimer = setTimeout(() => {
        this.#syncTimer = undefined;
        if (this.#unsent.length > 0) this.#sync([], []);
      }, wait);
  }

  /** Whether every keystroke typed so far on its document has reached this connection by sync. */
  hasAllBySync(): boolean {
    const members = this.step.members[this.document]!;
    for (let p = 0; p < members.length; p++) if (this.latest[p]! < this.step.writers[members[p]!]!.typed - 1) return false;
    return true;
  }

  get unsent(): number {
    return this.#unsent.length;
  }

  /** What this connection has: one head per writer that typed on the document (chains depend only on their own), else the base. */
  #heads(): string[] {
    const heads: string[] = [];
    const members = this.step.members[this.document]!;
    for (let p = 0; p < members.length; p++) {
      const seq = this.latest[p]!;
      if (seq >= 0) heads.push(this.step.chains[members[p]!]!.hashes[seq]!);
    }
    return heads.length > 0 ? heads : this.step.base.heads;
  }

  /**
   * A sync message as a host's Automerge would make it, from what this connection has:
   * its heads; "have" with lastSync = those heads and an empty bloom filter (it has
   * nothing beyond them, so the relay sends whatever it has after them); what it needs;
   * and its changes the relay lacks.
   */
  #sync(need: string[], give: Uint8Array[]): void {
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    const heads = this.#heads();
    const changes = give.length > 0 ? [...give, ...this.#unsent] : this.#unsent;
    this.#unsent = [];
    const data = A.encodeSyncMessage({ heads, need, have: [{ lastSync: heads, bloom: EMPTY_BLOOM }], changes });
    this.#lastSyncAt = performance.now();
    this.syncMessagesOut++;
    this.#send({ type: "sync", senderId: this.peerId, targetId: this.relayPeerId, documentId: this.documentId, data });
  }

  #receive(message: WireIn): void {
    const now = performance.now();
    const step = this.step;
    if (!step.recording) return;
    if (message.type === "ephemeral") {
      const from = step.writerBySender.get(String(message.senderId));
      if (from === undefined || typeof message.count !== "number") return;
      const seq = message.count - 1;
      const place = step.writers[from]!.place;
      if (step.writers[from]!.document !== this.document || from === this.number) return;
      const slot = place * step.stride + seq;
      if (Number.isNaN(this.fastAt[slot])) {
        this.fastAt[slot] = now;
        step.fastArrivals++;
        if (Number.isNaN(this.syncAt[slot])) step.firstArrivals++;
      }
      return;
    }
    if (message.type === "sync" && message.data instanceof Uint8Array) {
      this.syncMessagesIn++;
      const decoded = A.decodeSyncMessage(message.data);
      let learned = false;
      for (const change of decoded.changes) {
        const which = step.index.identify(change);
        if (which?.chain === BASE_CHAIN) continue;
        if (!which) {
          step.unknownChanges++;
          continue;
        }
        const writer = step.writers[which.chain];
        if (!writer || writer.document !== this.document || writer.number === this.number) continue;
        const slot = writer.place * step.stride + which.seq;
        if (Number.isNaN(this.syncAt[slot])) {
          this.syncAt[slot] = now;
          step.syncArrivals++;
          if (Number.isNaN(this.fastAt[slot])) step.firstArrivals++;
        }
        if (which.seq > this.latest[writer.place]!) {
          this.latest[writer.place] = which.seq;
          learned = true;
        }
      }
      // The relay's heads this connection lacks (Automerge asks for them), and what the relay asks of it.
      const need = decoded.heads.filter((hash) => {
        const which = step.index.byHash(hash);
        if (!which) return !step.base.heads.includes(hash);
        const writer = step.writers[which.chain];
        return writer !== undefined && writer.document === this.document && which.seq > this.latest[writer.place]!;
      });
      const give: Uint8Array[] = [];
      for (const hash of decoded.need) {
        const which = step.index.byHash(hash);
        if (which?.chain === this.number && which.seq < this.typed && !this.#unsent.includes(step.chains[this.number]!.changes[which.seq]!)) give.push(step.chains[this.number]!.changes[which.seq]!);
        else if (step.base.heads.includes(hash)) give.push(...step.base.changes);
      }
      const onSync = this.#onSync;
      this.#onSync = undefined;
      // A host answers a sync message that changed its document (or that asks, or that it
      // has changes for) at once: its acknowledgement tells the relay what it now has.
      if (learned || need.length > 0 || give.length > 0 || this.#unsent.length > 0) this.#sync(need, give);
      onSync?.();
      return;
    }
    if (message.type === "error") step.errors.push(`writer ${this.number}: relay says ${String(message.message)}`);
    else if (message.type === "doc-unavailable") step.errors.push(`writer ${this.number}: relay says document unavailable`);
  }

  #send(message: object): void {
    const socket = this.socket;
    if (socket?.readyState === WebSocket.OPEN) socket.send(cbor.encode(message));
  }

  close(): void {
    clearTimeout(this.#syncTimer);
    this.socket?.terminate();
  }
}

let closing = false;

// ---------------------------------------------------------------------------------
// Checking that nothing was lost: a fresh client (a real Automerge document per document)
// loads every document from the relay by sync and must find every keystroke.

async function verify(url: string, step: Step): Promise<{ complete: number; incomplete: string[] }> {
  const expected = step.documentIds.map((_, d) => {
    const heads = step.members[d]!.filter((w) => step.writers[w]!.typed > 0).map((w) => step.chains[w]!.hashes[step.writers[w]!.typed - 1]!);
    const typed = step.members[d]!.reduce((n, w) => n + step.writers[w]!.typed, 0);
    return { heads: (heads.length > 0 ? heads : step.base.heads).slice().sort().join(","), length: BASE_TEXT.length + typed };
  });
  const peerId = `cap-verify-${process.pid}-${Date.now()}`;
  const socket = new WebSocket(url, { perMessageDeflate: false });
  socket.binaryType = "nodebuffer";
  const send = (message: object) => socket.send(cbor.encode(message));
  const docs = step.documentIds.map(() => ({ doc: A.init<{ text?: string }>(), state: A.initSyncState(), done: false }));
  const byId = new Map(step.documentIds.map((id, d) => [id, d]));
  let relayPeerId = "";
  const result = await new Promise<{ complete: number; incomplete: string[] }>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      const incomplete: string[] = [];
      docs.forEach((entry, d) => {
        if (entry.done) return;
        const heads = A.getHeads(entry.doc);
        const missing = expected[d]!.heads.split(",").filter((h) => !heads.includes(h) && A.getBackend(entry.doc).getChangeByHash(h) === null).length;
        incomplete.push(`document ${d}: ${missing} of the expected heads missing, text ${entry.doc.text?.length ?? 0} of ${expected[d]!.length} characters`);
      });
      resolve({ complete: docs.filter((e) => e.done).length, incomplete });
    };
    const timer = setTimeout(finish, 30_000);
    const check = (d: number) => {
      const entry = docs[d]!;
      if (A.getHeads(entry.doc).slice().sort().join(",") === expected[d]!.heads && entry.doc.text?.length === expected[d]!.length) entry.done = true;
      if (docs.every((e) => e.done)) finish();
    };
    socket.once("open", () => send({ type: "join", senderId: peerId, peerMetadata: {}, supportedProtocolVersions: ["1"] }));
    socket.on("message", (data: Buffer) => {
      const message = cbor.decode(data) as WireIn;
      if (message.type === "peer") {
        relayPeerId = String(message.senderId);
        docs.forEach((entry, d) => {
          const [state, request] = A.generateSyncMessage(entry.doc, entry.state);
          entry.state = state;
          if (request) send({ type: "request", senderId: peerId, targetId: relayPeerId, documentId: step.documentIds[d], data: request });
        });
      } else if (message.type === "sync" && message.data instanceof Uint8Array) {
        const d = byId.get(String(message.documentId));
        if (d === undefined) return;
        const entry = docs[d]!;
        [entry.doc, entry.state] = A.receiveSyncMessage(entry.doc, entry.state, message.data);
        const [state, reply] = A.generateSyncMessage(entry.doc, entry.state);
        entry.state = state;
        if (reply) send({ type: "sync", senderId: peerId, targetId: relayPeerId, documentId: step.documentIds[d], data: reply });
        check(d);
      }
    });
    socket.once("error", finish);
  });
  socket.terminate();
  return result;
}

// ---------------------------------------------------------------------------------
// Running one step.

interface StepResult {
  ramp: StepPlan["ramp"];
  writers: number;
  documents: number;
  writersPerDocument: number;
  keystrokes: number;
  deliveries: number;
  /** Keystroke to each other writer on the document, by whichever path came first. */
  latency: Stats;
  fastPath: Stats & { missing: number };
  syncPath: Stats & { missing: number };
  lost: number;
  /** Connections the relay closed during the step (a desktop would reconnect; this generator does not). */
  disconnected: number;
  /** Of the lost deliveries, those of keystrokes whose writer's connection the relay closed, or to such a writer. */
  lostToDisconnected: number;
  /** Every document loaded by a fresh client from the relay held every keystroke. */
  verified: { complete: number; documents: number; incomplete: string[] };
  relayCpuPct: number;
  /** Time the relay's main thread was ready to run but waited for its core (other processes, or the relay's other threads, had it), % of the typing window. */
  relayWaitPct: number;
  relayCpuMsPerKeystroke: number;
  relayCpuUsPerDelivery: number;
  relayRssMiB: number;
  relayRssPeakMiB: number;
  generatorCpuPct: number;
  generatorLoopDelayP99Ms: number;
  generatorLoopDelayMaxMs: number;
  lateKeystrokes: number;
  machineBusyPct: number;
  otherCpuPct: number;
  /** Every keystroke reached every other writer by sync within the grace period (else the relay's CPU per keystroke leaves out work still pending). */
  caughtUp: boolean;
  typingS: number;
  catchUpS: number;
  relayMessages: Record<string, number>;
  generatorSyncMessages: { in: number; out: number };
  errors: string[];
  relayWarnings: string[];
}

async function runStep(plan: StepPlan, base: Base, chains: Chain[], index: ChangeIndex, options: Options, pinned: boolean, tmpRoot: string): Promise<StepResult> {
  const label = `${plan.ramp}-${plan.writers}`;
  const dataDir = await fs.mkdtemp(path.join(tmpRoot, `${label}-`));
  const relay = await startRelay(dataDir, plan.writers, options, pinned, label);
  const step = new Step(plan, base, chains, index);
  for (let w = 0; w < plan.writers; w++) {
    const writer = new Writer(step, w);
    step.writers.push(writer);
    step.writerBySender.set(writer.senderId, w);
  }
  closing = false;
  try {
    // Connect (a few at a time: the relay takes at most 256 upgrades at once) and join.
    for (let i = 0; i < step.writers.length; i += 50) await Promise.all(step.writers.slice(i, i + 50).map((w) => w.open(relay.url)));
    // Each document's first writer creates it; the others join once the relay has it.
    const creators = step.members.map((m) => step.writers[m[0]!]!);
    await Promise.all(creators.map((w) => w.join(true)));
    const others = step.writers.filter((w) => w.place !== 0);
    for (let i = 0; i < others.length; i += 100) await Promise.all(others.slice(i, i + 100).map((w) => w.join(false)));
    if (step.errors.length > 0) throw new Error(`setup failed: ${step.errors.slice(0, 5).join("; ")}`);

    // Typing: every keystroke at its time, from one timer chain.
    const events: { at: number; writer: number; seq: number }[] = [];
    plan.times.forEach((times, w) => times.forEach((at, seq) => events.push({ at, writer: w, seq })));
    events.sort((a, b) => a.at - b.at);
    const t0 = performance.now() + START_DELAY_MS;
    const loop = monitorEventLoopDelay({ resolution: 5 });
    await new Promise((r) => setTimeout(r, Math.max(0, t0 - performance.now() - 2)));
    // The first --warmup seconds warm the relay up (JIT, first allocations): the readings
    // and the keystrokes measured start after them.
    const measureFrom = t0 + options.warmupS * 1000;
    let relayCpu0 = 0;
    let relayWait0 = 0;
    let generatorCpu0 = process.cpuUsage();
    let machine0 = machineTicks();
    let wall0 = measureFrom;
    const startMeasuring = () => {
      relayCpu0 = cpuMs(relay.pid);
      relayWait0 = mainThreadRunDelayMs(relay.pid);
      generatorCpu0 = process.cpuUsage();
      machine0 = machineTicks();
      loop.enable();
      wall0 = performance.now();
    };
    const measuring = setTimeout(startMeasuring, Math.max(0, measureFrom - performance.now()));
    await new Promise<void>((resolve) => {
      let next = 0;
      const tick = () => {
        const now = performance.now();
        while (next < events.length && t0 + events[next]!.at <= now) {
          const e = events[next++]!;
          if (now - (t0 + e.at) > LATE_MS) step.late++;
          step.writers[e.writer]!.type(e.seq, performance.now());
        }
        if (next >= events.length) resolve();
        else setTimeout(tick, Math.max(0, t0 + events[next]!.at - performance.now()));
      };
      tick();
    });
    clearTimeout(measuring);
    if (wall0 > performance.now()) startMeasuring();
    const wall1 = performance.now();
    const relayCpu1 = cpuMs(relay.pid);
    const relayWait1 = mainThreadRunDelayMs(relay.pid);
    const generatorCpu1 = process.cpuUsage(generatorCpu0);
    const machine1 = machineTicks();
    loop.disable();
    const rss = memoryMiB(relay.pid);

    // Catching up: every keystroke at every other writer of its document, by sync at least.
    const deliveries = step.writers.reduce((n, w) => n + w.typed * (step.members[w.document]!.length - 1), 0);
    const graceEnd = performance.now() + options.graceS * 1000;
    let allSyncedAt: number | undefined;
    while (performance.now() < graceEnd) {
      const synced = step.syncArrivals >= deliveries && step.writers.every((w) => w.unsent === 0);
      if (synced && step.fastArrivals >= deliveries) break;
      if (synced) {
        allSyncedAt ??= performance.now();
        // The fast path may drop a keystroke (sync carries it anyway): not waited for long.
        if (performance.now() - allSyncedAt > 1000) break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const caughtUp = performance.now();
    const allArrived = step.syncArrivals >= deliveries && step.writers.every((w) => w.unsent === 0);
    step.recording = false;
    const relayCpu2 = cpuMs(relay.pid);
    const relayMessages = await relayCounters(relay).catch(() => ({}));

    // Latencies.
    const first: number[] = [];
    const fast: number[] = [];
    const sync: number[] = [];
    let lost = 0;
    let lostToDisconnected = 0;
    let fastMissing = 0;
    let syncMissing = 0;
    for (const receiver of step.writers) {
      for (const w of step.members[receiver.document]!) {
        if (w === receiver.number) continue;
        const sender = step.writers[w]!;
        const sent = step.sentAt[w]!;
        for (let seq = 0; seq < sender.typed; seq++) {
          if (sent[seq]! < measureFrom) continue;
          const slot = sender.place * step.stride + seq;
          const f = receiver.fastAt[slot]! - sent[seq]!;
          const s = receiver.syncAt[slot]! - sent[seq]!;
          if (Number.isNaN(f)) fastMissing++;
          else fast.push(f);
          if (Number.isNaN(s)) syncMissing++;
          else sync.push(s);
          if (Number.isNaN(f) && Number.isNaN(s)) {
            lost++;
            if (sender.closedByRelay || receiver.closedByRelay) lostToDisconnected++;
          } else first.push(Number.isNaN(f) ? s : Number.isNaN(s) ? f : Math.min(f, s));
        }
      }
    }
    const verified = await verify(relay.url, step);
    const keystrokes = step.sentAt.reduce((n, sent) => n + sent.filter((at) => at >= measureFrom).length, 0);
    const measuredDeliveries = first.length + lost;
    const windowMs = wall1 - wall0;
    const relayCpuMs = relayCpu1 - relayCpu0;
    const generatorCpuMs = (generatorCpu1.user + generatorCpu1.system) / 1000;
    const machineBusyPct = ((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * 100;
    const cores = os.cpus().length;
    const result: StepResult = {
      ramp: plan.ramp,
      writers: plan.writers,
      documents: plan.documents,
      writersPerDocument: plan.writers / plan.documents,
      keystrokes,
      deliveries: measuredDeliveries,
      latency: stats(Float64Array.from(first)),
      fastPath: { ...stats(Float64Array.from(fast)), missing: fastMissing },
      syncPath: { ...stats(Float64Array.from(sync)), missing: syncMissing },
      lost,
      disconnected: step.writers.filter((w) => w.closedByRelay).length,
      lostToDisconnected,
      verified: { complete: verified.complete, documents: plan.documents, incomplete: verified.incomplete.slice(0, 10) },
      relayCpuPct: (relayCpuMs / windowMs) * 100,
      relayWaitPct: ((relayWait1 - relayWait0) / windowMs) * 100,
      relayCpuMsPerKeystroke: (relayCpu2 - relayCpu0) / Math.max(1, keystrokes),
      relayCpuUsPerDelivery: measuredDeliveries > 0 ? ((relayCpu2 - relayCpu0) * 1000) / measuredDeliveries : NaN,
      relayRssMiB: rss.now,
      relayRssPeakMiB: rss.peak,
      generatorCpuPct: (generatorCpuMs / windowMs) * 100,
      generatorLoopDelayP99Ms: loop.percentile(99) / 1e6,
      generatorLoopDelayMaxMs: loop.max / 1e6,
      lateKeystrokes: step.late,
      machineBusyPct,
      otherCpuPct: (machineBusyPct / 100) * cores * 100 - ((relayCpuMs + generatorCpuMs) / windowMs) * 100,
      caughtUp: allArrived,
      typingS: windowMs / 1000,
      catchUpS: (caughtUp - wall1) / 1000,
      relayMessages,
      generatorSyncMessages: { in: step.writers.reduce((n, w) => n + w.syncMessagesIn, 0), out: step.writers.reduce((n, w) => n + w.syncMessagesOut, 0) },
      errors: [...step.errors.slice(0, 20), ...(step.unknownChanges > 0 ? [`${step.unknownChanges} received changes were none of the typed ones`] : [])],
      relayWarnings: relay.output
        .join("")
        .split("\n")
        .filter((l) => /"level":(40|50|60)\b/.test(l) && !l.includes("ANONYMOUS ACCESS"))
        .slice(0, 20),
    };
    return result;
  } finally {
    closing = true;
    for (const w of step.writers) w.close();
    await stopRelay(relay);
    await fs.rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------
// Output.

const ms = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : "–");

/** The table's columns: heading, width, cell. */
const COLUMNS: [string, number, (r: StepResult) => string][] = [
  ["ramp", 8, (r) => (r.ramp === "one-document" ? "1 doc" : `${r.documents} docs`)],
  ["writers", 7, (r) => String(r.writers)],
  ["keys", 7, (r) => String(r.keystrokes)],
  ["deliveries", 10, (r) => String(r.deliveries)],
  ["p50", 6, (r) => ms(r.latency.p50)],
  ["p95", 6, (r) => ms(r.latency.p95)],
  ["p99", 6, (r) => ms(r.latency.p99)],
  ["max", 6, (r) => ms(r.latency.max)],
  ["fast-p99", 8, (r) => ms(r.fastPath.p99)],
  ["sync-p50", 8, (r) => ms(r.syncPath.p50)],
  ["sync-p99", 8, (r) => ms(r.syncPath.p99)],
  ["lost", 5, (r) => `${r.lost}${r.verified.complete === r.verified.documents ? "" : "!"}`],
  ["cut", 3, (r) => String(r.disconnected)],
  ["relay%", 6, (r) => r.relayCpuPct.toFixed(0)],
  ["wait%", 5, (r) => r.relayWaitPct.toFixed(0)],
  ["ms/key", 6, (r) => `${r.caughtUp ? "" : ">"}${r.relayCpuMsPerKeystroke.toFixed(2)}`],
  ["µs/dlv", 6, (r) => (Number.isFinite(r.relayCpuUsPerDelivery) ? `${r.caughtUp ? "" : ">"}${r.relayCpuUsPerDelivery.toFixed(0)}` : "–")],
  ["RSS", 5, (r) => r.relayRssMiB.toFixed(0)],
  ["gen%", 5, (r) => r.generatorCpuPct.toFixed(0)],
  ["loop99", 6, (r) => ms(r.generatorLoopDelayP99Ms)],
  ["other%", 6, (r) => r.otherCpuPct.toFixed(0)],
];

function printTable(results: StepResult[]): void {
  console.log(COLUMNS.map(([heading, width]) => heading.padStart(width)).join(" "));
  for (const r of results) console.log(COLUMNS.map(([, width, cell]) => cell(r).padStart(width)).join(" "));
}

function meets(r: StepResult | undefined): boolean {
  return r !== undefined && r.latency.p99 < TARGET_P99_MS && r.lost === 0 && r.verified.complete === r.verified.documents;
}

// ---------------------------------------------------------------------------------

let tmpRoot: string | undefined;

function cleanupSync(): void {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone already.
    }
  }
  if (tmpRoot) fsSync.rmSync(tmpRoot, { recursive: true, force: true });
  tmpRoot = undefined;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const started = new Date();
  const cores = os.cpus().length;
  let pinned = options.pin && cores >= 2 && hasTaskset();
  const pinning = !options.pin ? "not pinned (--no-pin)" : cores < 2 ? "not pinned: one core only" : !pinned ? "NOT pinned: taskset (util-linux) is missing" : "relay on core 0, generator on core 1 (taskset)";
  if (pinned) {
    try {
      execFileSync("taskset", ["-a", "-cp", "1", String(process.pid)], { stdio: "ignore" });
    } catch {
      pinned = false;
    }
  }
  tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), "writer-bench-relay-capacity-"));
  const commit = commitDescription(projectRoot);
  console.log(`# Relay capacity: ${options.rate} keystrokes/s per writer, ${options.seconds} s per step after ${options.warmupS} s of warm-up, p99 target ${TARGET_P99_MS} ms; Writer ${commit}; ${machineDescription()}; ${pinning}`);

  // Plans first (seeded), then the chains they need, computed once.
  const plans: StepPlan[] = [
    ...options.oneDocument.map((n, i) => planStep("one-document", n, 1, options, options.seed * 100 + i)),
    ...options.many.map((n, i) => planStep("many-documents", n, Math.min(options.documents, n), options, options.seed * 100 + 50 + i)),
  ];
  const chainLengths: number[] = [];
  for (const plan of plans) plan.times.forEach((t, w) => (chainLengths[w] = Math.max(chainLengths[w] ?? 0, t.length)));
  const precomputeStart = performance.now();
  const base = makeBase();
  const chains = chainLengths.map((length, c) => makeChain(base, c, length, options.seed));
  const index = new ChangeIndex();
  chains.forEach((chain, c) => chain.changes.forEach((bytes, seq) => index.add(c, seq, bytes, chain.hashes[seq]!)));
  base.changes.forEach((bytes, seq) => index.add(BASE_CHAIN, seq, bytes, A.decodeChange(bytes).hash));
  const changeCount = chainLengths.reduce((a, b) => a + b, 0);
  console.log(`pre-computed ${changeCount.toLocaleString("en-US")} keystrokes (${chains.length} chains) in ${((performance.now() - precomputeStart) / 1000).toFixed(1)} s`);

  const results: StepResult[] = [];
  const stoppedAt: Partial<Record<StepPlan["ramp"], number>> = {};
  for (const plan of plans) {
    if (stoppedAt[plan.ramp] !== undefined) continue;
    process.stdout.write(`running: ${plan.writers} writers on ${plan.documents} document${plan.documents === 1 ? "" : "s"} ... `);
    const r = await runStep(plan, base, chains, index, options, pinned, tmpRoot);
    results.push(r);
    console.log(
      `p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)}, max ${ms(r.latency.max)} ms; lost ${r.lost}/${r.deliveries}, documents complete ${r.verified.complete}/${r.verified.documents}; relay CPU ${r.relayCpuPct.toFixed(0)} % (${r.relayCpuMsPerKeystroke.toFixed(2)} ms/keystroke), generator ${r.generatorCpuPct.toFixed(0)} %, machine ${r.machineBusyPct.toFixed(0)} % busy`,
    );
    if (r.disconnected > 0) console.log(`  ! the relay closed ${r.disconnected} connection${r.disconnected === 1 ? "" : "s"}; ${r.lostToDisconnected} of the ${r.lost} lost deliveries are from or to them`);
    for (const e of r.errors.slice(0, 5)) console.log(`  ! ${e}`);
    for (const e of r.verified.incomplete.slice(0, 5)) console.log(`  ! not complete: ${e}`);
    // A step without deliveries (one writer per document) has no latency to judge.
    if (!options.keepGoing && r.latency.p99 >= TARGET_P99_MS) stoppedAt[plan.ramp] = plan.writers;
  }

  console.log();
  printTable(results);
  console.log("first arrival: whichever of the fast path (ephemeral broadcast) and sync brought the keystroke first; lost: by neither (\"!\": a fresh client did not find every keystroke on the relay);");
  console.log("cut: connections the relay closed during the step (this generator does not reconnect; a desktop would, and resend its keystrokes).");
  console.log("p50…max: ms from the send to the first arrival; fast-p99, sync-p50, sync-p99: by each path alone (ms). RSS: the relay's, MiB, at the end of typing.");
  console.log("relay%: relay CPU (utime+stime, all threads) over the typing window, % of one core; wait%: time its main thread was ready but waited for the core (other work, or its own other threads, had it);");
  console.log("ms/key, µs/dlv: relay CPU from the first keystroke until every keystroke had arrived by sync, per keystroke and per delivery (\">\": not all had by the end of the grace period: work was still pending).");
  console.log("gen%: this process (the load generator) over the typing window; loop99: its event-loop delay p99; other%: the rest of the machine (other work), % of one core.");
  for (const ramp of ["one-document", "many-documents"] as const) if (stoppedAt[ramp] !== undefined) console.log(`${ramp}: stopped after ${stoppedAt[ramp]} writers (p99 passed ${TARGET_P99_MS} ms)`);

  // Targets.
  const one = results.find((r) => r.ramp === "one-document" && r.writers === TARGET_ONE_DOCUMENT);
  const many = results.find((r) => r.ramp === "many-documents" && r.writers === TARGET_MANY_WRITERS && r.documents === TARGET_MANY_DOCUMENTS);
  const verdict = (what: string, r: StepResult | undefined, ran: boolean) => {
    if (!ran) return `  ${what}: not in this run's steps`;
    if (!r) return `  ${what}: not reached (the ramp stopped where p99 passed ${TARGET_P99_MS} ms) FAIL`;
    return `  ${what}: p99 ${ms(r.latency.p99)} ms, ${r.lost} lost, ${r.verified.complete}/${r.verified.documents} documents complete ${meets(r) ? "PASS" : "FAIL"}`;
  };
  console.log("\ntargets (p99 < 100 ms, nothing lost):");
  console.log(verdict(`${TARGET_ONE_DOCUMENT} typists on one document`, one, options.oneDocument.includes(TARGET_ONE_DOCUMENT)));
  console.log(verdict(`${TARGET_MANY_WRITERS} writers across ${TARGET_MANY_DOCUMENTS} documents`, many, options.many.includes(TARGET_MANY_WRITERS) && options.documents === TARGET_MANY_DOCUMENTS));

  // Results.
  const durationS = Math.round((Date.now() - started.getTime()) / 1000);
  const command = `npx tsx bench/relay-capacity/run.ts ${process.argv.slice(2).join(" ")}`.trim();
  const out = path.join(here, "results", "latest.json");
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(
    out,
    JSON.stringify(
      {
        bench: "relay-capacity",
        date: started.toISOString(),
        durationS,
        command,
        commit,
        machine: machineDescription(),
        pinning,
        options,
        targets: { p99Ms: TARGET_P99_MS, oneDocument: TARGET_ONE_DOCUMENT, manyWriters: TARGET_MANY_WRITERS, manyDocuments: TARGET_MANY_DOCUMENTS },
        pass: { oneDocument: one ? meets(one) : null, manyDocuments: many ? meets(many) : null },
        stoppedAt,
        results,
      },
      null,
      2,
    ) + "\n",
  );
  const summary = await writeSummary(here, { bench: "relay-capacity", command, commit, machine: machineDescription(), date: started.toISOString(), durationS, ...summaryOf(results, options, pinning) });
  console.log(`\nresults: ${path.relative(process.cwd(), out)}; summary: ${path.relative(process.cwd(), summary)}`);
}

/** The suite's view (bench/suite.ts): the targets, each step's relay CPU, and p99 against writers for both ramps. */
function summaryOf(results: StepResult[], options: Options, pinning: string): { figures: Figure[]; series: Series[]; notes: string[] } {
  const figures: Figure[] = [];
  const target = (r: StepResult | undefined, name: string) => {
    if (!r) return;
    figures.push({ name: `${name}: p99 keystroke to the other writers`, value: r.latency.p99, unit: "ms", target: { text: `< ${TARGET_P99_MS} ms`, met: r.latency.p99 < TARGET_P99_MS } });
    figures.push({
      name: `${name}: keystrokes lost (of ${r.deliveries.toLocaleString("en-US")} deliveries)`,
      value: r.lost + (r.verified.documents - r.verified.complete),
      unit: "count",
      target: { text: "0, every document complete on the relay", met: r.lost === 0 && r.verified.complete === r.verified.documents },
    });
  };
  target(
    results.find((r) => r.ramp === "one-document" && r.writers === TARGET_ONE_DOCUMENT),
    `${TARGET_ONE_DOCUMENT} typists on one document`,
  );
  target(
    results.find((r) => r.ramp === "many-documents" && r.writers === TARGET_MANY_WRITERS && r.documents === TARGET_MANY_DOCUMENTS),
    `${TARGET_MANY_WRITERS} writers across ${TARGET_MANY_DOCUMENTS} documents`,
  );
  for (const ramp of ["one-document", "many-documents"] as const) {
    const ok = results.filter((r) => r.ramp === ramp && meets(r));
    if (results.some((r) => r.ramp === ramp)) {
      figures.push({ name: `${ramp === "one-document" ? "typists on one document" : `writers across ${options.documents} documents`}: most with p99 < ${TARGET_P99_MS} ms and nothing lost (of the steps run)`, value: Math.max(0, ...ok.map((r) => r.writers)), unit: "count" });
    }
  }
  for (const r of results) {
    const name = `${r.ramp === "one-document" ? `${r.writers} typists on one document` : `${r.writers} writers across ${r.documents} documents`}${r.caughtUp ? "" : " (not caught up: a lower bound)"}`;
    figures.push({ name: `${name}: relay CPU per keystroke`, value: r.relayCpuMsPerKeystroke, unit: "ms" });
    if (Number.isFinite(r.relayCpuUsPerDelivery)) figures.push({ name: `${name}: relay CPU per delivery`, value: r.relayCpuUsPerDelivery, unit: "µs" });
    figures.push({ name: `${name}: relay CPU (typing)`, value: r.relayCpuPct, unit: "% of one core" });
    figures.push({ name: `${name}: load generator CPU (typing)`, value: r.generatorCpuPct, unit: "% of one core" });
  }
  const series: Series[] = [];
  const line = (ramp: StepPlan["ramp"], name: string, pick: (r: StepResult) => number) => ({
    name,
    points: results.filter((r) => r.ramp === ramp && Number.isFinite(pick(r))).map((r): [number, number] => [r.writers, pick(r)]),
  });
  const ramps = [
    { ramp: "one-document" as const, id: "relay-capacity-one-document", title: `p99 keystroke to the other typists against typists on one document (${options.rate} keys/s each, relay on one core)`, x: "typists on one document" },
    { ramp: "many-documents" as const, id: "relay-capacity-many-documents", title: `p99 keystroke to the other writers against writers across ${options.documents} documents (${options.rate} keys/s each, relay on one core)`, x: `writers across ${options.documents} documents` },
  ];
  for (const { ramp, id, title, x } of ramps) {
    if (!results.some((r) => r.ramp === ramp)) continue;
    series.push({
      id,
      title,
      x: { label: x },
      y: { label: "p99 keystroke to the other writers (ms)", log: true },
      kind: "line",
      lines: [line(ramp, "first arrival", (r) => r.latency.p99), line(ramp, "fast path (ephemeral broadcast)", (r) => r.fastPath.p99), line(ramp, "sync alone", (r) => r.syncPath.p99)].filter((l) => l.points.length > 0),
    });
  }
  if (results.length > 0) {
    series.push({
      id: "relay-capacity-cpu",
      title: "Relay CPU while typing (% of one core)",
      x: { label: "writers" },
      y: { label: "relay CPU (% of one core)" },
      kind: "line",
      lines: [line("one-document", "one document", (r) => r.relayCpuPct), line("many-documents", `${options.documents} documents`, (r) => r.relayCpuPct)].filter((l) => l.points.length > 0),
    });
  }
  return {
    figures,
    series,
    notes: [
      `The real relay (sync-server/cli.ts --allow-anonymous, anonymous connection limit raised to the writers), ${pinning}; one WebSocket per writer from one load-generating process that replays pre-computed one-character Automerge changes: each keystroke an ephemeral writer/change broadcast at once and a sync message within 50 ms (as a desktop host), acknowledging the relay's sync messages as a host's Automerge would. ${options.rate} keys/s per writer (±50 % jitter) for ${options.seconds} s per step, measured after ${options.warmupS} s of warm-up typing; a ramp stops at the first step whose p99 passes ${TARGET_P99_MS} ms.`,
      "Latency: from the generator's send to the first arrival (fast path or sync) at each other writer on the document, both read on the generator's clock. Relay CPU: /proc utime+stime of the relay (all its threads). No baseline: the figures are the relay's own capacity.",
      "The machine has 2 cores, and other work may have run beside the bench (see other% in latest.json): figures move from run to run.",
    ],
  };
}

process.on("exit", cleanupSync);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`interrupted (${signal}); stopping the relay`);
    cleanupSync();
    process.exit(130);
  });
}

main().then(
  async () => {
    if (tmpRoot) await fs.rm(tmpRoot, { recursive: true, force: true }).catch(() => undefined);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(`relay-capacity bench could not run: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
