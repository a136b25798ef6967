/**
 * Who may call the host over IPC: only Writer's own page, in the window's top frame.
 * Kept apart from index.ts (no Electron import) so that it is unit-tested without Electron.
 */

/** The little of Electron's WebFrameMain this needs. */
export interface SenderFrame {
  url: string;
  /** null for a window's top frame. */
  parent: unknown;
}

/**
 * True when `frame` is the top frame showing the renderer at `rendererUrl`: the same
 * file (any hash or query) for a file:// page, the same scheme and host for the app's own
 * app:// page, the same origin for the dev server.
 * A prefix test is not enough: `file://` matches every file on the disk, and
 * `http://localhost:5173` matches `http://localhost:5173.evil.example`.
 */
export function isOwnRendererFrame(frame: SenderFrame | null | undefined, rendererUrl: string): boolean {
  if (!frame || frame.parent !== null) return false;
  let actual: URL;
  let expected: URL;
  try {
    actual = new URL(frame.url);
    expected = new URL(rendererUrl);
  } catch {
    return false;
  }
  if (expected.protocol === "file:") return actual.protocol === "file:" && actual.host === expected.host && actual.pathname === expected.pathname;
  // A scheme of the app's own (app://writer/): the URL parser gives such URLs the opaque
  // origin "null", which every other such URL shares; the scheme and host must match.
  if (expected.origin === "null") return actual.protocol === expected.protocol && actual.host === expected.host && actual.host !== "";
  return actual.origin === expected.origin;
}
