/**
 * A real PostgreSQL server for the tests that need one, started by the test itself: a
 * fresh cluster (initdb) in a temp directory, on a free loopback port, stopped after the
 * test file. Nothing depends on a system service being set up; what the machine must
 * have is Debian's `postgresql` package (`.ci/run` installs it), and the message says so
 * when it has not.
 *
 * PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user
 * the package creates, and its programs run as that user.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./ports";
import { eventually } from "./wait";
import { afterEveryFile } from "./fileEnd";

export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  url: string;
  port: number;
  /** A URL for a fresh database of its own (for tests that must not see each other's rows). */
  database(): Promise<string>;
  /** Stops the server cleanly (pg_ctl stop -m fast). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** SIGKILL to the postmaster: a crash. */
  kill(): Promise<void>;
}

/** Where Debian puts the server's programs (`/usr/lib/postgresql/<major>/bin`), newest major first. */
export function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return undefined;
  const majors = fs.readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = path.join(root, major, "bin");
    if (fs.existsSync(path.join(bin, "initdb"))) return bin;
  }
  return undefined;
}

const started: (() => void)[] = [];
// In a test file, stopped after it; in a benchmark (no vitest), when the process exits.
afterEveryFile(() => {
  for (const stop of started.splice(0)) stop();
});
process.once("exit", () => {
  for (const stop of started.splice(0)) stop();
});

/** Starts a fresh PostgreSQL cluster for this test file. */
export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error("PostgreSQL's server is not installed: apt-get install postgresql (Debian's package; .ci/run installs it)");
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-pg-"));
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, "data");
  if (asRoot) execFileSync("chown", ["postgres:postgres", dir]);
  // runuser rather than su: no PAM session, no login shell, arguments passed as they are.
  const command = (program: string, args: string[]): [string, string[]] => (asRoot ? ["runuser", ["-u", "postgres", "--", path.join(bin, program), ...args]] : [path.join(bin, program), args]);
  const run = (program: string, args: string[]) => {
    const [file, argv] = command(program, args);
    execFileSync(file, argv, { stdio: "pipe" });
  };
  // fsync stays on (the default): the storage's durability is what some tests are about.
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-instructions", "-E", "UTF8"]);
  const port = await freePort();
  let server: ChildProcess | undefined;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = async () => {
    const [file, argv] = command("postgres", ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"]);
    const child = spawn(file, argv, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    server = child;
    await eventually(
      () => {
        if (child.exitCode !== null) throw new Error(`PostgreSQL exited (${child.exitCode}):\n${log}`);
        try {
          run("pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-q"]);
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      100,
    );
  };
  const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve())));
  // As root the child is runuser, which waits for the server: signals go to the
  // postmaster itself, whose PID is the first line of postmaster.pid.
  const postmaster = () => Number(fs.readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  const signal = (child: ChildProcess, name: NodeJS.Signals) => {
    try {
      process.kill(postmaster(), name);
    } catch {
      child.kill(name);
    }
  };
  await start();
  const forget = () => {
    if (server) signal(server, "SIGKILL");
    if (!process.env.KEEP_TEST_DIRS) fs.rmSync(dir, { recursive: true, force: true });
  };
  started.push(forget);
  let databases = 0;
  return {
    url,
    port,
    async database() {
      const name = `test_${process.pid}_${databases++}`;
      run("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-q", "-c", `CREATE DATABASE ${name}`]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (!server) return;
      const child = server;
      // SIGINT is PostgreSQL's "fast" shutdown: sessions end, everything committed stays.
      signal(child, "SIGINT");
      await exited(child);
      server = undefined;
    },
    start,
    async kill() {
      if (!server) return;
      const child = server;
      const pid = postmaster();
      signal(child, "SIGKILL");
      await exited(child);
      // Its backends notice the postmaster is gone and exit; a new one waits for them.
      await eventually(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 10_000, 50);
      server = undefined;
    },
  };
}
