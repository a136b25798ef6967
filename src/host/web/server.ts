import http from "node:http";
import fs from "node:fs/promises";
import path from "node:path";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { Host } from "../Host";
import { RendererSocketAdapter } from "./RendererSocketAdapter";
import { IMPORT_BACKUP_PATH } from "../../shared/api";

export interface WebShellOptions {
  host: Host;
  /** The built renderer (electron-vite's out/renderer). */
  rendererDir: string;
  port?: number;
  /** A fixed token (tests restart the shell and keep their page); random by default. */
  token?: string;
}

export interface WebShell {
  /** Open this URL: the page keeps its token for this tab (sessionStorage) and takes it out of the address bar. */
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_API_BODY = 64 * 1024;
/** A backup being imported (BACKUP_MAX_BYTES as base64, in JSON) has its own path and limit. */
const MAX_IMPORT_BODY = 33 * 1024 * 1024;
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".wasm": "application/wasm",
};
/** The same policy as the Electron window: no inline script, no remote anything. */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The browser shell: serves the built renderer on 127.0.0.1 and connects it to the
 * host over a loopback WebSocket. It exists because these machines cannot run
 * Electron; it must behave exactly like the desktop app, so it adds no features, only
 * transport. Everything sits behind a random token so that other local users and
 * web pages cannot reach the writer's documents.
 */
export async function startWebShell(options: WebShellOptions): Promise<WebShell> {
  const { host } = options;
  const token = options.token ?? randomBytes(24).toString("base64url");
  const rendererDir = path.resolve(options.rendererDir);
  await fs.access(path.join(rendererDir, "index.html")).catch(() => {
    throw new Error(`The renderer is not built (no ${path.join(rendererDir, "index.html")}). Run \`npm run build\` first.`);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  // The adapter's types come from its own copy of the ws typings; the object is the same class.
  host.connect(new RendererSocketAdapter(wss as unknown as ConstructorParameters<typeof RendererSocketAdapter>[0]));

  // The credential is the token itself, sent by the page from its own sessionStorage
  // (src/renderer/src/shellCredential.ts): a header on /api, the query on the sync
  // socket (which cannot carry a header). Not a cookie: a cookie for 127.0.0.1 goes to
  // every port on it, and any other local server would receive it.
  const authorised = (req: http.IncomingMessage, url: URL): boolean => {
    const header = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const given = header ?? (url.pathname === "/sync" ? url.searchParams.get("token") : null);
    return given !== null && given !== undefined && safeEqual(given, token);
  };
  let port = 0;
  /** This shell's own origins: the Host a request names and the Origin a page sends must be one of them (no DNS rebinding, no other site). */
  const ownHost = (value: string | undefined) => value === `127.0.0.1:${port}` || value === `localhost:${port}`;
  const ownOrigin = (value: string | undefined) => value !== undefined && value.startsWith("http://") && ownHost(value.slice("http://".length));

  const server = http.createServer((req, res) => {
    void route(req, res).catch((error) => {
      host.logger.error({ err: error, url: req.url }, "web shell request failed");
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "Internal error");
      else res.destroy();
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (!ownHost(req.headers.host)) return send(res, 421, "text/plain; charset=utf-8", "This is Writer's shell; it answers only as 127.0.0.1 or localhost.");
    const given = url.searchParams.get("token");
    // The opening link: its token must be right (the page keeps it; shellCredential.ts).
    if (given !== null && !safeEqual(given, token)) return send(res, 401, "text/plain; charset=utf-8", "This link is not valid any more. Open the URL that `npm run web` printed.");

    if (url.pathname === "/api" || url.pathname === IMPORT_BACKUP_PATH) {
      if (req.method !== "POST") return send(res, 405, "text/plain; charset=utf-8", "POST only");
      // Only this shell's own page: a browser always says where a POST comes from.
      if (!ownOrigin(req.headers.origin)) return send(res, 403, "text/plain; charset=utf-8", "Requests from anywhere but Writer's own page are refused.");
      if (!authorised(req, url)) return send(res, 401, "text/plain; charset=utf-8", "Not signed in. Open the URL that `npm run web` printed.");
      // Every request fits in 64 KB except a backup being imported, which comes by its
      // own path: a large body anywhere else is refused before it is read.
      const importing = url.pathname === IMPORT_BACKUP_PATH;
      const body = await readBody(req, importing ? MAX_IMPORT_BODY : MAX_API_BODY);
      if (body === null) return send(res, 413, "text/plain; charset=utf-8", "Request too large");
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        return send(res, 400, "application/json", JSON.stringify({ ok: false, error: { code: "invalid-request", message: "Body is not JSON" } }));
      }
      if (importing && (payload as { method?: unknown } | null)?.method !== "importBackup") {
        return send(res, 400, "application/json", JSON.stringify({ ok: false, error: { code: "invalid-request", message: `${IMPORT_BACKUP_PATH} takes importBackup only` } }));
      }
      return send(res, 200, "application/json", JSON.stringify(await host.handle(payload)));
    }

    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain; charset=utf-8", "Method not allowed");
    const relative = url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname).replace(/^\/+/, "");
    const file = path.resolve(rendererDir, relative);
    if (!file.startsWith(rendererDir + path.sep)) return send(res, 404, "text/plain; charset=utf-8", "Not found");
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch {
      return send(res, 404, "text/plain; charset=utf-8", "Not found");
    }
    send(res, 200, CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream", data);
  }

  server.on("upgrade", (req, socket, head) => {
    // An upgrading socket's errors are no longer the server's to handle: a page that
    // resets its refused connection would otherwise be an uncaught exception in the host.
    socket.on("error", () => undefined);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/sync" || !ownHost(req.headers.host) || !ownOrigin(req.headers.origin) || !authorised(req, url)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
  });
  res.end(body);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
