// A propagation client process (client.ts) driven over Node's IPC channel, and the
// bookkeeping that kills every child on the way out: shared by run.ts and
// bench/long-document/relay.ts.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FromClient, ToClient } from "./protocol";

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, "../..");

/** Every child process started; the caller kills what is left on any way out. */
export const children = new Set<ChildProcess>();

/** Waits up to `waitMs` for the child to exit by itself, then sends `signal`, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number, waitMs = 0): Promise<void> {
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  if (gone()) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
  clearTimeout(timer);
  if (gone()) return;
  child.kill(signal);
  timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export class ClientProcess {
  readonly child: ChildProcess;
  readonly typist: string;
  readonly #waiters: { type: FromClient["type"]; resolve: (m: FromClient) => void }[] = [];
  readonly #inbox: FromClient[] = [];
  readonly stderr: string[] = [];
  failure: Error | undefined;

  constructor(typist: string, nodeArgs: string[]) {
    this.typist = typist;
    // BENCH_PROFILE=t1: client t1 writes a CPU profile of its typing window to results/.
    this.child = fork(path.join(here, "client.ts"), [], {
      cwd: projectRoot,
      execArgv: ["--import", "tsx", ...nodeArgs],
      env: { ...process.env, BENCH_PROFILE_DIR: path.join(here, "results") },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    children.add(this.child);
    this.child.once("exit", (code, signal) => {
      children.delete(this.child);
      if (code !== 0 && !this.failure) this.failure = new Error(`client ${typist} exited (${code ?? signal}):\n${this.stderr.join("").slice(-2000)}`);
    });
    this.child.stderr!.on("data", (c: Buffer) => {
      this.stderr.push(c.toString());
      if (this.stderr.length > 200) this.stderr.shift();
    });
    this.child.on("message", (m: FromClient) => {
      if (m.type === "error") {
        this.failure = new Error(`client ${typist} failed: ${m.message}`);
        return;
      }
      const i = this.#waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
      else this.#inbox.push(m);
    });
  }

  send(message: ToClient): void {
    this.child.send(message);
  }

  /** The next message of that type, or rejects once the client failed or the time is up. */
  next<T extends FromClient["type"]>(type: T, timeoutMs: number): Promise<Extract<FromClient, { type: T }>> {
    const i = this.#inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.#inbox.splice(i, 1)[0] as Extract<FromClient, { type: T }>);
    return new Promise((resolve, reject) => {
      const waiter = { type, resolve: (m: FromClient) => finish(() => resolve(m as Extract<FromClient, { type: T }>)) };
      const poll = setInterval(() => {
        if (this.failure) finish(() => reject(this.failure!));
      }, 50);
      const timer = setTimeout(() => finish(() => reject(new Error(`client ${this.typist}: no "${type}" within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs);
      const finish = (then: () => void) => {
        clearInterval(poll);
        clearTimeout(timer);
        const j = this.#waiters.indexOf(waiter);
        if (j >= 0) this.#waiters.splice(j, 1);
        then();
      };
      this.#waiters.push(waiter);
    });
  }
}

