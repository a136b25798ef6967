/**
 * Builds the plain-ProseMirror baseline (bench/typing/baseline) with Vite and serves it,
 * with the text as /text.txt, on 127.0.0.1.
 */
import http from "node:http";
import fs from "node:fs/promises";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const baselineRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), "baseline");

/** Bundles the baseline into `outDir`, not minified, like Writer's renderer (electron-vite's default). */
export async function buildBaseline(outDir: string): Promise<void> {
  await build({
    configFile: false,
    envDir: false,
    root: baselineRoot,
    base: "./",
    logLevel: "warn",
    build: { outDir, emptyOutDir: true, minify: false, reportCompressedSize: false, chunkSizeWarningLimit: 8192 },
  });
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/** Serves `dir` and `text` (as /text.txt) without caching, like the browser shell. */
export async function serveBaseline(dir: string, text: string): Promise<StaticServer> {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    void (async () => {
      const pathname = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
      let body: string | Buffer;
      let file = pathname === "/" ? "index.html" : decodeURIComponent(pathname).replace(/^\/+/, "");
      if (file === "text.txt") {
        body = text;
      } else {
        file = path.resolve(root, file);
        if (!file.startsWith(root + path.sep)) return end(res, 404, "Not found");
        try {
          body = await fs.readFile(file);
        } catch {
          return end(res, 404, "Not found");
        }
      }
      res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
      res.end(body);
    })().catch(() => end(res, 500, "Internal error"));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function end(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(message);
}
