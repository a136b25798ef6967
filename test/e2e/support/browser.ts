/**
 * Launches the system's Chromium through playwright-core. No browser is ever
 * downloaded: tests use /usr/bin/chromium (Debian's package) or CHROMIUM_PATH.
 */
import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

export async function launchChromium(options: { colorScheme?: "light" | "dark" } = {}): Promise<Browser> {
  if (!fs.existsSync(chromiumPath)) {
    // Never skip silently: a missing browser is a broken setup, not a passing test.
    throw new Error(`No Chromium at ${chromiumPath}. Install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH.`);
  }
  void options;
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}
