/**
 * The window's options: the page is sandboxed, isolated from the preload, without Node,
 * with web security on. A plain function so that a test fails if anyone loosens it
 * (test/unit/main/window.test.ts).
 */
import type { BrowserWindowConstructorOptions, Rectangle } from "electron";
import { safeHref } from "../shared/links";

/**
 * Navigation: the page never navigates (a link clicked in the text would replace the
 * app), and never opens a window of its own; a link the writer opens (Ctrl+click) goes to
 * the system's browser, if it is a safe one (http, https, mailto), and nothing else does.
 */
export function linkToOpenOutside(url: string): string | null {
  const href = safeHref(url);
  return href && !href.startsWith("#") ? href : null;
}

export function windowOptions(preload: string, bounds: Partial<Rectangle>): BrowserWindowConstructorOptions {
  return {
    ...bounds,
    minWidth: 640,
    minHeight: 420,
    show: false,
    title: "Writer",
    backgroundColor: "#00000000",
    webPreferences: {
      preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: true,
    },
  };
}
