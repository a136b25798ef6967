import path from "node:path";
import type { Page } from "playwright-core";

/**
 * Saves the page as `name` in the folder WRITER_SCREENSHOTS names, so that a person can
 * look at a screen as a writer would; without it, nothing.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.WRITER_SCREENSHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, name) });
}
