/**
 * The desktop app itself (npm run test:electron, where an Electron binary exists): the
 * built app launched by Playwright's Electron support, driven through the browser tests'
 * page objects. A document typed in is on disk after the app quits and comes back in the
 * next launch; the page is app://writer/ with the CSP header in force.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { _electron as electron, type ElectronApplication } from "playwright-core";
import { LibraryPage } from "../e2e/pages/LibraryPage";
import { EditorPage } from "../e2e/pages/EditorPage";
import { projectRoot } from "../e2e/support/shell";

const binary = process.env.WRITER_ELECTRON_BINARY;
let running: ElectronApplication | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await running?.close().catch(() => undefined);
  running = undefined;
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function launch(userData: string): Promise<{ app: ElectronApplication; library: LibraryPage }> {
  running = await electron.launch({ executablePath: binary, args: [projectRoot, `--user-data-dir=${userData}`], cwd: projectRoot });
  const page = await running.firstWindow();
  const library = new LibraryPage(page);
  await library.sidebar.waitFor();
  return { app: running, library };
}

describe.skipIf(!binary)("the desktop app", () => {
  it("keeps what was typed across a quit and a new launch, from app://writer/", async () => {
    const userData = await fs.mkdtemp(path.join(os.tmpdir(), "writer-electron-"));
    dirs.push(userData);
    const first = await launch(userData);
    expect(first.library.page.url()).toBe("app://writer/index.html");
    const editor = await first.library.newDocument();
    await editor.setTitle("Harbour log");
    await editor.text.focus();
    await editor.type("The tide came in at six.");
    await expect.poll(() => editor.saveState(), { timeout: 10_000 }).toBe("Saved on this computer");
    // Inline script is refused by the CSP header.
    expect(await first.library.page.evaluate(() => { try { return eval("1"); } catch { return "refused"; } })).toBe("refused");
    await first.app.close();
    running = undefined;

    const second = await launch(userData);
    const reopened = new EditorPage(second.library.page);
    await reopened.waitReady();
    expect(await reopened.ownText()).toBe("The tide came in at six.");
  });
});
