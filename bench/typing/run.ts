/**
 * Typing bench (`npm run bench:typing`): is typing smooth in a 100,000-character
 * document? Loads the final text of the automerge-paper editing trace into Writer
 * (browser shell + host, exactly as a writer runs it) and into a plain ProseMirror
 * editor with no sync, in the same Chromium, and measures for each the open time and
 * the keystroke-to-paint latency of 500 typed characters. See README.md.
 *
 *   tsx bench/typing/run.ts [--trace FILE] [--keys 500] [--delay 40] [--opens 3] [--frames both|60hz|unthrottled]
 *
 * Both are measured in two Chromium launches (`--frames` picks one): A, as the
 * end-to-end tests launch it, with frames at 60 Hz, so a keystroke also waits for the
 * next frame as on a 60 Hz screen; B, with the frame-rate limit off, where a frame
 * comes as soon as there is something to draw: closer to the work itself. See
 * README.md for why both, and for their limits.
 *
 * Exits 0 whenever it measured (a missed target is a result, printed as FAIL), and
 * non-zero only when the bench could not run.
 */
import { execFileSync } from "node:child_process";
import fsSync from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Browser } from "playwright-core";
import { chromiumArgs, chromiumPath, launchChromium } from "../../test/e2e/support/browser";
import { freePort, projectRoot, randomToken, ShellProcess } from "../../test/e2e/support/shell";
import { buildBaseline, serveBaseline, type StaticServer } from "./baseline";
import { installOpenProbe, median, openEditor, proseToType, stats, typeAndMeasure, type Stats, type TypingResult } from "./measure";
import { loadTraceText, paragraphOnDisk, paragraphsOf, prepareDataDir, TRACE_ATTRIBUTION } from "./prepare";
import { commitDescription, machineDescription, writeSummary, type Figure, type Series } from "../common/results";

/** The issue's targets. */
const TARGET_P99_MS = 16;
const TARGET_RATIO = 1.5;
/** The first keystrokes warm up the JIT and caches; they are not counted. */
const WARMUP = 20;
/** Both frame modes take about 2 minutes today; 4 when Writer needed 160 ms per keystroke. */
const TIME_LIMIT_MS = 10 * 60_000;

interface FrameMode {
  id: "60hz" | "unthrottled";
  title: string;
  launch(): Promise<Browser>;
}

const FRAME_MODES: FrameMode[] = [
  {
    id: "60hz",
    title: "A. Chromium as the tests launch it: frames at 60 Hz, so each keystroke also waits 0–16.7 ms for the next frame (what a writer sees)",
    launch: () => launchChromium({ browser: "full" }),
  },
  {
    id: "unthrottled",
    title: "B. frame-rate limit off (--disable-frame-rate-limit --disable-gpu-vsync): a frame as soon as there is something to draw, closer to the work itself",
    launch: () => chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, "--disable-frame-rate-limit", "--disable-gpu-vsync"], headless: true }),
  },
];

interface Options {
  trace: string;
  keys: number;
  delay: number;
  opens: number;
  modes: FrameMode[];
}

interface EditorResult {
  name: string;
  opens: { readyMs: number; paintedMs: number }[];
  /** Median of the opens: navigation start → the editor's ready mark. */
  openMs: number;
  /** Median of the opens: navigation start → the first frame after that mark. */
  openPaintedMs: number;
  keystrokeToPaint: Stats;
  keystrokeToFrameStart: Stats;
  /** Cross-check: from the frame after the input event instead of after keydown. */
  keystrokeToPaintAfterInput: Stats;
  /** Actual time between keydowns (Playwright waits for the page to handle each key). */
  keystrokeIntervalMs: Stats;
  caret: TypingResult["caret"];
  /** Uncaught errors in the page (reported as warnings: the typed text was verified). */
  pageErrors: string[];
  samples: number[];
}

interface ModeResult {
  mode: FrameMode["id"];
  title: string;
  writer: EditorResult;
  plain: EditorResult;
  ratioP99: number;
  pass: boolean;
  verdict: string;
}

/** Everything that must be cleaned up, filled in as the bench goes. */
interface Resources {
  tmp?: string;
  shell?: ShellProcess;
  browser?: Browser;
  server?: StaticServer;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      trace: { type: "string", default: path.resolve(projectRoot, "test/fixtures/traces/automerge-paper.json.gz") },
      keys: { type: "string", default: "500" },
      delay: { type: "string", default: "40" },
      opens: { type: "string", default: "3" },
      frames: { type: "string", default: "both" },
    },
  });
  const int = (name: string, value: string, min: number) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const modes = values.frames === "both" ? FRAME_MODES : FRAME_MODES.filter((m) => m.id === values.frames);
  if (modes.length === 0) throw new Error("--frames must be both, 60hz or unthrottled");
  return {
    trace: path.resolve(values.trace),
    keys: int("keys", values.keys, WARMUP + 1),
    delay: int("delay", values.delay, 0),
    opens: int("opens", values.opens, 1),
    modes,
  };
}

/** Opens the editor `opens` times (fresh pages, one at a time), then types in the last one. */
async function measureEditor(
  browser: Browser,
  name: string,
  url: string,
  readyMark: string,
  options: Options,
): Promise<EditorResult> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } });
  const errors: string[] = [];
  try {
    await installOpenProbe(context);
    const opens: { readyMs: number; paintedMs: number }[] = [];
    let typing: TypingResult | undefined;
    for (let i = 0; i < options.opens; i++) {
      const open = await openEditor(context, url, readyMark, errors);
      opens.push({ readyMs: open.readyMs, paintedMs: open.paintedMs });
      if (i === options.opens - 1) typing = await typeAndMeasure(open.page, proseToType(options.keys), options.delay);
      await open.page.close();
    }
    const t = typing!;
    const result: EditorResult = {
      name,
      opens,
      openMs: median(opens.map((o) => o.readyMs)),
      openPaintedMs: median(opens.map((o) => o.paintedMs)),
      keystrokeToPaint: stats(t.samples.slice(WARMUP)),
      keystrokeToFrameStart: stats(t.toFrame.slice(WARMUP)),
      keystrokeToPaintAfterInput: stats(t.fromInput.slice(WARMUP)),
      keystrokeIntervalMs: stats(t.keydownGaps.slice(WARMUP)),
      caret: t.caret,
      pageErrors: errors,
      samples: t.samples,
    };
    console.log(
      `  ${name}: opens ${opens.map((o) => `${o.readyMs.toFixed(0)}`).join(", ")} ms; ${t.samples.length} keystrokes at end of paragraph ${t.caret.paragraph + 1} of ${t.caret.paragraphs}, ` +
        `p50 ${result.keystrokeToPaint.p50.toFixed(1)} ms, p99 ${result.keystrokeToPaint.p99.toFixed(1)} ms; keydowns every ${result.keystrokeIntervalMs.p50.toFixed(0)} ms (p50)`,
    );
    if (errors.length > 0) {
      const distinct = [...new Set(errors.map((e) => e.split("\n")[0]))];
      console.warn(`  warning: ${errors.length} uncaught error(s) in the ${name} page: ${distinct.join(" | ")}`);
    }
    return result;
  } finally {
    await context.close().catch(() => undefined);
  }
}

function verdictOf(writer: EditorResult, plain: EditorResult): { ratio: number; pass: boolean; verdict: string } {
  const p99 = writer.keystrokeToPaint.p99;
  const ratio = p99 / plain.keystrokeToPaint.p99;
  const pass = p99 < TARGET_P99_MS && ratio <= TARGET_RATIO;
  const notes: string[] = [];
  if (p99 >= TARGET_P99_MS) notes.push(`Writer p99 ${p99.toFixed(1)} ms >= ${TARGET_P99_MS} ms`);
  if (ratio > TARGET_RATIO) notes.push(`ratio ${ratio.toFixed(2)} > ${TARGET_RATIO}`);
  if (plain.keystrokeToPaint.p99 >= TARGET_P99_MS) notes.push(`even the plain editor's p99 is ${plain.keystrokeToPaint.p99.toFixed(1)} ms here`);
  return { ratio, pass, verdict: `${pass ? "PASS" : "FAIL"}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}` };
}

async function bench(options: Options, res: Resources): Promise<void> {
  const started = Date.now();
  const text = await loadTraceText(options.trace);
  const lines = text.split("\n").length;
  console.log(`trace ${path.relative(process.cwd(), options.trace) || options.trace}: final text ${text.length.toLocaleString("en-US")} characters, ${lines.toLocaleString("en-US")} lines`);

  res.tmp = await fs.mkdtemp(path.join(os.tmpdir(), "writer-bench-typing-"));
  const dataDir = path.join(res.tmp, "data");
  const prepared = await prepareDataDir(dataDir, "automerge-paper", text);
  console.log(`Writer data directory ready: one document, ${prepared.paragraphs.toLocaleString("en-US")} paragraphs`);

  const baselineDir = path.join(res.tmp, "baseline");
  await buildBaseline(baselineDir);
  res.server = await serveBaseline(baselineDir, text);

  res.shell = await ShellProcess.start({ dataDir, port: await freePort(), token: randomToken() });
  const shell = res.shell;

  let chromiumVersion = "";
  const modes: ModeResult[] = [];
  for (const mode of options.modes) {
    res.browser = await mode.launch();
    chromiumVersion = res.browser.version();
    console.log(`${mode.title.slice(0, mode.title.indexOf(":"))} — Chromium ${chromiumVersion}: ${options.opens} opens and ${options.keys} keystrokes, ${options.delay} ms apart, per editor`);
    // The plain editor first, while the shell sits idle with nothing connected.
    const plain = await measureEditor(res.browser, "plain ProseMirror", res.server.url, "baseline:editor-ready", options);
    // Every open is the printed URL: the page keeps its token for its own tab (sessionStorage), none in a cookie.
    const writer = await measureEditor(res.browser, "Writer (synced)", shell.url, "writer:editor-ready", options);
    await res.browser.close();
    res.browser = undefined;
    const { ratio, pass, verdict } = verdictOf(writer, plain);
    modes.push({ mode: mode.id, title: mode.title, writer, plain, ratioP99: ratio, pass, verdict });
  }

  // The page showed the typed text; it must also have reached the host and its disk.
  const exit = await shell.stop();
  if (exit !== 0) throw new Error(`the browser shell exited with ${exit} when asked to stop:\n${shell.output.join("")}`);
  const index = modes[0]!.writer.caret.paragraph;
  const expected = paragraphsOf(text)[index] + proseToType(options.keys).repeat(modes.length);
  const onDisk = await paragraphOnDisk(dataDir, prepared.url, index);
  if (onDisk !== expected) throw new Error(`Writer's typing did not reach the disk: paragraph ${index + 1} ends with ${JSON.stringify(onDisk?.slice(-60))}`);
  console.log(`checked: the typed text is in the document on disk (paragraph ${index + 1}), after the shell stopped cleanly`);

  const version = writerVersion();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    chromium: chromiumVersion,
  };
  const counted = options.keys - WARMUP;
  const ms = (n: number, width = 9) => `${n.toFixed(1)} ms`.padStart(width);
  console.log("");
  console.log(
    `typing bench — automerge-paper final text (${text.length.toLocaleString("en-US")} chars, 1 paragraph per line: ${lines.toLocaleString("en-US")}); ` +
      `${options.keys} keystrokes, ${options.delay} ms apart (first ${WARMUP} not counted: ${counted} samples), Chromium ${chromiumVersion}, ${machine.cpus} cores`,
  );
  console.log(`Writer ${version}; ${machine.cpuModel}, ${machine.os}, Node ${machine.node}`);
  for (const m of modes) {
    console.log("");
    console.log(m.title);
    console.log(`                      open (median of ${options.opens})   ---------- keystroke to paint ----------   keydowns`);
    console.log(`                        ready  painted        p50      p95      p99      max   every (p50)`);
    for (const r of [m.writer, m.plain]) {
      const k = r.keystrokeToPaint;
      const open = `${r.openMs.toFixed(0)} ms`.padStart(9) + `${r.openPaintedMs.toFixed(0)} ms`.padStart(9);
      console.log(`  ${r.name.padEnd(18)}${open}  ${[k.p50, k.p95, k.p99, k.max].map((n) => ms(n)).join("")}${ms(r.keystrokeIntervalMs.p50, 12)}`);
    }
    console.log(`  ratio p99 Writer/plain: ${m.ratioP99.toFixed(2)}   target: p99 < ${TARGET_P99_MS} ms and ratio <= ${TARGET_RATIO}   → ${m.verdict}`);
  }
  console.log("");
  console.log(TRACE_ATTRIBUTION);

  const results = {
    bench: "typing",
    date: new Date().toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    writerVersion: version,
    machine,
    trace: { file: path.basename(options.trace), characters: text.length, paragraphs: lines, attribution: TRACE_ATTRIBUTION },
    method: {
      keystrokes: options.keys,
      delayMs: options.delay,
      warmup: WARMUP,
      opens: options.opens,
      keystrokeToPaint: "keydown event.timeStamp → end of the first frame after it (requestAnimationFrame callback posts a MessageChannel message; its arrival is the sample)",
      open: "navigation start → the editor's ready performance mark (ready), and → the end of the first frame after it (painted)",
    },
    target: { p99Ms: TARGET_P99_MS, ratio: TARGET_RATIO },
    pass: Object.fromEntries(modes.map((m) => [m.mode, m.pass])),
    modes,
  };
  const out = path.join(projectRoot, "bench", "typing", "results", "latest.json");
  await fs.mkdir(path.dirname(out), { recursive: true });
  await fs.writeFile(out, JSON.stringify(results, null, 2) + "\n");
  console.log(`results: ${path.relative(process.cwd(), out)}`);
  const summary = await writeSummary(path.join(projectRoot, "bench", "typing"), {
    bench: "typing",
    command: `npx tsx bench/typing/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
    commit: commitDescription(projectRoot),
    machine: `${machineDescription()}, Chromium ${chromiumVersion}`,
    date: results.date,
    durationS: results.durationS,
    ...summaryOf(modes, options),
  });
  console.log(`summary: ${path.relative(process.cwd(), summary)}`);
}

/** The suite's view (bench/suite.ts): per frame mode, Writer's figures beside the plain editor's, and the latency distributions. */
function summaryOf(modes: ModeResult[], options: Options): { figures: Figure[]; series: Series[]; notes: string[] } {
  const figures: Figure[] = [];
  const series: Series[] = [];
  const plain = (value: number) => ({ name: "plain ProseMirror", value });
  // The mode the targets are for first.
  const ordered = [...modes].sort((a, b) => (a.mode === "unthrottled" ? -1 : 0) - (b.mode === "unthrottled" ? -1 : 0));
  for (const m of ordered) {
    const label = m.mode === "unthrottled" ? "frame limit off" : "60 Hz frames";
    const w = m.writer.keystrokeToPaint;
    const p = m.plain.keystrokeToPaint;
    figures.push({ name: `keystroke to paint, p50 (${label})`, value: w.p50, unit: "ms", baseline: plain(p.p50) });
    figures.push({
      name: `keystroke to paint, p99 (${label})`,
      value: w.p99,
      unit: "ms",
      baseline: plain(p.p99),
      // At 60 Hz the wait for the next frame alone is up to 16.7 ms (README.md, "Two frame modes").
      ...(m.mode === "unthrottled" ? { target: { text: `< ${TARGET_P99_MS} ms`, met: w.p99 < TARGET_P99_MS } } : {}),
    });
    figures.push({ name: `p99 Writer / plain ProseMirror (${label})`, value: m.ratioP99, unit: "×", target: { text: `≤ ${TARGET_RATIO}×`, met: m.ratioP99 <= TARGET_RATIO } });
    series.push({
      id: `typing-latency-${m.mode}`,
      title: `Typing in a 104,852-character document: keystroke to paint (${label})`,
      x: { label: "keystroke to paint (ms)" },
      y: { label: "keystrokes" },
      kind: "distribution",
      lines: [m.writer, m.plain].map((r) => ({ name: r.name, points: r.samples.slice(WARMUP).map((v): [number, number] => [v, 1]) })),
    });
  }
  const first = ordered[0]!;
  figures.push({ name: `open, navigation start to editable (median of ${options.opens})`, value: first.writer.openMs, unit: "ms", baseline: plain(first.plain.openMs) });
  return {
    figures,
    series,
    notes: [
      `${options.keys} keystrokes ${options.delay} ms apart at the end of the middle paragraph, the first ${WARMUP} not counted; baseline: a plain ProseMirror editor with Writer's schema, plugins and CSS and no sync, same text, same Chromium, same run.`,
      "Frame limit off (`--disable-frame-rate-limit`): a frame as soon as there is something to draw, closest to the work itself; the issue's targets (p99 < 16 ms, within 1.5× of plain) apply there. At 60 Hz each keystroke also waits up to 16.7 ms for the next frame, so even the plain editor's p99 is near 20 ms: only the ratio is a target.",
      `Open: the first of the frame modes' runs (${first.mode}).`,
    ],
  };
}

/** Which Writer was measured: the commit, and whether src/ had uncommitted changes. */
function writerVersion(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: projectRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--", "src") ? " + uncommitted changes in src/" : ""}`;
  } catch {
    return "unknown (not a git checkout)";
  }
}

async function cleanup(res: Resources): Promise<void> {
  await res.browser?.close().catch(() => undefined);
  res.browser = undefined;
  if (res.shell) {
    const shell = res.shell;
    // A clean stop flushes and releases the data directory; kill it if that hangs.
    const stopped = await Promise.race([shell.stop().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000))]).catch(() => false);
    if (!stopped) await shell.kill().catch(() => undefined);
    res.shell = undefined;
  }
  await res.server?.close().catch(() => undefined);
  res.server = undefined;
  if (res.tmp) await fs.rm(res.tmp, { recursive: true, force: true }).catch(() => undefined);
  res.tmp = undefined;
}

/**
 * The last resort when something ends the process before cleanup() is done (Playwright
 * exits with 130 on Ctrl+C once it has closed its browsers): no shell process and no
 * temp directory are left behind.
 */
function cleanupOnExit(res: Resources): void {
  if (res.shell) {
    try {
      process.kill(res.shell.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  if (res.tmp) fsSync.rmSync(res.tmp, { recursive: true, force: true });
}

class Aborted extends Error {}

async function main(): Promise<number> {
  const options = parseOptions();
  const res: Resources = {};
  const onExit = () => cleanupOnExit(res);
  process.on("exit", onExit);
  let timer: NodeJS.Timeout | undefined;
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Aborted(`the bench did not finish within ${TIME_LIMIT_MS / 60_000} minutes; aborted`)), TIME_LIMIT_MS);
    onSignal = (signal) => reject(new Aborted(`interrupted (${signal}); cleaning up`));
    // Registered until cleanup is done, so that a signal never finds the default action.
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  const run = bench(options, res);
  // Once aborted, the bench's pending steps fail as their browser and processes go away.
  run.catch(() => undefined);
  try {
    await Promise.race([run, stop]);
    return 0;
  } catch (error) {
    console.error(`typing bench could not run: ${error instanceof Aborted ? error.message : ((error as Error).stack ?? error)}`);
    return 1;
  } finally {
    clearTimeout(timer);
    await cleanup(res);
    if (onSignal) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    process.off("exit", onExit);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
