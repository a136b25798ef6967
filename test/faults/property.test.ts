/**
 * P1: random concurrent rich-text edits on several replicas, random delivery order,
 * random disconnects, restarts (clean and crash) and the compactions that saving
 * does: every replica converges (same heads, same spans, same text) and no change
 * that reached a disk, or that a live replica still holds, ever goes missing.
 *
 * Two properties. The first runs many cases in-process: real Repos on the product's
 * storage stack (FileStorageAdapter on temp directories), a network whose every
 * message the test delivers in an order it picks, edits made through the editor's own
 * commands and sync plugin (test/support/richEdits.ts). The second runs a few cases
 * with real processes: host processes started as the desktop starts them, syncing
 * through a relay started through its CLI, SIGKILLed and restarted at random.
 *
 * Seeded (P1_SEED) and sized (P1_RUNS, default 60; P1_PROCESS_RUNS, default 5); every
 * case runs. A time limit (P1_TIME_LIMIT_MS, default 150 s; 240 s for the processes,
 * several times what they take on a busy 2-core machine) bounds a run that hangs, and
 * reaching it fails the property: a run cut short proves nothing of the cases it skipped.
 * fast-check shrinks a failure to a short sequence of steps and prints its seed and path.
 */
import "@automerge/automerge";
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import fs from "node:fs";
import { next as A } from "@automerge/automerge";
import type { AutomergeUrl } from "@automerge/automerge-repo";
import { initDocument, plainText, type WriterDocument } from "../../src/shared/document";
import { editOn, editorView, richSpans, type EditOutcome, type RichEdit } from "./support/richEdits";
import { EditorWindow } from "./support/editorWindow";
import { Repo } from "@automerge/automerge-repo";
import { undo, redo } from "prosemirror-history";
import { replaceAll, SearchQuery, setSearchState } from "prosemirror-search";
import { nameVersion, namedVersions, restoreVersion } from "../../src/shared/history";
import { Switchboard } from "../support/switchboard";
import { Replica } from "../support/replica";
import { addToken, eventually, startRelay, tempDir, type RunningRelay } from "../support/relay";
import { HostProcess } from "../support/host";
import { pace } from "../support/wait";

const SEED = Number(process.env.P1_SEED ?? 4_2026);
/** The most writers in a case; each case has two or three. */
const REPLICAS = 3;

const markName = fc.constantFrom("strong", "em", "underline", "strike", "code" as const);
const text = fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom(..."abcdefgh xyzé—") });

export const richEdit: fc.Arbitrary<RichEdit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("type" as const), at: fc.nat(), text, mark: fc.option(markName, { nil: null }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("mark" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }), mark: fc.constantFrom("strong", "em", "underline", "strike", "code", "link" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("enter" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("backspace" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("block" as const), at: fc.nat(), block: fc.constantFrom("paragraph", "h1", "h2", "h3", "code" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("list" as const), at: fc.nat(), length: fc.integer({ min: 0, max: 20 }), list: fc.constantFrom("bullet_list", "ordered_list", "task_list" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("indent" as const), at: fc.nat(), lift: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("quote" as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("linebreak" as const), at: fc.nat() }) },
);

/**
 * One step of a case. Besides edits: naming the current version and restoring a named
 * one (an ordinary edit that replaces the text, while other windows are open), find and
 * replace-all, undo and redo (across whatever collaborators did since, restores
 * included), and importing into an open document (a backup taken earlier, edited
 * elsewhere meanwhile, merged in).
 */
type Step =
  | { kind: "edit"; replica: number; edit: RichEdit }
  | { kind: "deliver"; picks: number[] }
  | { kind: "link"; a: number; b: number; up: boolean }
  | { kind: "restart"; replica: number; crash: boolean }
  | { kind: "name"; replica: number }
  | { kind: "restore"; replica: number; pick: number }
  | { kind: "replaceAll"; replica: number; find: string; replace: string }
  | { kind: "undo"; replica: number; redo: boolean }
  | { kind: "backup"; replica: number }
  | { kind: "import"; replica: number; edit: RichEdit };

const replicaIndex = fc.nat({ max: REPLICAS - 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("edit" as const), replica: replicaIndex, edit: richEdit }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("deliver" as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("link" as const), a: replicaIndex, b: replicaIndex, up: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("restart" as const), replica: replicaIndex, crash: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("name" as const), replica: replicaIndex }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("restore" as const), replica: replicaIndex, pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("replaceAll" as const), replica: replicaIndex, find: fc.constantFrom("a", "b", "e", " ", "ab"), replace: fc.constantFrom("", "x", "yz", "a ") }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("undo" as const), replica: replicaIndex, redo: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("backup" as const), replica: replicaIndex }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("import" as const), replica: replicaIndex, edit: richEdit }) },
);

/** A small seeded generator for the final delivery, so a case replays exactly. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % 2 ** 32) % n;
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets the Repos react (their sync runs on the next task, their saves after 20 ms). */
async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/**
 * Delivers every message, in an order `pick` chooses, until `done()` holds and the
 * network has stayed empty for a while; throws after `timeoutMs`.
 */
async function drain(board: Switchboard, pick: (n: number) => number, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    let moved = false;
    for (let i = 0; i < 50 && board.deliverOne(pick); i++) moved = true;
    await turns(2);
    if (moved || board.queued > 0) {
      quiet = 0;
      continue;
    }
    if (done() && ++quiet >= 5) return;
    // Timers in the peers (a resync, a retry) run meanwhile; then look again.
    if (!done()) await pace(5);
  }
  throw new Error(`the network did not settle in ${timeoutMs} ms`);
}

const sortedHeads = (doc: WriterDocument) => [...A.getHeads(doc)].sort();

/** Totals over every case, printed at the end and checked to show the faults happened. */
interface Totals {
  cases: number;
  steps: number;
  edits: Record<string, number>;
  /** Actions that changed the document, by kind (edits by their kind, restores, undos…). */
  actions: Record<string, number>;
  /** Cases by number of writers. */
  writers: Record<number, number>;
  bindingErrors: Set<string>;
  /** Structural changes the binding mapped wrongly and the sync plugin set right (sync.ts). */
  reconciled: number;
  crashes: number;
  restarts: number;
  compactions: number;
  delivered: number;
  dropped: number;
  lost: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
});

/** One case of the in-process property. Returns nothing; throws (expect) on a violation. */
async function runCase(writers: number, steps: Step[], finalSeed: number, totals: Totals): Promise<void> {
  const board = new Switchboard();
  const dirs = Array.from({ length: writers }, () => tempDir("p1-replica-"));
  const replicas: Replica[] = [];
  /** Each replica's editor window, open across steps (reopened after a restart). */
  const windows: (EditorWindow | undefined)[] = [];
  /** What the windows' integrity checks found: the editor showing what is not the document. */
  const drifts: string[] = [];
  const closeWindow = (i: number) => {
    const w = windows[i];
    if (!w) return;
    w.close();
    drifts.push(...w.mismatches.map((m) => `r${i}: ${m}`));
    totals.reconciled += w.stats.reconciled;
    windows[i] = undefined;
  };
  const windowOf = (i: number): EditorWindow => {
    const handle = replicas[i]!.handle;
    if (windows[i]?.handle !== handle) {
      closeWindow(i);
      windows[i] = new EditorWindow(handle);
    }
    return windows[i]!;
  };
  const cleanup = async () => {
    for (let i = 0; i < windows.length; i++) closeWindow(i);
    for (const r of replicas) await r.close().catch(() => undefined);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  };
  cleanups.push(cleanup);
  try {
    for (let i = 0; i < writers; i++) replicas.push(await Replica.open(board, `r${i}`, dirs[i]!));
    // Everyone connected before anyone asks for the document (nobody would have it yet).
    await drain(board, prng(finalSeed), () => replicas.every((r) => r.repo.peers.length === writers - 1));
    const first = replicas[0]!;
    const created = first.repo.create<WriterDocument>();
    created.change((d) => initDocument(d, "P1", 0));
    first.adopt(created);
    const url: AutomergeUrl = created.url;
    const found = Promise.all(replicas.slice(1).map((r) => r.find(url)));
    let ready = false;
    void found.then(() => (ready = true));
    await drain(board, prng(finalSeed), () => ready);
    await found;
    // Every disk has the document before anything goes wrong, as after a first sync.
    for (const r of replicas) await r.repo.flush();

    /** Every change ever made, and those a crash legitimately took with it. */
    const made = new Set(A.getChangesMetaSince(created.doc(), []).map((c) => c.hash));
    const lost = new Set<string>();

    for (let i = 0; i < writers; i++) windowOf(i);
    /** Backups taken (A.save of a replica's document), for later imports. */
    const backups: Uint8Array[] = [];

    /** Runs an action in replica i's window, notes what it made and how it went. */
    const act = (i: number, kind: string, action: (w: EditorWindow) => void): EditOutcome => {
      const handle = replicas[i]!.handle;
      const before = A.getHeads(handle.doc());
      let result: EditOutcome;
      try {
        action(windowOf(i));
        result = { outcome: A.getHeads(handle.doc()).join() === before.join() ? "unchanged" : "changed" };
      } catch (error) {
        result = { outcome: "threw", error: (error as Error).message };
        totals.bindingErrors.add(`${kind}: ${result.error}`);
      }
      totals.edits[result.outcome] = (totals.edits[result.outcome] ?? 0) + 1;
      totals.actions[kind] = (totals.actions[kind] ?? 0) + (result.outcome === "changed" ? 1 : 0);
      for (const c of A.getChangesMetaSince(handle.doc(), before)) made.add(c.hash);
      return result;
    };

    for (const raw of steps) {
      totals.steps++;
      // Steps are generated for three writers; a case with two folds them onto two.
      const s = "replica" in raw ? { ...raw, replica: raw.replica % writers } : raw.kind === "link" ? { ...raw, a: raw.a % writers, b: raw.b % writers } : raw;
      switch (s.kind) {
        case "edit":
          act(s.replica, s.edit.kind, (w) => editOn(w, s.edit));
          break;
        case "name":
          act(s.replica, "name", (w) => w.handle.change((d) => nameVersion(d, A.getHeads(w.handle.doc()), `v${totals.steps}`, totals.steps)));
          break;
        case "restore":
          act(s.replica, "restore", (w) => {
            const doc = w.handle.doc();
            const versions = namedVersions(doc);
            const version = versions[s.pick % Math.max(1, versions.length)];
            if (version) w.handle.change((d) => restoreVersion(d, A.view(doc, version.heads) as WriterDocument));
          });
          break;
        case "replaceAll":
          act(s.replica, "replaceAll", (w) => {
            w.dispatch(setSearchState(w.state.tr, new SearchQuery({ search: s.find, replace: s.replace })));
            replaceAll(w.state, w.dispatch);
          });
          break;
        case "undo":
          act(s.replica, s.redo ? "redo" : "undo", (w) => (s.redo ? redo : undo)(w.state, w.dispatch));
          break;
        case "backup":
          backups.push(A.save(replicas[s.replica]!.handle.doc()));
          break;
        case "import": {
          const backup = backups.at(-1);
          if (!backup) break;
          act(s.replica, "import", (w) => {
            // The backup, edited elsewhere since it was taken, merged into the open document.
            const elsewhere = new Repo({ network: [] }).import<WriterDocument>(backup);
            const other = new EditorWindow(elsewhere);
            editOn(other, s.edit);
            other.close();
            w.handle.merge(elsewhere);
          });
          break;
        }
        case "deliver":
          for (const p of s.picks) if (!board.deliverOne((n) => p % n)) break;
          break;
        case "link":
          if (s.a !== s.b) board.setLink(`r${s.a}`, `r${s.b}`, s.up);
          break;
        case "restart": {
          const replica = replicas[s.replica]!;
          const headsBefore = A.getHeads(replica.handle.doc());
          closeWindow(s.replica);
          await replica.restart(s.crash);
          const doc = replica.handle.doc();
          // Whatever reached its disk is back; after a clean quit, everything it had.
          expect(A.hasHeads(doc, replica.persistedHeads()), `${replica.name} reopened without a change its disk had`).toBe(true);
          if (!s.crash) expect(A.hasHeads(doc, headsBefore), `${replica.name} lost changes over a clean restart`).toBe(true);
          if (s.crash) {
            totals.crashes++;
            // A change no replica holds any more (made since the last save, never sent) died with the process.
            for (const hash of made) if (!lost.has(hash) && !replicas.some((r) => A.hasHeads(r.handle.doc(), [hash]))) lost.add(hash);
          }
          totals.restarts++;
          windowOf(s.replica);
          break;
        }
      }
      await turns();
    }

    // Heal everything and let every message through, in a random order.
    board.healAll();
    const converged = () => {
      const heads = replicas.map((r) => sortedHeads(r.handle.doc()).join(","));
      return heads.every((h) => h === heads[0]);
    };
    await drain(board, prng(finalSeed + 1), converged).catch(() => undefined);

    const docs = replicas.map((r) => r.handle.doc());
    const reference = docs[0]!;
    for (const [i, doc] of docs.entries()) {
      expect(sortedHeads(doc), `heads of r${i}`).toEqual(sortedHeads(reference));
      expect(richSpans(doc), `spans of r${i}`).toBe(richSpans(reference));
      expect(plainText(doc), `text of r${i}`).toBe(plainText(reference));
      expect(editorView(replicas[i]!.handle), `editor view of r${i}`).toBe(editorView(replicas[0]!.handle));
    }
    // Every window showed the document throughout: after its own edits, after every
    // change that reached it, and now.
    for (let i = 0; i < writers; i++) closeWindow(i);
    expect(drifts, "an editor window drifted from the document").toEqual([]);
    const missing = [...made].filter((hash) => !lost.has(hash) && !A.hasHeads(reference, [hash]));
    expect(missing, "changes made, never lost to a crash, missing after the heal").toEqual([]);
    for (const r of replicas) expect(A.hasHeads(reference, r.persistedHeads()), `a change ${r.name} had saved is missing`).toBe(true);

    totals.lost += lost.size;
    totals.compactions += replicas.reduce((n, r) => n + r.compactions, 0);
    totals.delivered += board.delivered;
    totals.dropped += board.dropped;
  } finally {
    cleanups.splice(cleanups.indexOf(cleanup), 1);
    await cleanup();
  }
}

/** Runs the in-process property: `runs` cases of steps from `steps`, two or three writers each. */
async function inProcess(label: string, steps: fc.Arbitrary<Step>, runs: number): Promise<Totals> {
  const totals: Totals = { cases: 0, steps: 0, edits: {}, actions: {}, writers: {}, bindingErrors: new Set(), reconciled: 0, crashes: 0, restarts: 0, compactions: 0, delivered: 0, dropped: 0, lost: 0 };
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 2, max: REPLICAS }), fc.array(steps, { minLength: 5, maxLength: 40 }), fc.nat(), async (writers, caseSteps, finalSeed) => {
      totals.cases++;
      totals.writers[writers] = (totals.writers[writers] ?? 0) + 1;
      await runCase(writers, caseSteps, finalSeed, totals);
    }),
    {
      seed: SEED,
      // P1_PATH (printed with a failure) replays just the failing case.
      ...(process.env.P1_PATH ? { path: process.env.P1_PATH } : {}),
      numRuns: runs,
      interruptAfterTimeLimit: Number(process.env.P1_TIME_LIMIT_MS ?? 150_000),
      markInterruptAsFailure: true,
    },
  );
  console.log(
    `${label}: ${totals.cases} cases (by writers ${JSON.stringify(totals.writers)}), ${totals.steps} steps in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `actions ${JSON.stringify(totals.edits)}, changed the document ${JSON.stringify(totals.actions)}; ` +
      `${totals.restarts} restarts (${totals.crashes} crashes, ${totals.lost} unsaved changes lost with them); ${totals.compactions} snapshots written; ` +
      `${totals.delivered} messages delivered, ${totals.dropped} dropped; ${totals.reconciled} structural changes set right after the binding` +
      (totals.bindingErrors.size > 0 ? `\nedits the binding refused: ${[...totals.bindingErrors].join(" | ")}` : ""),
  );
  // Every case ran (shrinking aside, a failure has thrown by now), in two- and three-writer cases.
  expect(totals.cases).toBe(runs);
  expect(Object.keys(totals.writers).sort()).toEqual(["2", "3"]);
  // Every edit the editor offers applies: a command the binding refuses is a writer's
  // keystroke that fails (line breaks in lists did, until patches/ fixed it).
  expect([...totals.bindingErrors]).toEqual([]);
  return totals;
}

describe("P1: random concurrent rich-text edits", () => {
  it("P1: replicas on real storage converge through random delivery, disconnects, crashes and compactions; no saved change goes missing", async () => {
    const totals = await inProcess("P1 in-process", step, Number(process.env.P1_RUNS ?? 60));
    // The faults the property is about did happen.
    expect(totals.crashes).toBeGreaterThan(0);
    expect(totals.compactions).toBeGreaterThan(0);
    expect(totals.dropped).toBeGreaterThan(0);
  });
});

/**
 * F16's steps: what changes the document behind an open editor's back, or through it in
 * bulk. Restores (while others write), imports into the open document, find and
 * replace-all, undo and redo across what collaborators did meanwhile.
 */
const editorStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("edit" as const), replica: replicaIndex, edit: richEdit }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("deliver" as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("link" as const), a: replicaIndex, b: replicaIndex, up: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("name" as const), replica: replicaIndex }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("restore" as const), replica: replicaIndex, pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("replaceAll" as const), replica: replicaIndex, find: fc.constantFrom("a", "b", "e", " ", "ab"), replace: fc.constantFrom("", "x", "yz", "a ") }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("undo" as const), replica: replicaIndex, redo: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("backup" as const), replica: replicaIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("import" as const), replica: replicaIndex, edit: richEdit }) },
);

describe("F16: the editor and the document", () => {
  it("F16: restores, imports into an open document, replace-all and undo across collaborators' edits, with two and three writers: every open editor shows its document after every transaction", async () => {
    const totals = await inProcess("F16", editorStep, Number(process.env.F16_RUNS ?? 40));
    for (const kind of ["restore", "name", "replaceAll", "undo", "import"]) expect(totals.actions[kind], `no ${kind} changed a document`).toBeGreaterThan(0);
  });
});

type ProcessStep =
  | { kind: "edit"; host: number; edit: RichEdit; confirm: boolean }
  | { kind: "killHost"; host: number }
  | { kind: "killRelay" };

const processStep: fc.Arbitrary<ProcessStep> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("edit" as const), host: fc.nat({ max: 1 }), edit: richEdit, confirm: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("killHost" as const), host: fc.nat({ max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("killRelay" as const) }) },
);

type Spans = { spans: string; text: string; heads: string[] };

describe("P1: with real processes", () => {
  it("P1: two host processes and a relay, SIGKILLed at random between edits, converge; no change a host confirmed saved goes missing", { timeout: 300_000 }, async () => {
    const summary: string[] = [];
    const runs = Number(process.env.P1_PROCESS_RUNS ?? 5);
    await fc.assert(
      fc.asyncProperty(fc.array(processStep, { minLength: 8, maxLength: 25 }), async (steps) => {
        const relayDir = tempDir("p1-relay-");
        const hostDirs = [tempDir("p1-host-"), tempDir("p1-host-")];
        let relay: RunningRelay | undefined;
        const hosts: HostProcess[] = [];
        const cleanup = async () => {
          await Promise.all(hosts.map((h) => h.kill()));
          await relay?.kill();
          for (const d of [relayDir, ...hostDirs]) fs.rmSync(d, { recursive: true, force: true });
        };
        cleanups.push(cleanup);
        try {
          relay = await startRelay({ dataDir: relayDir });
          const port = relay.port;
          const token = await addToken(relayDir, "p1");
          for (const dir of hostDirs) {
            const host = await HostProcess.start({ dataDir: dir, extension: "hostCommands" });
            await host.addRelay("relay", relay.url, token);
            hosts.push(host);
          }
          const url = await hosts[0]!.createDocument("P1");
          await hosts[1]!.call("openSharedDocument", { url });
          await eventually(async () => (await hosts[1]!.ext<Spans>("spans", { url })).heads.length > 0, 30_000);
          /** Heads a host said were on its disk (confirmSaved), which must never go missing. */
          const saved: string[] = [];
          let kills = 0;
          for (const s of steps) {
            if (s.kind === "edit") {
              const result = await hosts[s.host]!.ext<{ heads: string[] }>("edit", { url, edit: s.edit });
              if (s.confirm && (await hosts[s.host]!.call<{ saved: boolean }>("confirmSaved", { url, heads: result.heads })).saved) saved.push(...result.heads);
            } else if (s.kind === "killHost") {
              await hosts[s.host]!.kill();
              hosts[s.host] = await HostProcess.start({ dataDir: hostDirs[s.host]!, extension: "hostCommands" });
              kills++;
            } else {
              await relay.kill();
              relay = await startRelay({ dataDir: relayDir, port });
              kills++;
            }
          }
          // Every host converges on the same history and rich text, holding every saved change.
          const finals = await eventually(async () => {
            const all = await Promise.all(hosts.map((h) => h.ext<Spans>("spans", { url })));
            return all.every((f) => f.heads.join() === all[0]!.heads.join()) ? all : undefined;
          }, 60_000);
          expect(finals![1]!.spans).toBe(finals![0]!.spans);
          expect(finals![1]!.text).toBe(finals![0]!.text);
          for (const h of hosts) expect(await h.ext<boolean>("hasHeads", { url, heads: saved })).toBe(true);
          summary.push(`${steps.length} steps, ${kills} kills, ${saved.length} saved heads`);
        } finally {
          cleanups.splice(cleanups.indexOf(cleanup), 1);
          await cleanup();
        }
      }),
      { seed: SEED, numRuns: runs, interruptAfterTimeLimit: 240_000, markInterruptAsFailure: true },
    );
    console.log(`P1 processes: ${summary.join("; ")}`);
    expect(summary.length).toBe(runs);
  });
});
