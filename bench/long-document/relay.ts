/**
 * Nobody waits for someone else's long document (issue 6), on the relay: two writers
 * type into a small document through a relay (each a real host and renderer in its own
 * process, bench/propagation/client.ts, keystroke to the other's renderer) while
 * another desktop (open-through-relay.ts, its own process) opens a long document
 * through the same relay. For each of the two documents bench/long-document/run.ts
 * saved (grouped per burst, one change per keystroke), the same run is made against the
 * relay with every document on its main thread (`--workers 0`, the relay before this
 * change) and with long documents in a worker (`--workers 1`, the default on two
 * cores). Also: the relay's `/healthz`, asked every 5 ms, for its main thread.
 *
 * Printed: propagation p50/p99/max of the keystrokes sent before the open (quiet) and
 * of those sent while it was under way; target: p99 during the open within 2x of quiet.
 *
 *   tsx bench/long-document/relay.ts [--rounds 2] [--rate 10] [--seconds 10]
 *   (after `npm run bench:long-document`, which saves the two documents)
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { Repo } from "@automerge/automerge-repo";
import { FileStorageAdapter } from "../../src/node/storage";
import type { WriterDocument } from "../../src/shared/document";
import { children, ClientProcess, stopChild } from "../propagation/clientProcess";
import { wallClock, type ClientReport } from "../propagation/protocol";

const here = import.meta.dirname;
const CLI = path.join(here, "../../sync-server/cli.ts");
const OPENER = path.join(here, "open-through-relay.ts");

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const options = new Command("relay")
  .option("--rounds <n>", "runs of each document and relay setting", int(1), 1)
  .option("--rate <n>", "keystrokes per second per writer", int(1), 10)
  .option("--seconds <n>", "typing time; the long document is opened 3 s in", int(6), 10)
  .parse()
  .opts<{ rounds: number; rate: number; seconds: number }>();

const results = path.join(here, "results");
const docs = [
  ["Writer, grouped per burst", path.join(results, "grouped.automerge")],
  ["one change per keystroke", path.join(results, "per-keystroke.automerge")],
] as const;
for (const [, file] of docs) if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run bench:long-document first`);
const setups = [
  { name: "one thread (--workers 0)", workers: 0 },
  { name: "document worker (--workers 1)", workers: 1 },
];

process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** The relay's CLI adds a token, as an operator would. */
function addToken(dataDir: string): string {
  const out = execFileSync(process.execPath, ["--import", "tsx", CLI, "token", "add", "bench", "--data", dataDir], { encoding: "utf8" });
  const token = out.split(/\s+/).find((w) => /^[A-Za-z0-9_-]{43}$/.test(w));
  if (!token) throw new Error(`no token in: ${out}`);
  return token;
}

async function startRelay(dataDir: string, workers: number) {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0", "--host", "127.0.0.1", "--data", dataDir, "--workers", String(workers)], {
    // "info": the line that says where it listens is an info line.
    env: { ...process.env, RELAY_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the relay did not say where it listens within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (ws:\/\/[^\s"',]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`relay exited with ${code}:\n${output}`)));
  });
  return { url, port: Number(new URL(url).port), child, output: () => output };
}

/** One GET of /healthz, timed; a failed request counts as the time it took to fail. */
function ping(port: number): Promise<number> {
  const start = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(performance.now() - start));
    });
    req.on("error", () => resolve(performance.now() - start));
  });
}

interface Run {
  openMs: number;
  /** The opening desktop host's own longest event-loop stall during the open. */
  openerStallMs: number;
  quiet: number[];
  during: number[];
  lost: number;
  healthzQuiet: number;
  healthzDuring: number;
}

async function measure(file: string, workers: number): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-long-relay-"));
  const dataDir = path.join(dir, "relay");
  try {
    // The long document in the relay's storage, as if a writer had synced it there months ago.
    const storage = await FileStorageAdapter.open(path.join(dataDir, "documents"));
    const repo = new Repo({ storage, network: [] });
    const long = repo.import<WriterDocument>(fs.readFileSync(file));
    await repo.flush();
    await repo.shutdown();
    await storage.close();
    const token = addToken(dataDir);
    const relay = await startRelay(dataDir, workers);
    const typists = ["t0", "t1"];
    const clients = typists.map((t) => new ClientProcess(t, []));
    try {
      const settings = { rendererDebounceMs: 0, hostDebounceMs: null, hostSaveDebounceMs: null, adapter: "settings" as const, fastPath: true };
      clients.forEach((c, i) => c.send({ type: "init", typist: c.typist, typists, dataDir: path.join(dir, c.typist), relayUrl: relay.url, token, settings, create: i === 0 }));
      const readies = await Promise.all(clients.map((c) => c.next("ready", 120_000)));
      clients[1]!.send({ type: "join", url: readies[0]!.url! });
      await Promise.all(clients.map((c) => c.next("joined", 120_000)));

      const at = wallClock() + 1500;
      clients.forEach((c, i) => c.send({ type: "start", at, seconds: options.seconds, rate: options.rate, seed: 7 + i }));
      const pings: { at: number; ms: number }[] = [];
      let typing = true;
      const pinger = (async () => {
        while (typing) {
          const t = wallClock();
          pings.push({ at: t, ms: await ping(relay.port) });
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await new Promise((r) => setTimeout(r, at + 3000 - wallClock()));
      const opener = spawn(process.execPath, ["--import", "tsx", OPENER, relay.url, token, long.url], { stdio: ["ignore", "pipe", "pipe"] });
      children.add(opener);
      let out = "";
      let err = "";
      opener.stdout.on("data", (c: Buffer) => (out += c.toString()));
      opener.stderr.on("data", (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => opener.once("exit", resolve));
      children.delete(opener);
      if (code !== 0) throw new Error(`the opener failed (${code}):\n${err}`);
      const opened = JSON.parse(out.trim().split("\n").at(-1)!) as { start: number; end: number; words: number; stallMs: number };

      const typed = await Promise.all(clients.map((c) => c.next("typed", options.seconds * 1000 + 60_000)));
      typing = false;
      await pinger;
      clients.forEach((c) => c.send({ type: "expect", finals: Object.fromEntries(clients.map((x, i) => [x.typist, typed[i]!.last])) }));
      await Promise.all(clients.map((c) => c.next("caught-up", 10_000).catch(() => undefined)));
      clients.forEach((c) => c.send({ type: "finish" }));
      const reports = (await Promise.all(clients.map((c) => c.next("report", 30_000)))).map((m) => m.report);
      const run = split(reports, opened.start, opened.end);
      const healthz = (from: number, to: number) => Math.max(0, ...pings.filter((p) => p.at >= from && p.at <= to).map((p) => p.ms));
      return { ...run, openMs: opened.end - opened.start, openerStallMs: opened.stallMs, healthzQuiet: healthz(0, opened.start), healthzDuring: healthz(opened.start, opened.end) };
    } finally {
      await Promise.all(clients.map((c) => stopChild(c.child, "SIGTERM", 2000, 8000)));
      await stopChild(relay.child, "SIGTERM", 5000);
      const warnings = relay.output().split("\n").filter((l) => l.includes('"level":50') || l.includes('"level":60'));
      if (warnings.length > 0) console.error(`relay errors:\n${warnings.join("\n")}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Keystroke (sender's renderer) to the other writer's renderer, by when it was sent. */
function split(reports: ClientReport[], openStart: number, openEnd: number): { quiet: number[]; during: number[]; lost: number } {
  const quiet: number[] = [];
  const during: number[] = [];
  let lost = 0;
  for (const sender of reports) {
    for (const receiver of reports) {
      if (receiver === sender) continue;
      const arrivals = receiver.rendererArrival[sender.typist] ?? [];
      sender.sent.forEach((sent, i) => {
        const arrived = arrivals[i];
        if (arrived === null || arrived === undefined) {
          lost++;
          return;
        }
        // Typed while the long document was being opened (or before, but arrived after it began).
        if (sent < openStart) (arrived < openStart ? quiet : during).push(arrived - sent);
        else if (sent <= openEnd) during.push(arrived - sent);
      });
    }
  }
  return { quiet, during, lost };
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (n: number) => (Number.isNaN(n) ? "–" : `${n < 100 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US")} ms`);

console.log(`# Two writers on a small document while another desktop opens a long one (${options.rate} keystrokes/s each, ${os.cpus().length} cores)\n`);
console.log("| long document | relay | open | keystrokes during the open | p50 / p99 / max quiet | p50 / p99 / max during the open | p99 during / quiet | /healthz slowest quiet / during | opening host's longest stall | verdict |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const [docName, file] of docs) {
  for (const setup of setups) {
    for (let round = 0; round < options.rounds; round++) {
      const r = await measure(file, setup.workers);
      const ratio = pct(r.during, 99) / pct(r.quiet, 99);
      const verdict = r.lost > 0 ? `LOST ${r.lost}` : ratio <= 2 ? "ok (≤ 2x)" : "FAIL (> 2x)";
      console.log(
        `| ${docName} | ${setup.name} | ${ms(r.openMs)} | ${r.during.length} | ${ms(pct(r.quiet, 50))} / ${ms(pct(r.quiet, 99))} / ${ms(Math.max(...r.quiet))} | ` +
          `${ms(pct(r.during, 50))} / ${ms(pct(r.during, 99))} / ${ms(Math.max(...r.during))} | ${ratio.toFixed(2)} | ${ms(r.healthzQuiet)} / ${ms(r.healthzDuring)} | ${ms(r.openerStallMs)} | ${verdict} |`,
      );
    }
  }
}
