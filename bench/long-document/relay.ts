/**
 * How long a relay cannot answer anyone while a client opens a long document on it
 * (issue 6: "nobody waits for someone else's big document"). For each of the two
 * documents bench/long-document/run.ts saved (grouped per burst, one change per
 * keystroke): the document is put in a fresh relay's storage, the relay is started
 * (its own process), and a desktop host opens the document through it while this
 * process asks the relay's /healthz every 5 ms. The slowest answers are how long
 * every other writer on that relay waited.
 *
 *   tsx bench/long-document/relay.ts      (after `npm run bench:long-document`)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import http from "node:http";
import pino from "pino";
import { Repo, type AutomergeUrl } from "@automerge/automerge-repo";
import { Host } from "../../src/host/Host";
import { FileStorageAdapter } from "../../src/node/storage";
import type { WriterDocument } from "../../src/shared/document";
import { execFileSync, spawn } from "node:child_process";

const CLI = path.join(import.meta.dirname, "../../sync-server/cli.ts");

/** The relay's CLI adds a token, as an operator would. */
function addToken(dataDir: string): string {
  const out = execFileSync(process.execPath, ["--import", "tsx", CLI, "token", "add", "bench", "--data", dataDir], { encoding: "utf8" });
  const token = out.split(/\s+/).find((w) => /^[A-Za-z0-9_-]{43}$/.test(w));
  if (!token) throw new Error(`no token in: ${out}`);
  return token;
}

/** A relay process on a free port; resolves once it listens. */
async function startRelay(dataDir: string): Promise<{ url: string; port: number; kill: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0", "--host", "127.0.0.1", "--data", dataDir], { env: { ...process.env, RELAY_LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (ws:\/\/[^\s"',]+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`relay exited with ${code}:\n${output}`)));
  });
  return { url, port: Number(new URL(url).port), kill: () => child.kill("SIGKILL") };
}

const results = path.join(import.meta.dirname, "results");
const docs = [
  ["Writer, grouped per burst", path.join(results, "grouped.automerge")],
  ["one change per keystroke", path.join(results, "per-keystroke.automerge")],
] as const;
for (const [, file] of docs) if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run bench:long-document first`);

/** One GET, timed; a refused or failed request counts as the time it took to fail. */
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

async function measure(file: string): Promise<{ openMs: number; worst: number; p99: number; samples: number; quiet: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-long-relay-"));
  const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-long-host-"));
  try {
    // The document in the relay's storage, as if a writer had synced it there months ago.
    const storage = await FileStorageAdapter.open(path.join(dataDir, "documents"));
    const repo = new Repo({ storage, network: [] });
    const handle = repo.import<WriterDocument>(fs.readFileSync(file));
    await repo.flush();
    await repo.shutdown();
    await storage.close();
    const token = addToken(dataDir);
    const relay = await startRelay(dataDir);
    const host = await Host.open({ dataDir: hostDir, logger: pino({ level: "silent" }) });
    try {
      const added = await host.handle({ method: "addRelay", name: "Bench", url: relay.url, token });
      if (!added.ok) throw new Error(added.error.message);
      // The relay is answering quickly before anyone opens the long document.
      const before: number[] = [];
      for (let i = 0; i < 50; i++) before.push(await ping(relay.port));
      const latencies: number[] = [];
      let opening = true;
      const pinger = (async () => {
        while (opening) {
          latencies.push(await ping(relay.port));
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const start = performance.now();
      const opened = await host.handle({ method: "openSharedDocument", url: handle.url });
      if (!opened.ok) throw new Error(opened.error.message);
      const doc = await host.repo.find<WriterDocument>(handle.url as AutomergeUrl);
      if (typeof doc.doc().text !== "string") throw new Error("the document did not arrive");
      const openMs = performance.now() - start;
      opening = false;
      await pinger;
      const sorted = [...latencies].sort((a, b) => a - b);
      return { openMs, worst: sorted.at(-1) ?? 0, p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0, samples: sorted.length, quiet: Math.max(...before) };
    } finally {
      await host.close();
      relay.kill();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(hostDir, { recursive: true, force: true });
  }
}

console.log("# A relay while a desktop opens a long document through it (relay /healthz every 5 ms)\n");
console.log("| document on the relay | open through the relay | relay's slowest answer meanwhile | p99 answer | answers | slowest answer before |");
console.log("|---|---|---|---|---|---|");
for (const [name, file] of docs) {
  const r = await measure(file);
  const ms = (n: number) => `${Math.round(n).toLocaleString("en-US")} ms`;
  console.log(`| ${name} | ${ms(r.openMs)} | ${ms(r.worst)} | ${ms(r.p99)} | ${r.samples} | ${ms(r.quiet)} |`);
}
