import { afterEach } from "vitest";
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { SyncStatus } from "../../src/shared/api";
import type { Edit, HostCommand, Inspection, PlainSpan, RichEdit } from "./host-child";
import { PROJECT_ROOT, tempDir } from "./relay";
import { projectRootFor } from "./asUser";
import { programArgs, programFile } from "./programs";

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Without<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * How to start a host: on `dataDir` (a new temp directory if omitted); `env` is added
 * to the child's environment (e.g. LD_PRELOAD and FAKETIME for a skewed clock);
 * `uid`/`gid` run it as another user (a root test runner never meets "permission denied").
 */
export interface HostStartOptions {
  dataDir?: string;
  name?: string;
  env?: Record<string, string>;
  uid?: number;
  gid?: number;
  /**
   * A module of extra commands the child loads (see HostExtension in host-child.ts),
   * called with `ext()`: "hostCommands" for test/faults/support/hostCommands.ts (bundled
   * with the host child when the run bundles programs), or a path.
   */
  extension?: "hostCommands" | string;
  /** A host that computes for long (a trace replay): keeps V8's optimising compiler (programs.ts). */
  longRunning?: boolean;
}

/** A host process (see host-child.ts) and the calls a test makes into it. */
export class HostProcess {
  readonly dataDir: string;
  readonly output: string[] = [];
  #child: ChildProcess;
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<number | null>;
  #killed = false;

  private constructor(child: ChildProcess, dataDir: string) {
    this.#child = child;
    this.dataDir = dataDir;
    this.#exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    child.on("message", (m: { id?: number; ok?: boolean; value?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(new Error(m.error));
    });
    child.once("exit", () => {
      for (const p of this.#pending.values()) p.reject(new Error(`host exited:\n${this.output.join("")}`));
      this.#pending.clear();
    });
  }

  /** Starts a host and resolves once it serves calls. */
  static async start(options: HostStartOptions = {}): Promise<HostProcess> {
    const { host, ready } = HostProcess.launch(options);
    await ready;
    return host;
  }

  /**
   * Starts a host without waiting for it: `ready` resolves once it serves calls (and
   * rejects if it exits first). For killing a host while it is still opening its data.
   */
  static launch(options: HostStartOptions = {}): { host: HostProcess; ready: Promise<void> } {
    const dataDir = options.dataDir ?? tempDir("host-test-");
    // Another user may not reach this checkout where it sits: it gets one it can reach.
    const root = options.uid === undefined ? PROJECT_ROOT : projectRootFor(options.uid, options.gid ?? options.uid);
    const inRoot = (file: string) => (file.startsWith(PROJECT_ROOT + path.sep) ? path.join(root, path.relative(PROJECT_ROOT, file)) : file);
    // fork() takes the program apart from node's own arguments (tsx's loader, if any).
    const args = programArgs("hostChild", { longRunning: options.longRunning }).map(inRoot);
    const program = args.at(-1)!;
    const extension = options.extension === undefined ? undefined : options.extension === "hostCommands" ? inRoot(programFile("hostCommands").file) : options.extension;
    const child = fork(program, [dataDir, options.name ?? "writer"], {
      cwd: root,
      execArgv: args.slice(0, -1),
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, ...options.env, ...(extension ? { HOST_CHILD_EXTENSION: extension } : {}) },
      uid: options.uid,
      gid: options.gid,
    });
    const host = new HostProcess(child, dataDir);
    child.stdout!.on("data", (c: Buffer) => host.output.push(c.toString()));
    child.stderr!.on("data", (c: Buffer) => host.output.push(c.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`host did not start:\n${host.output.join("")}`)), 30_000);
      child.on("message", (m: { ready?: boolean }) => {
        if (m.ready) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`host exited with ${code ?? signal}:\n${host.output.join("")}`));
      });
    });
    // A launch killed on purpose before it was ready is no unhandled rejection.
    ready.catch(() => undefined);
    return { host, ready };
  }

  #send<T>(command: Without<HostCommand, "id">): Promise<T> {
    const id = this.#next++;
    // Sending on a closed channel emits an error event nobody listens to: refuse instead.
    if (this.exited || !this.#child.connected) return Promise.reject(new Error(`host exited:\n${this.output.join("")}`));
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ ...command, id }, (error) => {
        if (!error) return;
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  /** A HostApi call, as the renderer makes it; throws on an error answer. */
  async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const response = await this.#send<{ ok: boolean; value?: T; error?: { code: string; message: string } }>({ cmd: "call", request: { method, ...params } });
    if (!response.ok) throw new Error(`${method}: ${response.error?.code} ${response.error?.message}`);
    return response.value as T;
  }

  /** Types `text`; `heads` are the handle's (URL form), `hashes` Automerge's change hashes (what confirmSaved takes). */
  type(url: string, text: string, at: "start" | "end" = "end"): Promise<{ heads: string[]; hashes: string[] }> {
    return this.#send({ cmd: "type", url, text, at });
  }

  /** A command of the extension module the host was started with. */
  ext<T>(name: string, args: unknown = {}): Promise<T> {
    return this.#send<T>({ cmd: "ext", name, args });
  }

  /** Applies raw rich-text edits in one change (what any Automerge peer could send). */
  edit(url: string, edits: RichEdit[]): Promise<{ heads: string[] }> {
    return this.#send({ cmd: "edit", url, edits });
  }

  /** The document's rich text as spans, its visible text and its sorted heads. */
  spans(url: string): Promise<{ spans: PlainSpan[]; text: string; heads: string[] }> {
    return this.#send({ cmd: "spans", url });
  }

  /** Comments on the first occurrence of `on` in the document's text, as this host's writer. */
  comment(url: string, on: string, text: string): Promise<{ id: string }> {
    return this.#send({ cmd: "comment", url, on, text });
  }

  /** The document's comment threads: their messages, whether resolved, and the text each is on (null: on deleted text). */
  comments(url: string): Promise<{ id: string; messages: string[]; resolved: boolean; on: string | null }[]> {
    return this.#send({ cmd: "comments", url });
  }

  read(url: string): Promise<{ text: string; heads: string[]; hashes: string[] }> {
    return this.#send({ cmd: "read", url });
  }

  /** Applies `edits`, placed by the text around them, in one change (see host-child's Edit). */
  editText(url: string, edits: Edit[]): Promise<{ heads: string[] }> {
    return this.#send({ cmd: "edit-text", url, edits });
  }

  /** The document's title, rich text spans, sorted heads and change timestamps. */
  inspect(url: string): Promise<Inspection> {
    return this.#send({ cmd: "inspect", url });
  }

  /** `Date.now()` inside the host process. */
  async clock(): Promise<number> {
    return (await this.#send<{ now: number }>({ cmd: "clock" })).now;
  }

  /** The host's process ID. */
  get pid(): number {
    return this.#child.pid!;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** Whether the test has killed it (it may not have exited yet: a call in flight fails then). */
  get killed(): boolean {
    return this.#killed || this.exited;
  }

  syncStatus(url: string | null = null): Promise<SyncStatus> {
    return this.call<SyncStatus>("syncStatus", { url });
  }

  async addRelay(name: string, url: string, token: string | null): Promise<string> {
    return (await this.call<{ id: string }>("addRelay", { name, url, token })).id;
  }

  async createDocument(title: string): Promise<string> {
    return (await this.call<{ url: string }>("createDocument", { title })).url;
  }

  /** Closes the host the way quitting the app does, and waits for the exit code. */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return this.#child.exitCode;
    await this.#send({ cmd: "close" }).catch(() => undefined);
    return this.#exited;
  }

  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#killed = true;
    this.#child.kill("SIGKILL");
    await this.#exited;
  }
}

/**
 * Host processes for one test file, SIGKILLed after each test whatever its outcome.
 * `start` takes HostProcess.start's options.
 */
export function useHosts(): { start(options?: HostStartOptions): Promise<HostProcess> } {
  const hosts: HostProcess[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.kill()));
  });
  return {
    async start(options) {
      const host = await HostProcess.start(options);
      hosts.push(host);
      return host;
    },
  };
}
