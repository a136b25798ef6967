/**
 * One writer of bench/propagation, as its own Node process (forked by run.ts, driven
 * over IPC: protocol.ts). It runs every hop of the product that a keystroke crosses:
 *
 *   renderer Repo (in memory) ─MessageChannel─ Host (Host.open, its own data dir) ─websocket─ relay
 *
 * The renderer Repo is connected to the host through a worker_threads MessageChannel
 * with automerge-repo's MessageChannel adapter, as Electron does with a MessagePort;
 * the host reaches the relay through `host.connect(adapter)`.
 *
 * Typing: one character at a random position of the shared text, `rate` times a second
 * with jitter, each in its own `handle.change` on the renderer's handle, which also sets
 * `clock[typist] = seq`. A keystroke's arrival anywhere is the first "change" event of
 * that Repo's handle whose clock shows it, so a receiver checks one small map per change
 * instead of diffing text.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import { Session } from "node:inspector/promises";
import path from "node:path";
import { MessageChannel } from "node:worker_threads";
import { Repo, type AutomergeUrl, type DocHandle, type DocHandleChangePayload, type NetworkAdapterInterface, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { next as A } from "@automerge/automerge";
import pino from "pino";
import { Host } from "../../src/host/Host";
import { shareChangesFast } from "../../src/shared/sync/changeBroadcast";
import { leafPeer } from "../../src/shared/sync/leafPeer";
import { mulberry32 } from "../../test/support/random";
import { wallClock, type BenchDoc, type ClientReport, type FromClient, type ToClient } from "./protocol";

type Init = Extract<ToClient, { type: "init" }>;
type MessagePortLike = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];

/** Letters and spaces: what a writer types most. */
const ALPHABET = "etaoinshrdlucmfwypvbgkjqxz     ";

function send(message: FromClient): void {
  process.send?.(message);
}

/** Counts what goes through an adapter (wraps send, listens to message). */
function countMessages(adapter: NetworkAdapterInterface): { sent: number; received: number } {
  const counts = { sent: 0, received: 0 };
  const original = adapter.send.bind(adapter);
  adapter.send = (message) => {
    counts.sent++;
    original(message);
  };
  adapter.on("message", () => counts.received++);
  return counts;
}

/**
 * Connects the host to the relay, and returns what counts the messages between them.
 * "settings": the writer's way, the relay added to the host's list (the host's own
 * RelayClientAdapter connects); "websocket": a WebSocketClientAdapter via host.connect().
 */
async function connectRelay(host: Host, init: Init): Promise<{ sent: number; received: number }> {
  if (init.settings.adapter === "websocket") {
    const url = init.token ? `${init.relayUrl}/?token=${encodeURIComponent(init.token)}` : init.relayUrl;
    const adapter = new WebSocketClientAdapter(url);
    const counts = countMessages(adapter);
    host.connect(adapter);
    return counts;
  }
  // The host's relay adapter is the Repo's only adapter besides the renderer's.
  const adapters = (host.repo.networkSubsystem as unknown as { adapters: NetworkAdapterInterface[] }).adapters;
  const counts = countMessages(adapters[0]!);
  const response = await host.handle({ method: "addRelay", name: "bench relay", url: init.relayUrl, token: init.token });
  if (!response.ok) throw new Error(`addRelay failed: ${response.error.message}`);
  return counts;
}

/** Records, per typist, when each sequence number first shows in a handle's clock. */
class ArrivalLog {
  readonly arrivals: Record<string, (number | null)[]> = {};
  readonly #seen: Record<string, number> = {};
  readonly #typists: string[];

  constructor(typists: string[]) {
    this.#typists = typists;
    for (const t of typists) {
      this.arrivals[t] = [];
      this.#seen[t] = 0;
    }
  }

  seen(typist: string): number {
    return this.#seen[typist] ?? 0;
  }

  observe(doc: BenchDoc, now: number): void {
    const clock = doc.clock;
    if (!clock) return;
    for (const t of this.#typists) {
      const v = clock[t] ?? 0;
      const s = this.#seen[t]!;
      if (v > s) {
        const log = this.arrivals[t]!;
        for (let i = s; i < v; i++) log[i] = now;
        this.#seen[t] = v;
      }
    }
  }

  listen(handle: DocHandle<BenchDoc>, after?: () => void): void {
    this.observe(handle.doc(), wallClock());
    handle.on("change", (payload: DocHandleChangePayload<BenchDoc>) => {
      this.observe(payload.doc, wallClock());
      after?.();
    });
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  // The bench never outlives its parent.
  process.on("disconnect", () => process.exit(1));
  const inbox: ToClient[] = [];
  let wake: (() => void) | undefined;
  process.on("message", (m: ToClient) => {
    inbox.push(m);
    wake?.();
  });
  const next = async <T extends ToClient["type"]>(type: T): Promise<Extract<ToClient, { type: T }>> => {
    for (;;) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return inbox.splice(i, 1)[0] as Extract<ToClient, { type: T }>;
      await new Promise<void>((r) => (wake = r));
    }
  };

  const init = await next("init");
  const { typist, typists, settings } = init;
  const logger = pino({ level: process.env.WRITER_LOG_LEVEL ?? "warn" }, pino.destination(2));
  const host = await Host.open({
    dataDir: init.dataDir,
    logger,
    ...(settings.hostSaveDebounceMs !== null ? { saveDebounceMs: settings.hostSaveDebounceMs } : {}),
    // The bench watches the document arrive in the host's Repo (hostArrival): the shared
    // document stays on the main thread, where a writer's small documents live. (The app
    // keeps a document it receives for the first time in its document worker until it is
    // on disk, issue 6; that adds two hops between threads, well under a millisecond.)
    documentWorkers: { newDocuments: "main" },
  });
  // Host.open builds its Repo with syncDebounceRate 0; the patched Repo reads the value
  // each time it makes a DocSynchronizer, so this applies to the bench document.
  if (settings.hostDebounceMs !== null) host.repo.syncDebounceRate = settings.hostDebounceMs;

  const { port1, port2 } = new MessageChannel();
  host.connect(new MessageChannelNetworkAdapter(port1 as unknown as MessagePortLike));
  const rendererAdapter = new MessageChannelNetworkAdapter(port2 as unknown as MessagePortLike);
  const rendererCounts = countMessages(rendererAdapter);
  // As the app's window does (src/renderer/src/platform.ts); what it holds back is not counted.
  leafPeer(rendererAdapter);
  const renderer = new Repo({ network: [rendererAdapter], peerId: `renderer-${typist}-${process.pid}` as PeerId, syncDebounceRate: settings.rendererDebounceMs });

  const relayCounts = await connectRelay(host, init);

  // A host that is not connected to the relay yet would answer the renderer's request
  // with "unavailable": wait for the relay (a peer with storage) first.
  await waitFor(() => Object.values(host.repo.peerMetadataByPeerId).some((meta) => meta.storageId !== undefined && !meta.isEphemeral), 30_000, "the connection to the relay");

  let url: AutomergeUrl;
  if (init.create) {
    const created = host.repo.create<BenchDoc>({ text: "", clock: {} });
    url = created.url;
    // The others find the document through the relay: it must have it first. A relay
    // with storage answers with its storageId, and the host records the heads it has.
    await waitFor(
      () => {
        const heads = created.heads();
        return Object.values(host.repo.peerMetadataByPeerId).some((meta) => {
          if (!meta.storageId || meta.isEphemeral) return false;
          const theirs = created.getSyncInfo(meta.storageId)?.lastHeads;
          return theirs !== undefined && theirs.length === heads.length && theirs.every((h) => heads.includes(h));
        });
      },
      20_000,
      "the relay to store the new document",
    );
    send({ type: "ready", url });
  } else {
    send({ type: "ready" });
    url = (await next("join")).url as AutomergeUrl;
  }

  const handle = await renderer.find<BenchDoc>(url);
  if (settings.fastPath) shareChangesFast(handle);
  await waitFor(() => host.repo.handles[handle.documentId]?.isReady() ?? false, 10_000, "the host's handle");
  const hostHandle = host.repo.handles[handle.documentId] as DocHandle<BenchDoc>;

  const expected: { finals?: Record<string, number> } = {};
  let caughtUp = false;
  const rendererLog = new ArrivalLog(typists);
  const hostLog = new ArrivalLog(typists);
  const checkCaughtUp = () => {
    if (caughtUp || !expected.finals) return;
    // Every keystroke in this renderer, and in this host too: with the renderers' change
    // broadcast, a renderer can have everything before its host does (by sync), and the
    // convergence check compares both.
    for (const [t, last] of Object.entries(expected.finals)) if ((t !== typist && rendererLog.seen(t) < last) || hostLog.seen(t) < last) return;
    caughtUp = true;
    send({ type: "caught-up" });
  };
  rendererLog.listen(handle, checkCaughtUp);
  hostLog.listen(hostHandle, checkCaughtUp);
  send({ type: "joined" });

  const start = await next("start");
  // BENCH_PROFILE=<typist> (run.ts passes it on): a CPU profile of the typing window only.
  const profiler = process.env.BENCH_PROFILE === typist && process.env.BENCH_PROFILE_DIR ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
  }
  const sent: number[] = [];
  let lateTimers = 0;
  let cpuAtStart = process.cpuUsage();
  let cpuMs = 0;
  const counts0 = { renderer: { ...rendererCounts }, relay: { ...relayCounts } };
  const typed = new Promise<number>((resolve) => {
    const rnd = mulberry32(start.seed);
    const interval = 1000 / start.rate;
    const end = start.at + start.seconds * 1000;
    let due = start.at + rnd() * interval;
    let seq = 0;
    const tick = () => {
      const now = wallClock();
      if (now - due > 50) lateTimers++;
      seq++;
      const ch = ALPHABET[Math.floor(rnd() * ALPHABET.length)]!;
      const r = rnd();
      const n = seq;
      sent[n - 1] = wallClock();
      handle.change((doc) => {
        A.splice(doc, ["text"], Math.floor(r * (doc.text.length + 1)), 0, ch);
        doc.clock[typist] = n;
      });
      due += interval * (0.5 + rnd());
      if (due >= end) resolve(seq);
      else setTimeout(tick, Math.max(0, due - wallClock()));
    };
    setTimeout(() => {
      cpuAtStart = process.cpuUsage();
      tick();
    }, Math.max(0, due - wallClock()));
  });
  const last = await typed;
  const cpu = process.cpuUsage(cpuAtStart);
  cpuMs = (cpu.user + cpu.system) / 1000;
  if (profiler) {
    const { profile } = await profiler.post("Profiler.stop");
    await fs.writeFile(path.join(process.env.BENCH_PROFILE_DIR!, `client-${typist}.cpuprofile`), JSON.stringify(profile));
    profiler.disconnect();
  }
  send({ type: "typed", last });

  expected.finals = (await next("expect")).finals;
  checkCaughtUp();
  await next("finish");

  const doc = handle.doc();
  const report: ClientReport = {
    typist,
    sent,
    ownHostArrival: hostLog.arrivals[typist] ?? [],
    rendererArrival: rendererLog.arrivals,
    hostArrival: hostLog.arrivals,
    rendererHeads: [...handle.heads()].sort(),
    hostHeads: [...hostHandle.heads()].sort(),
    textLength: doc.text.length,
    textHash: createHash("sha256").update(doc.text).digest("hex").slice(0, 16),
    cpuMs,
    lateTimers,
    rendererMessages: { sent: rendererCounts.sent - counts0.renderer.sent, received: rendererCounts.received - counts0.renderer.received },
    relayMessages: { sent: relayCounts.sent - counts0.relay.sent, received: relayCounts.received - counts0.relay.received },
  };
  send({ type: "report", report });

  // A bounded goodbye: the host flushes its disk; the bench does not wait forever for it.
  setTimeout(() => process.exit(0), 5000).unref();
  await renderer.shutdown().catch(() => undefined);
  await host.close().catch(() => undefined);
  process.exit(0);
}

main().catch((error: unknown) => {
  send({ type: "error", message: (error as Error).stack ?? String(error) });
  setTimeout(() => process.exit(1), 100);
});
