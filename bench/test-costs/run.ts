/**
 * What the test suite pays per window and per process (`npm run bench:test-costs`): the
 * processor time (user + system, from /proc) of
 *
 * - opening a document in a fresh browser context, in Debian's chromium-headless-shell
 *   (what the tests drive) beside the full chromium run headless: every Chromium process
 *   of that browser counted, the browser shell not; the first open creates the document,
 *   the others reopen it; each open waits 2 s after the editor is there;
 * - an empty context in each (a page with one paragraph), for what the browser itself costs;
 * - starting the relay as it ships (sync-server/dist/cli.mjs), with its document worker
 *   and with `--workers 0`: from the spawn until it is listening, plus one second.
 *
 *   npx tsx bench/test-costs/run.ts [--opens 8] [--starts 7]
 *
 * Needs `npm run build` (out/renderer) and Chromium. Medians; prints its figures.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { chromiumArgs } from "../../test/e2e/support/browser";
import { freePort, randomToken, ShellProcess } from "../../test/e2e/support/shell";
import { LibraryPage } from "../../test/e2e/pages/LibraryPage";

const ROOT = path.resolve(import.meta.dirname, "../..");
const { values } = parseArgs({ options: { opens: { type: "string", default: "8" }, starts: { type: "string", default: "7" } } });
const OPENS = Number(values.opens);
const STARTS = Number(values.starts);
const BROWSERS = [
  { name: "chromium-headless-shell", path: "/usr/bin/chromium-headless-shell" },
  { name: "chromium (full, headless)", path: "/usr/bin/chromium" },
];

/** Linux's USER_HZ (`getconf CLK_TCK`): /proc counts processor time in hundredths of a second. */
const CLOCK_TICKS = 100;

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Every process below `pid`. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

/** Sums the processor time of this process's Chromium processes, including those that exit between looks. */
class ChromiumMeter {
  #seen = new Map<number, number>();
  #timer = setInterval(() => this.look(), 25);
  look(): void {
    for (const pid of descendants(process.pid)) {
      try {
        if (!fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("chromium")) continue;
        this.#seen.set(pid, Math.max(this.#seen.get(pid) ?? 0, cpuSeconds(pid)));
      } catch {
        // gone meanwhile
      }
    }
  }
  total(): number {
    this.look();
    return [...this.#seen.values()].reduce((a, b) => a + b, 0);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function windows(browserPath: string): Promise<{ open: number; empty: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-costs-"));
  const shell = await ShellProcess.start({ dataDir, port: await freePort(), token: randomToken() });
  const browser = await chromium.launch({ executablePath: browserPath, args: chromiumArgs, headless: true });
  const meter = new ChromiumMeter();
  try {
    await pause(500);
    const opens: number[] = [];
    for (let i = 0; i < OPENS; i++) {
      const before = meter.total();
      const context = await browser.newContext();
      const page = await context.newPage();
      const library = new LibraryPage(page);
      await library.goto(shell.url);
      if (i === 0) {
        await library.newDocument();
        await page.keyboard.type("The keeper climbed the stairs.");
      } else {
        await page.locator(".ProseMirror").first().waitFor({ timeout: 30_000 });
      }
      await pause(2000);
      await context.close();
      await pause(300);
      opens.push(meter.total() - before);
    }
    const empties: number[] = [];
    for (let i = 0; i < OPENS; i++) {
      const before = meter.total();
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.setContent("<p>An empty page.</p>");
      await pause(500);
      await context.close();
      await pause(300);
      empties.push(meter.total() - before);
    }
    return { open: median(opens.slice(1)), empty: median(empties) };
  } finally {
    meter.stop();
    await browser.close();
    await shell.kill();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function relayStart(extra: string[]): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-test-costs-relay-"));
    const child = spawn(process.execPath, [path.join(ROOT, "sync-server/dist/cli.mjs"), "--port", "0", "--data", dataDir, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    let said = "";
    await new Promise<void>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`the relay exited (${code}): ${said}`)));
      const listen = (d: Buffer) => (said += d.toString()).includes("listening on") && resolve();
      child.stdout!.on("data", listen);
      child.stderr!.on("data", listen);
    });
    await pause(1000);
    runs.push(cpuSeconds(child.pid!));
    child.removeAllListeners("exit");
    child.kill("SIGKILL");
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return median(runs);
}

console.log(`# Test costs: processor time per window and per start\nnode ${process.version}, ${os.cpus().length} cores, ${new Date().toISOString()}\n`);
if (!fs.existsSync(path.join(ROOT, "out/renderer/index.html"))) throw new Error("no out/renderer: run `npm run build` first");
console.log(`| browser | open a document in a fresh context (median of ${OPENS - 1}) | an empty context (median of ${OPENS}) |\n|---|---|---|`);
for (const b of BROWSERS) {
  if (!fs.existsSync(b.path)) {
    console.log(`| ${b.name} | not installed | |`);
    continue;
  }
  const { open, empty } = await windows(b.path);
  console.log(`| ${b.name} | ${open.toFixed(2)} s | ${empty.toFixed(2)} s |`);
}
console.log(`\n| relay start (sync-server/dist, until listening + 1 s, median of ${STARTS}) | processor time |\n|---|---|`);
console.log(`| default (one document worker) | ${(await relayStart([])).toFixed(2)} s |`);
console.log(`| --workers 0 | ${(await relayStart(["--workers", "0"])).toFixed(2)} s |`);
