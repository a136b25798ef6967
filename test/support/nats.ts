/**
 * A real NATS server for the relay cluster's tests, started by the test itself on a free
 * loopback port from Debian's `nats-server` package (`.ci/run` installs it), stopped
 * after the test file.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { freePort, isListening } from "./ports";
import { eventually } from "./wait";
import { afterEveryFile } from "./fileEnd";

export interface RunningNats {
  /** `nats://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** SIGTERM, and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

const started: ChildProcess[] = [];
// In a test file, stopped after it; in a benchmark (no vitest), when the process exits.
afterEveryFile(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
});
process.once("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

function natsServer(): string {
  for (const candidate of ["/usr/sbin/nats-server", "/usr/bin/nats-server"]) {
    try {
      execFileSync(candidate, ["--version"], { stdio: "pipe" });
      return candidate;
    } catch {
      // Not there.
    }
  }
  throw new Error("nats-server is not installed: apt-get install nats-server (Debian's package; .ci/run installs it)");
}

/** Starts a NATS server (core NATS is all the relays use) for this test file. */
export async function startNats(): Promise<RunningNats> {
  const program = natsServer();
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const next = spawn(program, ["-a", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    next.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    started.push(next);
    child = next;
    await eventually(
      async () => {
        if (next.exitCode !== null) throw new Error(`nats-server exited (${next.exitCode}):\n${log}`);
        return isListening(port);
      },
      15_000,
      50,
    );
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      const current = child;
      if (!current || current.exitCode !== null) return;
      const exited = new Promise((resolve) => current.once("exit", resolve));
      current.kill("SIGTERM");
      await exited;
      child = undefined;
    },
    start,
  };
}
