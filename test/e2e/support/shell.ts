/**
 * Starts the browser shell (`npm run web`'s program) as a real child process, the way a
 * writer starts it, on a fixed port and token so that a test can restart or kill it and
 * keep its page.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
export { freePort } from "../../support/ports";
import { programArgs } from "../../support/programs";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface ShellOptions {
  dataDir: string;
  port: number;
  token: string;
}

export class ShellProcess {
  readonly url: string;
  readonly origin: string;
  readonly output: string[] = [];
  #child: ChildProcess;
  #exited: Promise<number | null>;

  private constructor(child: ChildProcess, opts: ShellOptions) {
    this.#child = child;
    this.origin = `http://127.0.0.1:${opts.port}`;
    this.url = `${this.origin}/?token=${opts.token}`;
    this.#exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  /** Spawns the shell and resolves once it printed its URL (it is serving then). */
  static async start(opts: ShellOptions, timeoutMs = 30_000): Promise<ShellProcess> {
    const args = [...programArgs("web"), "--data", opts.dataDir, "--port", String(opts.port), "--renderer", path.join(projectRoot, "out", "renderer")];
    const child = spawn(process.execPath, args, {
      cwd: projectRoot,
      env: {
        ...process.env,
        WRITER_WEB_TOKEN: opts.token,
        WRITER_LOG_LEVEL: process.env.WRITER_LOG_LEVEL ?? "warn",
        // Every transaction is checked against the document, and a drift fails the test (integrity.ts).
        WRITER_INTEGRITY_CHECKS: "strict",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const shell = new ShellProcess(child, opts);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`shell did not start in ${timeoutMs} ms:\n${shell.output.join("")}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        shell.output.push(chunk.toString());
        if (shell.output.join("").includes("Writer is running. Open ")) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", (c: Buffer) => shell.output.push(c.toString()));
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`shell exited with ${code} before it was ready:\n${shell.output.join("")}`));
      });
    });
    return shell;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Asks the shell to quit (SIGTERM: flush, close) and waits for its exit code. */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#child.exitCode;
    this.#child.kill("SIGTERM");
    return this.#exited;
  }

  /** Kills the shell the hard way: no flush, no goodbye. */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill("SIGKILL");
    await this.#exited;
  }
}

export function randomToken(): string {
  return randomBytes(18).toString("base64url");
}

