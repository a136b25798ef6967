// The real relay (sync-server/cli.ts) in a process of its own, for the benchmarks, with a
// token added through its CLI as an operator would.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const CLI = path.join(import.meta.dirname, "../../sync-server/cli.ts");

export interface RelayProcess {
  child: ChildProcess;
  url: string;
  token: string;
  /** Values of the relay's /metrics (summed over labels); NaN where absent. */
  metrics(...names: string[]): Promise<number[]>;
  /** Stops it (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** Starts a relay on a free port of 127.0.0.1 over `dataDir`, with one token. */
export async function startRelay(dataDir: string, extraArgs: string[] = []): Promise<RelayProcess> {
  const out = execFileSync(process.execPath, ["--import", "tsx", CLI, "token", "add", "bench", "--data", dataDir], { encoding: "utf8" });
  const token = out.split(/\s+/).find((w) => /^[A-Za-z0-9_-]{43}$/.test(w));
  if (!token) throw new Error(`no token in: ${out}`);
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0", "--host", "127.0.0.1", "--data", dataDir, ...extraArgs], {
    // "info": the line that says where it listens is an info line.
    env: { ...process.env, RELAY_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
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
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`relay exited with ${code}:\n${output}`)));
  });
  // Keep draining its output, or it blocks once the pipe is full.
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  child.stdout!.resume();
  child.stderr!.resume();
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  const metrics = async (...names: string[]) => {
    const text = await (await fetch(`${url.replace(/^ws:/, "http:")}/metrics`)).text();
    return names.map((name) => {
      const lines = text.split("\n").filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return lines.length ? lines.reduce((sum, l) => sum + Number(l.split(" ").pop()), 0) : Number.NaN;
    });
  };
  return { child, url, token, metrics, stop };
}
