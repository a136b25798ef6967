import { describe, expect, it } from "vitest";
import { isOwnRendererFrame } from "../../../src/main/sender";

const packaged = "file:///opt/Writer/resources/app.asar/out/renderer/index.html";
const dev = "http://localhost:5173/";
const top = (url: string) => ({ url, parent: null });

describe("IPC sender validation (src/main)", () => {
  it("accepts the renderer's own page in the top frame, whatever its hash or query", () => {
    expect(isOwnRendererFrame(top(packaged), packaged)).toBe(true);
    expect(isOwnRendererFrame(top(`${packaged}#/doc`), packaged)).toBe(true);
    expect(isOwnRendererFrame(top("http://localhost:5173/index.html?x=1"), dev)).toBe(true);
  });

  it("refuses other files, look-alike origins, frames inside the page and missing frames", () => {
    expect(isOwnRendererFrame(top("file:///tmp/evil.html"), packaged)).toBe(false);
    expect(isOwnRendererFrame(top("file:///opt/Writer/resources/app.asar/out/renderer/index.html.evil"), packaged)).toBe(false);
    expect(isOwnRendererFrame(top("file://remote-host/opt/Writer/resources/app.asar/out/renderer/index.html"), packaged)).toBe(false);
    expect(isOwnRendererFrame(top("http://localhost:5173.evil.example/"), dev)).toBe(false);
    expect(isOwnRendererFrame(top("http://localhost:51730/"), dev)).toBe(false);
    expect(isOwnRendererFrame(top("https://example.com/"), packaged)).toBe(false);
    expect(isOwnRendererFrame({ url: packaged, parent: {} }, packaged)).toBe(false);
    expect(isOwnRendererFrame(null, packaged)).toBe(false);
    expect(isOwnRendererFrame(undefined, packaged)).toBe(false);
    expect(isOwnRendererFrame(top("not a url"), packaged)).toBe(false);
  });
});
