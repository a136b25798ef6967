/**
 * Where does the time go in Writer with a 100,000-character document? Opens the same
 * document as run.ts in the browser shell and prints evidence, in three parts:
 *
 *  1. Without instrumentation: per keystroke, the event handlers' time (Event Timing
 *     API) and the long animation frames' script and rendering time (LoAF API).
 *  2. With the CDP Profiler: what share of the keystroke's JavaScript each suspect
 *     takes (inclusive time), the functions with the most self time, and the same for
 *     opening the document.
 *  3. A Chrome trace (devtools.timeline) of Writer and of the plain ProseMirror
 *     baseline typing the same keys: the renderer main thread's time per keystroke by
 *     kind of work (script, event dispatch, style, layout, paint, GC), as self time.
 *  4. In Node, the same Automerge calls on the same document, timed one by one.
 *
 *   npm run build && tsx bench/typing/profile.ts [--keys 60] [--delay 40] [--trace FILE]
 *
 * Writer's renderer bundle is not minified (electron-vite's default), so function names
 * in the profiles are the source's. The profiles are written to bench/typing/results/
 * (open them in Chrome DevTools → Performance).
 */
import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { next as A } from "@automerge/automerge";
import type { Browser, CDPSession, Page } from "playwright-core";
import { launchChromium } from "../../test/e2e/support/browser";
import { buildBaseline, serveBaseline, type StaticServer } from "./baseline";
import { freePort, projectRoot, randomToken, ShellProcess } from "../../test/e2e/support/shell";
import { clickEndOfMiddleParagraph, installOpenProbe, median, openEditor, proseToType } from "./measure";
import { loadTraceText, paragraphsOf, prepareDataDir, TRACE_ATTRIBUTION } from "./prepare";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

type Suspects = [label: string, names: string[]][];

/** Per keystroke: is it one of these? (names as in the unminified bundle) */
const TYPING_SUSPECTS: Suspects = [
  ["sync plugin appendTransaction, all of it", ["appendTransaction"]],
  ["  Writer's typing fast path (applyFast)", ["applyFast"]],
  ["    textblockOrdinal (walks the doc up to the caret)", ["textblockOrdinal"]],
  ["    fixMarks", ["fixMarks"]],
  ["  am.spans: the whole text as spans (every call)", ["spans"]],
  ["  am.marksAt (fixMarks, or pmToAm's reconcileMarks)", ["marksAt"]],
  ["  pmToAm (ProseMirror steps → Automerge)", ["pmToAm_default"]],
  ["  amToPm (patches → ProseMirror, to compare)", ["amToPm_default"]],
  ["  am.diff", ["diff"]],
  ["DocHandle.change", ["change"]],
  ["ProseMirror EditorView.updateState", ["updateState"]],
  ["React rendering (performWorkOnRoot)", ["performWorkOnRoot"]],
  ["  Toolbar", ["Toolbar"]],
  ["  LoadedEditor (EditorPane)", ["LoadedEditor"]],
  ["  Sidebar", ["Sidebar"]],
  ["sync with the host: receiveSyncMessage", ["receiveSyncMessage"]],
  ["sync with the host: generateSyncMessage", ["generateSyncMessage"]],
  ["save indicator: confirmSaved round trips", ["confirm"]],
  ["countText (word count, after a pause)", ["countText"]],
  ["garbage collector", ["(garbage collector)"]],
];

/** Opening the document: is it one of these? */
const OPEN_SUSPECTS: Suspects = [
  ["Automerge wasm: initializeBase64Wasm", ["initializeBase64Wasm"]],
  ["sync: receiveSyncMessage (document arrives)", ["receiveSyncMessage"]],
  ["am.spans", ["spans"]],
  ["pmDocFromSpans (spans → ProseMirror doc)", ["pmDocFromSpans"]],
  ["new EditorView (DOM for 1,173 paragraphs)", ["EditorView"]],
  ["React rendering (performWorkOnRoot)", ["performWorkOnRoot"]],
  ["countText", ["countText"]],
  ["garbage collector", ["(garbage collector)"]],
];

function analyse(title: string, profile: CpuProfile, divisor: number, unit: string, suspects: Suspects): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  const label = (f: CallFrame) => `${f.functionName || "(anonymous)"}${f.url ? ` ${path.basename(f.url)}:${f.lineNumber + 1}` : ""}`;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    total += dt;
    const leaf = byId.get(id)!;
    if (leaf.callFrame.functionName === "(idle)") {
      idle += dt;
      return;
    }
    self.set(label(leaf.callFrame), (self.get(label(leaf.callFrame)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      const name = n.callFrame.functionName || "(anonymous)";
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
    }
  });
  const busy = total - idle;
  const fmt = (ms: number) => `${(ms / divisor).toFixed(1).padStart(8)} ms${unit}  ${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  console.log(`\n${title}: ${total.toFixed(0)} ms recorded, JavaScript/V8 busy ${busy.toFixed(0)} ms (${(busy / divisor).toFixed(1)} ms${unit}; the profiler slows wasm down, so read shares)`);
  console.log("  inclusive time:");
  for (const [name, names] of suspects) console.log(`    ${name.padEnd(52)}${fmt(Math.max(0, ...names.map((n) => inclusive.get(n) ?? 0)))}`);
  console.log("  most self time:");
  for (const [name, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`    ${name.slice(0, 76).padEnd(78)}${fmt(ms)}`);
}

async function startProfiler(cdp: CDPSession): Promise<void> {
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 250 });
  await cdp.send("Profiler.start");
}

async function stopProfiler(cdp: CDPSession, name: string): Promise<CpuProfile> {
  const { profile } = (await cdp.send("Profiler.stop")) as unknown as { profile: CpuProfile };
  const out = path.join(projectRoot, "bench", "typing", "results", `${name}.cpuprofile`);
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, JSON.stringify(profile));
  return profile;
}

interface FrameEvidence {
  /** Event type → each event's handler time (processingEnd - processingStart). */
  handlerMs: Record<string, number[]>;
  frames: { duration: number; script: number; render: number; styleLayout: number; scripts: string[] }[];
  invokers: Record<string, number>;
  keydownGaps: number[];
}

/** Types without a profiler; the page's own performance APIs say where the time went. */
async function typeObserved(page: Page, keys: number, delay: number): Promise<FrameEvidence> {
  await page.evaluate(() => {
    interface Entry {
      name: string;
      entryType: string;
      startTime: number;
      duration: number;
      processingStart?: number;
      processingEnd?: number;
      renderStart?: number;
      styleAndLayoutStart?: number;
      scripts?: { invoker: string; duration: number; sourceFunctionName: string }[];
    }
    const g = globalThis as unknown as {
      PerformanceObserver: new (cb: (list: { getEntries(): Entry[] }) => void) => { observe(o: object): void };
      addEventListener(type: string, listener: (e: { timeStamp: number }) => void, capture: boolean): void;
      __observed: { events: Entry[]; frames: Entry[]; keydowns: number[] };
    };
    g.__observed = { events: [], frames: [], keydowns: [] };
    new g.PerformanceObserver((list) => g.__observed.events.push(...list.getEntries())).observe({ type: "event", durationThreshold: 16 });
    new g.PerformanceObserver((list) => g.__observed.frames.push(...list.getEntries())).observe({ type: "long-animation-frame" });
    g.addEventListener("keydown", (e) => g.__observed.keydowns.push(e.timeStamp), true);
  });
  await page.keyboard.type(proseToType(keys), { delay });
  await page.waitForTimeout(500);
  return page.evaluate(() => {
    interface Entry {
      name: string;
      startTime: number;
      duration: number;
      processingStart: number;
      processingEnd: number;
      renderStart: number;
      styleAndLayoutStart: number;
      scripts: { invoker: string; duration: number; sourceFunctionName: string }[];
    }
    const o = (globalThis as unknown as { __observed: { events: Entry[]; frames: Entry[]; keydowns: number[] } }).__observed;
    const handlerMs: Record<string, number[]> = {};
    for (const e of o.events) (handlerMs[e.name] ??= []).push(e.processingEnd - e.processingStart);
    const invokers: Record<string, number> = {};
    const frames = o.frames.map((f) => {
      let script = 0;
      for (const s of f.scripts) {
        script += s.duration;
        invokers[s.invoker] = (invokers[s.invoker] ?? 0) + s.duration;
      }
      const end = f.startTime + f.duration;
      const scripts = f.scripts
        .filter((x) => x.duration >= 5)
        .map((x) => `${x.invoker}${x.sourceFunctionName ? ` → ${x.sourceFunctionName}` : ""} ${x.duration.toFixed(0)} ms`);
      return { duration: f.duration, script, render: f.renderStart ? end - f.renderStart : 0, styleLayout: f.styleAndLayoutStart ? end - f.styleAndLayoutStart : 0, scripts };
    });
    const keydownGaps = o.keydowns.slice(1).map((t, i) => t - o.keydowns[i]!);
    return { handlerMs, frames, invokers, keydownGaps };
  });
}

function printObserved(ev: FrameEvidence, keys: number): void {
  const f = (n: number) => `${n.toFixed(1)} ms`;
  console.log(`\nwithout a profiler, ${keys} keystrokes (Event Timing and Long Animation Frames APIs):`);
  console.log(`  keydown to keydown: median ${f(median(ev.keydownGaps))} (Playwright sends the next key only once the page has handled the last one)`);
  const handlers = Object.entries(ev.handlerMs).map(([type, xs]) => `${type} ${f(median(xs))} (${xs.length}×)`);
  console.log(`  event handlers, median per event (events slower than 16 ms to paint): ${handlers.join(", ") || "none"}`);
  if (ev.frames.length > 0) {
    console.log(
      `  frames longer than 50 ms: ${ev.frames.length}; median duration ${f(median(ev.frames.map((x) => x.duration)))}, ` +
        `script ${f(median(ev.frames.map((x) => x.script)))}, rendering ${f(median(ev.frames.map((x) => x.render)))} (style and layout ${f(median(ev.frames.map((x) => x.styleLayout)))})`,
    );
    const top = Object.entries(ev.invokers).sort((a, b) => b[1] - a[1]).slice(0, 6);
    console.log(`  script time in those frames by entry point: ${top.map(([k, v]) => `${k} ${f(v / keys)}/key`).join(", ")}`);
    for (const frame of [...ev.frames].sort((a, b) => b.duration - a.duration).slice(0, 5)) {
      console.log(`    a ${f(frame.duration)} frame: ${frame.scripts.join("; ") || "no script over 5 ms"}`);
    }
  } else {
    console.log("  no frame took longer than 50 ms");
  }
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string; data?: { type?: string } };
}

/** A trace event's kind: its name, and for event dispatches the DOM event's type. */
function kindOf(e: TraceEvent): string {
  return e.name === "EventDispatch" ? `EventDispatch ${e.args?.data?.type ?? "?"}` : e.name;
}

/**
 * Types `keys` keys in `page` under a Chrome trace and returns, per keystroke, the
 * renderer main thread's busy time and the self time (time not in a nested event) of
 * each kind of trace event.
 */
async function traceTyping(browser: Browser, page: Page, keys: number, delay: number): Promise<Map<string, number>> {
  await browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "toplevel"] });
  await page.keyboard.type(proseToType(keys), { delay });
  await page.waitForTimeout(300);
  const events = (JSON.parse((await browser.stopTracing()).toString("utf8")) as { traceEvents: TraceEvent[] }).traceEvents;
  // The renderer main thread that dispatched the keystrokes.
  const thread = (e: TraceEvent) => `${e.pid}:${e.tid}`;
  const mains = new Set(events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === "CrRendererMain").map(thread));
  const keypresses = new Map<string, number>();
  for (const e of events) if (kindOf(e) === "EventDispatch keypress" && mains.has(thread(e))) keypresses.set(thread(e), (keypresses.get(thread(e)) ?? 0) + 1);
  const main = [...keypresses.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const spans = events.filter((e) => e.ph === "X" && thread(e) === main && e.dur !== undefined).sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  const self = new Map<string, number>();
  let busy = 0;
  const stack: { end: number; kind: string; children: number; dur: number }[] = [];
  const close = (frame: { kind: string; children: number; dur: number }) => self.set(frame.kind, (self.get(frame.kind) ?? 0) + frame.dur - frame.children);
  for (const e of spans) {
    while (stack.length > 0 && stack[stack.length - 1]!.end <= e.ts) close(stack.pop()!);
    const parent = stack[stack.length - 1];
    if (parent) parent.children += e.dur!;
    else busy += e.dur!;
    stack.push({ end: e.ts + e.dur!, kind: kindOf(e), children: 0, dur: e.dur! });
  }
  while (stack.length > 0) close(stack.pop()!);
  const perKey = new Map<string, number>([["busy (top-level tasks)", busy / 1000 / keys]]);
  for (const [kind, us] of self) perKey.set(kind, us / 1000 / keys);
  return perKey;
}

function printTraces(keys: number, writer: Map<string, number>, plain: Map<string, number>): void {
  console.log(`\nChrome trace, renderer main thread, ${keys} keystrokes each, ms per keystroke (self time of each kind of trace event):`);
  console.log(`  ${"".padEnd(44)}${"Writer".padStart(9)}${"plain".padStart(9)}`);
  const kinds = [...writer.keys()].sort((a, b) => (a.startsWith("busy") ? -1 : b.startsWith("busy") ? 1 : writer.get(b)! - writer.get(a)!));
  for (const kind of kinds.slice(0, 14)) console.log(`  ${kind.slice(0, 43).padEnd(44)}${writer.get(kind)!.toFixed(2).padStart(9)}${(plain.get(kind) ?? 0).toFixed(2).padStart(9)}`);
  console.log("  (FunctionCall and v8.callFunction: JavaScript — listeners, timers, messages, observers; EventDispatch textInput: Chromium's own text insertion)");
}

/** The same Automerge calls on the same document, in Node (same wasm, same V8). */
function automergeInNode(text: string): void {
  let doc = A.from<{ text: string }>({ text: "" });
  doc = A.change(doc, (d) => {
    let index = 0;
    for (const line of paragraphsOf(text)) {
      A.splitBlock(d, ["text"], index, { type: new A.ImmutableString("paragraph"), parents: [], attrs: {} });
      index += 1;
      if (line.length > 0) A.splice(d, ["text"], index, 0, line);
      index += line.length;
    }
  });
  const mid = Math.floor(text.length / 2);
  const time = (f: () => unknown, n: number) => {
    f();
    const t = performance.now();
    for (let i = 0; i < n; i++) f();
    return (performance.now() - t) / n;
  };
  const spans = time(() => A.spans(doc, ["text"]), 20);
  const marksAt = time(() => A.marksAt(doc, ["text"], mid), 20);
  const splice = time(() => {
    doc = A.change(doc, (d) => A.splice(d, ["text"], mid, 0, "x"));
  }, 50);
  console.log(`\nthe same document in Node (${A.spans(doc, ["text"]).length.toLocaleString("en-US")} spans): one A.spans ${spans.toFixed(1)} ms, one A.marksAt ${marksAt.toFixed(1)} ms, a one-character A.change + splice ${splice.toFixed(2)} ms`);
  console.log("  @automerge/prosemirror's syncPlugin.appendTransaction (Writer's slow path since a5c3f31: structure, formatting, remote");
  console.log("  patches) calls A.spans 4 times per transaction (before, inside the change, after each step in pmToAm, after) and");
  console.log(`  A.marksAt once per text step (reconcileMarks): about ${(4 * spans + marksAt).toFixed(0)} ms of work per transaction on this document.`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trace: { type: "string", default: path.resolve(projectRoot, "test/fixtures/traces/automerge-paper.json.gz") },
      keys: { type: "string", default: "60" },
      delay: { type: "string", default: "40" },
    },
  });
  const keys = Number(values.keys);
  const delay = Number(values.delay);
  const text = await loadTraceText(path.resolve(values.trace));
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "writer-bench-profile-"));
  let shell: ShellProcess | undefined;
  let browser: Browser | undefined;
  let server: StaticServer | undefined;
  const timer = setTimeout(() => {
    console.error("profile did not finish within 5 minutes; aborting");
    void browser?.close();
    void shell?.kill();
  }, 5 * 60_000);
  // If the process ends early (Playwright exits on Ctrl+C), leave no shell or temp directory behind.
  const onExit = () => {
    if (shell) {
      try {
        process.kill(shell.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    fsSync.rmSync(tmp, { recursive: true, force: true });
  };
  process.on("exit", onExit);
  try {
    const dataDir = path.join(tmp, "data");
    await prepareDataDir(dataDir, "automerge-paper", text);
    shell = await ShellProcess.start({ dataDir, port: await freePort(), token: randomToken() });
    browser = await launchChromium({ browser: "full" });
    const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
    await installOpenProbe(context);
    const authorised = await context.request.get(shell.url, { maxRedirects: 0 });
    if (authorised.status() !== 303) throw new Error(`the shell refused the token (HTTP ${authorised.status()})`);
    const errors: string[] = [];

    // Opening, profiled from before navigation.
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await startProfiler(cdp);
    const { readyMs } = await openEditor(context, `${shell.origin}/`, "writer:editor-ready", errors, page);
    analyse(`opening the document (ready after ${readyMs.toFixed(0)} ms, with the profiler on)`, await stopProfiler(cdp, "writer-open"), 1, "", OPEN_SUSPECTS);

    await clickEndOfMiddleParagraph(page);
    await page.waitForTimeout(1000);
    printObserved(await typeObserved(page, keys, delay), keys);

    await page.waitForTimeout(1000);
    await startProfiler(cdp);
    await page.keyboard.type(proseToType(keys), { delay });
    await page.waitForTimeout(300);
    analyse(`typing ${keys} keystrokes, profiled`, await stopProfiler(cdp, "writer-typing"), keys, "/key", TYPING_SUSPECTS);
    await cdp.detach();

    await page.waitForTimeout(1000);
    const writerTrace = await traceTyping(browser, page, keys, delay);
    await page.close();
    await buildBaseline(path.join(tmp, "baseline"));
    server = await serveBaseline(path.join(tmp, "baseline"), text);
    const plainPage = (await openEditor(context, server.url, "baseline:editor-ready", errors)).page;
    await clickEndOfMiddleParagraph(plainPage);
    await plainPage.waitForTimeout(1000);
    printTraces(keys, writerTrace, await traceTyping(browser, plainPage, keys, delay));

    automergeInNode(text);
    if (errors.length > 0) console.warn(`\nwarning: ${errors.length} uncaught error(s) in the page: ${[...new Set(errors.map((e) => e.split("\n")[0]))].join(" | ")}`);
    console.log(`\nCPU profiles (Chrome DevTools → Performance → load): bench/typing/results/writer-open.cpuprofile, writer-typing.cpuprofile`);
    console.log(TRACE_ATTRIBUTION);
  } finally {
    clearTimeout(timer);
    await browser?.close().catch(() => undefined);
    await shell?.stop().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await fs.rm(tmp, { recursive: true, force: true });
    shell = undefined;
    process.off("exit", onExit);
  }
}

main().catch((error: unknown) => {
  console.error(`profile could not run: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
