/**
 * Launches the system's Chromium through playwright-core. No browser is ever
 * downloaded: Debian's packages, or CHROMIUM_PATH.
 *
 * The tests prefer Debian's `chromium-headless-shell`: the same Chromium release as the
 * `chromium` package, built as the headless shell that Playwright itself runs headless
 * tests in. A window there costs a third of the processor time it costs in the full
 * browser run headless (1.55 s against 4.3 s to open a document in a fresh context,
 * measured on this project's two-core machine; 0.2 s against 2.3 s for an empty one),
 * and the suite opens hundreds. Without it, the tests use `chromium`. The benchmarks
 * measure what a writer's browser does, so they keep the full browser (`chromiumPath`).
 */
import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { testV8Flags } from "../../support/programs";

export const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const HEADLESS_SHELL = "/usr/bin/chromium-headless-shell";
/** The browser the tests drive: CHROMIUM_PATH, else the headless shell where installed, else `chromium`. */
export const testChromiumPath = process.env.CHROMIUM_PATH || (fs.existsSync(HEADLESS_SHELL) ? HEADLESS_SHELL : chromiumPath);

export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

/** `browser: "full"`: the full Chromium (benchmarks); by default the tests' browser (`testChromiumPath`). */
export async function launchChromium(options: { browser?: "full" | "test" } = {}): Promise<Browser> {
  const executablePath = options.browser === "full" ? chromiumPath : testChromiumPath;
  if (!fs.existsSync(executablePath)) {
    // Never skip silently: a missing browser is a broken setup, not a passing test.
    throw new Error(`No Chromium at ${executablePath}. Install it (Debian/Ubuntu: apt-get install chromium chromium-headless-shell) or set CHROMIUM_PATH.`);
  }
  // The tests' browser compiles the app's Automerge as the test run's processes do (testV8Flags).
  const flags = options.browser === "full" ? [] : testV8Flags();
  const args = flags.length > 0 ? [...chromiumArgs, `--js-flags=${flags.join(" ")}`] : chromiumArgs;
  return chromium.launch({ executablePath, args, headless: true });
}
