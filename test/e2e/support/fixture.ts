import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterEach, expect } from "vitest";
import { launchChromium } from "./browser";
import { freePort, randomToken, ShellProcess } from "./shell";
import { LibraryPage } from "../pages/LibraryPage";
import { walledDataDir, type WalledDataDir } from "../../support/dataDir";

/**
 * One writer's setup: a data directory, the browser shell on a fixed port and token
 * (so it can be killed and restarted under the same page), and a Chromium page.
 */
export class WriterFixture {
  shell!: ShellProcess;
  browser!: Browser;
  context!: BrowserContext;
  page!: Page;
  library!: LibraryPage;
  readonly errors: string[] = [];
  private ownsBrowser = true;

  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly token: string,
    /** Set when the data directory is walled in (see walledDataDir), for checks outside it. */
    readonly walled?: WalledDataDir,
  ) {}

  /**
   * `walled`: the data directory six levels down a temp directory of its own. `browser`:
   * one Chromium shared with the file's other writers (each has its own context, so
   * nothing but the process is shared); without it the fixture launches and owns one.
   */
  static async create(options: { walled?: boolean; browser?: () => Promise<Browser> } = {}): Promise<WriterFixture> {
    const walled = options.walled ? walledDataDir("writer-e2e-") : undefined;
    const dataDir = walled?.dataDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), "writer-e2e-")));
    const f = new WriterFixture(dataDir, await freePort(), randomToken(), walled);
    try {
      f.shell = await ShellProcess.start({ dataDir, port: f.port, token: f.token });
      f.ownsBrowser = !options.browser;
      f.browser = await (options.browser ?? launchChromium)();
      await f.newPage();
    } catch (error) {
      await f.dispose();
      throw error;
    }
    return f;
  }

  /** A fresh browser context and page signed in to the shell. */
  async newPage(): Promise<LibraryPage> {
    await this.context?.close();
    this.context = await this.browser.newContext({ viewport: { width: 1280, height: 820 } });
    this.page = await this.context.newPage();
    this.page.on("pageerror", (e) => this.errors.push(e.message));
    this.library = new LibraryPage(this.page);
    await this.library.goto(this.shell.url);
    return this.library;
  }

  async restartShell(how: "stop" | "kill"): Promise<number | null> {
    const code = how === "stop" ? await this.shell.stop() : (await this.shell.kill(), null);
    this.shell = await ShellProcess.start({ dataDir: this.dataDir, port: this.port, token: this.token });
    return code;
  }

  async dispose(): Promise<void> {
    if (this.ownsBrowser) await this.browser?.close().catch(() => undefined);
    else await this.context?.close().catch(() => undefined);
    await this.shell?.kill().catch(() => undefined);
    await fs.rm(this.walled?.root ?? this.dataDir, { recursive: true, force: true });
  }
}

/**
 * One Chromium for every test file of the process (vitest.config.ts runs a project's
 * files one after another in one process): a launch and a close cost about 0.75 s of
 * processor time, once per file before. Each writer has its own context, so nothing but
 * the process is shared; launched again if it went away. It ends with the process:
 * Playwright closes it as the process exits, and Chromium ends itself when the pipe it
 * is driven through closes, however the process ended.
 */
let sharedBrowser: Promise<Browser> | undefined;
let launchedBrowser: Browser | undefined;
function sharedChromium(): Promise<Browser> {
  // Decided without waiting, so that writers created together share one launch.
  if (!sharedBrowser || (launchedBrowser && !launchedBrowser.isConnected())) {
    launchedBrowser = undefined;
    const launching = launchChromium().then((b) => (launchedBrowser = b));
    // A launch that failed is tried again by the next writer, not handed to every one.
    launching.catch(() => {
      if (sharedBrowser === launching) sharedBrowser = undefined;
    });
    sharedBrowser = launching;
  }
  return sharedBrowser;
}

/**
 * Gives each test a way to create writers, and disposes of them after it (first, so
 * that a failed check never leaves a host or a browser running), then checks that no
 * page threw.
 */
export function useWriterFixtures(): (options?: { walled?: boolean }) => Promise<WriterFixture> {
  let created: WriterFixture[] = [];
  afterEach(async () => {
    const fixtures = created;
    created = [];
    const errors = fixtures.flatMap((f) => f.errors);
    for (const f of fixtures) await f.dispose();
    expect(errors).toEqual([]);
  });
  return async (options) => {
    const f = await WriterFixture.create({ ...options, browser: sharedChromium });
    created.push(f);
    return f;
  };
}
