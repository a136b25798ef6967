/**
 * The page is served from app://writer/, a scheme of Writer's own, not from file://: a
 * file:// page may read any file:// URL and shares its origin with every file on the
 * disk. Every answer carries the Content-Security-Policy header (not only the page's
 * meta tag): scripts only from the app itself (no inline scripts, no eval; WebAssembly
 * for Automerge), nothing fetched from anywhere else, no frames, no plugins.
 *
 * Plain functions, tested and fuzzed without Electron (test/unit/main/appProtocol.test.ts);
 * src/main/index.ts registers the scheme and hands Electron's requests to serveAppAsset.
 */
import path from "node:path";

export const APP_SCHEME = "app";
const APP_HOST = "writer";
export const APP_ENTRY = `${APP_SCHEME}://${APP_HOST}/index.html`;

export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** The file under `root` an app:// URL names, with its type; null for anything else (other hosts, escapes, unknown types). */
export function resolveAppAsset(requestUrl: string, root: string): { file: string; type: string } | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  let relative: string;
  try {
    relative = decodeURIComponent(url.pathname);
  } catch {
    return null;
  }
  if (relative.includes("\0") || relative.includes("\\")) return null;
  const base = path.resolve(root);
  const file = path.resolve(base, `.${path.posix.normalize(`/${relative}`)}`);
  if (!file.startsWith(base + path.sep)) return null;
  const type = TYPES[path.extname(file).toLowerCase()];
  return type ? { file, type } : null;
}

/** Electron's answer to an app:// request: the file with its type and the CSP, or 404. */
export async function serveAppAsset(request: { url: string }, root: string, readFile: (file: string) => Promise<Uint8Array>): Promise<Response> {
  const asset = resolveAppAsset(request.url, root);
  const headers = { "Content-Security-Policy": APP_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache" };
  if (!asset) return new Response("Not found", { status: 404, headers: { ...headers, "Content-Type": "text/plain; charset=utf-8" } });
  try {
    return new Response(await readFile(asset.file), { status: 200, headers: { ...headers, "Content-Type": asset.type } });
  } catch {
    return new Response("Not found", { status: 404, headers: { ...headers, "Content-Type": "text/plain; charset=utf-8" } });
  }
}
