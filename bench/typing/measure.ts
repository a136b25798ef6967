/**
 * What the bench measures inside the page: the open time of the document and the
 * keystroke-to-paint latency while typing. The same code measures Writer and the plain
 * ProseMirror baseline.
 *
 * The functions handed to page.evaluate and addInitScript run in Chromium. This folder
 * is type-checked with Node's typings only (no DOM), so they reach the page's globals
 * through `PageGlobal`, which declares the little of the DOM that they use.
 */
import type { BrowserContext, Page } from "playwright-core";

interface PageRect {
  right: number;
  top: number;
  height: number;
}
interface PageNode {
  textContent: string | null;
  contains(other: PageNode | null): boolean;
}
interface PageElement extends PageNode {
  scrollIntoView(options: { block: "center" }): void;
}
interface PageRange {
  selectNodeContents(node: PageNode): void;
  setStart(node: PageNode, offset: number): void;
  getClientRects(): ArrayLike<PageRect>;
  toString(): string;
}
interface PageMessagePort {
  onmessage: (() => void) | null;
  postMessage(message: unknown): void;
}
interface PageGlobal {
  document: {
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): ArrayLike<PageElement>;
    createRange(): PageRange;
    getSelection(): { focusNode: PageNode | null; focusOffset: number } | null;
  };
  performance: { now(): number; getEntriesByName(name: string): { startTime: number }[] };
  requestAnimationFrame(callback: () => void): number;
  MessageChannel: new () => { port1: PageMessagePort; port2: PageMessagePort };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: object): void; disconnect(): void };
  addEventListener(type: string, listener: (event: { timeStamp: number }) => void, capture: boolean): void;
  __openProbe?: OpenProbe;
  __typingProbe?: TypingProbe;
}

interface OpenProbe {
  /** performance.now() when `.editor-mount` got data-ready="true". */
  readyAt: number | null;
  /** performance.now() once the first frame after that has been produced. */
  paintedAt: number | null;
}

interface TypingProbe {
  keydowns: number[];
  inputs: number;
  /** keydown's timeStamp → the end of the first frame after keydown (rAF, then a MessageChannel message). */
  samples: number[];
  /** keydown's timeStamp → the start of that frame (the rAF callback). */
  toFrame: number[];
  /** keydown's timeStamp → the end of the first frame after the keystroke's input event (a cross-check). */
  fromInput: number[];
}

/**
 * Registered before any page script. tsx compiles this file with esbuild's keepNames,
 * which wraps named functions in `__name(...)` calls that Playwright then serialises
 * into the page: give the page a harmless `__name`. The open probe notices the
 * editor-ready flag at once (a MutationObserver) and timestamps the frame after it.
 */
export async function installOpenProbe(context: BrowserContext): Promise<void> {
  await context.addInitScript({ content: "globalThis.__name = globalThis.__name || ((f) => f);" });
  await context.addInitScript(() => {
    const w = globalThis as unknown as PageGlobal;
    const probe: OpenProbe = { readyAt: null, paintedAt: null };
    w.__openProbe = probe;
    const observer = new w.MutationObserver(() => {
      if (probe.readyAt !== null || !w.document.querySelector('.editor-mount[data-ready="true"]')) return;
      probe.readyAt = w.performance.now();
      observer.disconnect();
      w.requestAnimationFrame(() => {
        const channel = new w.MessageChannel();
        channel.port1.onmessage = () => {
          probe.paintedAt = w.performance.now();
        };
        channel.port2.postMessage(0);
      });
    });
    observer.observe(w.document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
  });
}

export interface OpenResult {
  page: Page;
  /** Navigation start → the editor's own ready mark (document mounted and editable), ms. */
  readyMs: number;
  /** Navigation start → the end of the first frame after that mark, ms. */
  paintedMs: number;
}

/** Opens `url` in a fresh page (or `page`) and waits until the editor is ready and painted. */
export async function openEditor(context: BrowserContext, url: string, readyMark: string, errors: string[], page?: Page): Promise<OpenResult> {
  page ??= await context.newPage();
  page.on("pageerror", (e) => errors.push(e.stack ?? e.message));
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForSelector('.editor-mount[data-ready="true"]', { timeout: 60_000 });
  await page.waitForFunction(() => (globalThis as unknown as PageGlobal).__openProbe?.paintedAt != null, undefined, { timeout: 60_000 });
  const times = await page.evaluate((mark) => {
    const w = globalThis as unknown as PageGlobal;
    const entry = w.performance.getEntriesByName(mark)[0];
    return { ready: entry ? entry.startTime : null, painted: w.__openProbe?.paintedAt ?? null };
  }, readyMark);
  if (times.ready === null || times.painted === null) throw new Error(`no "${readyMark}" performance mark in ${url}`);
  return { page, readyMs: times.ready, paintedMs: times.painted };
}

export interface CaretPlace {
  /** Index of the paragraph among the document's top-level blocks. */
  paragraph: number;
  paragraphs: number;
  /** Its text before typing. */
  text: string;
}

/**
 * Scrolls the middle paragraph of the document into view and clicks at the end of its
 * text, the way a writer would; End then makes sure the caret is at its very end.
 */
export async function clickEndOfMiddleParagraph(page: Page): Promise<CaretPlace> {
  const target = await page.evaluate(() => {
    const w = globalThis as unknown as PageGlobal;
    const blocks = w.document.querySelectorAll(".ProseMirror > p");
    let index = Math.floor(blocks.length / 2);
    while (index < blocks.length && !(blocks[index]!.textContent ?? "").trim()) index++;
    const p = blocks[index];
    if (!p) return null;
    p.scrollIntoView({ block: "center" });
    const range = w.document.createRange();
    range.selectNodeContents(p);
    const rects = range.getClientRects();
    const last = rects[rects.length - 1];
    if (!last) return null;
    return { paragraph: index, paragraphs: blocks.length, text: p.textContent ?? "", x: last.right, y: last.top + last.height / 2 };
  });
  if (!target) throw new Error("found no paragraph with text in the middle of the document");
  // Let the scroll settle into a frame before clicking.
  await page.evaluate(() => new Promise<void>((resolve) => (globalThis as unknown as PageGlobal).requestAnimationFrame(() => resolve())));
  await page.mouse.click(Math.round(target.x) + 2, Math.round(target.y));
  await page.keyboard.press("End");
  const atEnd = await page.evaluate((index) => {
    const w = globalThis as unknown as PageGlobal;
    const p = w.document.querySelectorAll(".ProseMirror > p")[index];
    const selection = w.document.getSelection();
    if (!p || !selection?.focusNode) return "no selection";
    if (!p.contains(selection.focusNode)) return `the caret is outside the paragraph, in "${(selection.focusNode.textContent ?? "").slice(0, 60)}"`;
    const rest = w.document.createRange();
    rest.selectNodeContents(p);
    rest.setStart(selection.focusNode, selection.focusOffset);
    return rest.toString() === "" ? "ok" : `the caret is ${rest.toString().length} characters before the end`;
  }, target.paragraph);
  if (atEnd !== "ok") throw new Error(`could not put the caret at the end of the middle paragraph: ${atEnd}`);
  return { paragraph: target.paragraph, paragraphs: target.paragraphs, text: target.text };
}

const PROSE = [
  "Every replica applies the same operations in its own order, and the documents still converge.",
  "A writer types a sentence, pauses, and reads it back before going on.",
  "Merging is quiet work: nobody should notice it, least of all the person at the keyboard.",
  "Is the caret where it should be? Yes, and the text around it stays put; nothing jumps.",
  "Good tools get out of the way, so that only the words remain on the page.",
];

/**
 * `count` characters of ordinary prose: letters, spaces and a little punctuation, no
 * quotes, dashes or dots in a row (Writer's input rules would rewrite those), no Enter.
 */
export function proseToType(count: number): string {
  let text = "";
  for (let i = 0; text.length < count + 1; i++) text += " " + PROSE[i % PROSE.length];
  return text.slice(0, count);
}

export interface TypingResult {
  typed: string;
  inputs: number;
  /** Keystroke-to-paint per keystroke, in order, warm-up included. */
  samples: number[];
  /** Keystroke to the start of the next frame, per keystroke. */
  toFrame: number[];
  /** Keystroke to the end of the first frame after its input event (see TypingProbe). */
  fromInput: number[];
  /** Time between successive keydowns: Playwright sends a key only once the page handled the last one. */
  keydownGaps: number[];
  caret: CaretPlace;
}

/**
 * Types `text` at the end of the middle paragraph, one key every `delayMs` (Playwright
 * holds each key down that long), and records each keystroke's latency to the next
 * painted frame. Fails when the text did not land in the document.
 */
export async function typeAndMeasure(page: Page, text: string, delayMs: number): Promise<TypingResult> {
  const caret = await clickEndOfMiddleParagraph(page);
  // Let the click's selection change and any pending work (sync, counts) settle.
  await page.waitForTimeout(1000);
  await page.evaluate(() => {
    const w = globalThis as unknown as PageGlobal;
    const probe: TypingProbe = { keydowns: [], inputs: 0, samples: [], toFrame: [], fromInput: [] };
    w.__typingProbe = probe;
    // After the frame's rendering steps, the message queued from rAF runs: the frame is done.
    const afterNextFrame = (t0: number, done: (frameStart: number, frameEnd: number) => void) => {
      w.requestAnimationFrame(() => {
        const frameStart = w.performance.now();
        const channel = new w.MessageChannel();
        channel.port1.onmessage = () => done(frameStart - t0, w.performance.now() - t0);
        channel.port2.postMessage(0);
      });
    };
    w.addEventListener(
      "keydown",
      (event) => {
        probe.keydowns.push(event.timeStamp);
        afterNextFrame(event.timeStamp, (start, end) => {
          probe.toFrame.push(start);
          probe.samples.push(end);
        });
      },
      true,
    );
    // ProseMirror inserts the character on input (a DOM mutation it reads back), after
    // keydown: if a frame could slip in between, this would see it. So far it never has.
    w.addEventListener(
      "input",
      () => {
        probe.inputs++;
        const t0 = probe.keydowns[probe.keydowns.length - 1]!;
        afterNextFrame(t0, (_start, end) => probe.fromInput.push(end));
      },
      true,
    );
  });
  await page.keyboard.type(text, { delay: delayMs });
  // The last keystrokes' frames, then whatever the editor does a moment after typing stops.
  await page.waitForTimeout(500);
  const result = await page.evaluate((index) => {
    const w = globalThis as unknown as PageGlobal;
    const probe = w.__typingProbe!;
    // By position: ProseMirror redraws any node whose DOM a script touches, so nothing is marked.
    const p = w.document.querySelectorAll(".ProseMirror > p")[index];
    return {
      keydowns: probe.keydowns,
      inputs: probe.inputs,
      samples: probe.samples,
      toFrame: probe.toFrame,
      fromInput: probe.fromInput,
      paragraphText: p?.textContent ?? null,
      documentText: w.document.querySelector(".ProseMirror")?.textContent ?? "",
    };
  }, caret.paragraph);
  if (!result.documentText.includes(text)) throw new Error("the typed text is not in the document after typing");
  if (result.paragraphText !== caret.text + text) throw new Error("the typed text did not land at the end of the middle paragraph");
  if (result.samples.length !== text.length || result.fromInput.length !== text.length) {
    throw new Error(`measured ${result.samples.length} keystrokes of ${text.length} (${result.inputs} input events)`);
  }
  const gaps = result.keydowns.slice(1).map((t, i) => t - result.keydowns[i]!);
  return { typed: text, inputs: result.inputs, samples: result.samples, toFrame: result.toFrame, fromInput: result.fromInput, keydownGaps: gaps, caret };
}

export interface Stats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles. */
export function stats(values: number[]): Stats {
  if (values.length === 0) throw new Error("no samples");
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return {
    count: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
