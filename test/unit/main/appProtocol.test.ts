import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { APP_CSP, APP_ENTRY, resolveAppAsset, serveAppAsset } from "../../../src/main/appProtocol";
import { windowOptions } from "../../../src/main/window";
import { isOwnRendererFrame } from "../../../src/main/sender";

/** The page from app://writer/ with a strict CSP header; the window locked down. */
const root = fs.mkdtempSync(path.join(os.tmpdir(), "writer-app-"));
fs.mkdirSync(path.join(root, "assets"));
fs.writeFileSync(path.join(root, "index.html"), "<!doctype html><div id=root></div>");
fs.writeFileSync(path.join(root, "assets", "index-abc.js"), "console.log(1)");
const read = (file: string) => fs.promises.readFile(file);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe("app://writer/", () => {
  it("serves the page and its assets with their types and the CSP header", async () => {
    const page = await serveAppAsset({ url: APP_ENTRY }, root, read);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toBe(APP_CSP);
    expect(await page.text()).toContain("<div id=root>");
    const script = await serveAppAsset({ url: "app://writer/assets/index-abc.js?v=1#x" }, root, read);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await serveAppAsset({ url: "app://writer/assets/missing.js" }, root, read)).status).toBe(404);
  });

  it("refuses other hosts, escapes from the build and files of no known type", async () => {
    for (const url of ["app://evil/index.html", "file:///etc/passwd", "app://writer/../../../etc/passwd", "app://writer/%2e%2e/%2e%2e/etc/passwd", "app://writer/..%2f..%2fetc%2fpasswd", "app://writer/assets%5c..%5c..%5cx.js", "app://writer/", "app://writer/%00.js", "app://writer/%E0%A4%A"]) {
      expect(resolveAppAsset(url, root), url).toBeNull();
      const answer = await serveAppAsset({ url }, root, read);
      expect(answer.status, url).toBe(404);
      expect(answer.headers.get("content-security-policy")).toBe(APP_CSP);
    }
  });

  it("never resolves a file outside the build, whatever the URL", () => {
    const segment = fc.oneof(fc.constantFrom("..", ".", "%2e%2e", "%2F", "%5C", "%00", "assets", "index.html", "x.js", "", "~", "//"), fc.string());
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.constantFrom("app://writer/", "app://writer//", "app://WRITER/", "app://writer.evil/"), (segments, prefix) => {
        const asset = resolveAppAsset(prefix + segments.join("/"), root);
        return asset === null || asset.file.startsWith(root + path.sep);
      }),
      { numRuns: 5000 },
    );
  });

  it("has a CSP that allows scripts only from the app itself: no inline scripts, no eval, nothing remote", () => {
    const directives = new Map(APP_CSP.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
    expect(directives.get("default-src")).toEqual(["'none'"]);
    expect(directives.get("script-src")).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get("connect-src")).toEqual(["'self'"]);
    expect(directives.get("object-src")).toEqual(["'none'"]);
    expect(directives.get("frame-ancestors")).toEqual(["'none'"]);
    expect(directives.get("base-uri")).toEqual(["'none'"]);
    // No directive lets in eval, everything, or anything from the network.
    for (const values of directives.values()) for (const v of values) expect(v).not.toMatch(/^'unsafe-eval'$|^\*$|^https?:|^wss?:/);
    expect(directives.get("script-src")).not.toContain("'unsafe-inline'");
  });

  it("takes calls only from its own page: app://writer/, not another app:// host nor a file", () => {
    expect(isOwnRendererFrame({ url: APP_ENTRY, parent: null }, APP_ENTRY)).toBe(true);
    expect(isOwnRendererFrame({ url: "app://writer/index.html#doc", parent: null }, APP_ENTRY)).toBe(true);
    expect(isOwnRendererFrame({ url: "app://evil/index.html", parent: null }, APP_ENTRY)).toBe(false);
    expect(isOwnRendererFrame({ url: "other://writer/index.html", parent: null }, APP_ENTRY)).toBe(false);
    expect(isOwnRendererFrame({ url: "file:///index.html", parent: null }, APP_ENTRY)).toBe(false);
    expect(isOwnRendererFrame({ url: APP_ENTRY, parent: {} }, APP_ENTRY)).toBe(false);
  });
});

describe("the window", () => {
  it("is sandboxed, isolated from its preload, without Node, with web security on", () => {
    const options = windowOptions("/app/preload/index.cjs", { width: 900 });
    expect(options.webPreferences).toMatchObject({
      preload: "/app/preload/index.cjs",
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(options.width).toBe(900);
  });
});
