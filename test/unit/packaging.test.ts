/**
 * What the installers and the release workflow promise, checked here where
 * neither can run (no Electron binary, no GitHub runners): electron-builder.yml passes
 * electron-builder's own schema and asks for the targets, fuses, scheme, file type and
 * icons a release needs; the icons are there at their sizes and are the SVG's current
 * rendering; .github/workflows/release.yml runs the tests before building the three
 * platforms and attaches what they build to the release.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { Resvg } from "@resvg/resvg-js";
import { ICON_SIZES } from "../../scripts/icons";

const root = path.resolve(import.meta.dirname, "../..");
const require = createRequire(import.meta.url);
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const builder = YAML.parse(read("electron-builder.yml")) as Config;
const workflow = YAML.parse(read(".github/workflows/release.yml")) as Config;

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const bytes = fs.readFileSync(path.join(root, file));
  expect(bytes.subarray(1, 4).toString("latin1"), `${file} is a PNG`).toBe("PNG");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const targets = (platform: Config) => (platform.target as (string | { target: string; arch?: string[] })[]).map((t) => (typeof t === "string" ? { target: t, arch: undefined } : t));

describe("electron-builder.yml", () => {
  it("is a configuration electron-builder accepts", async () => {
    const { validateConfiguration } = require("app-builder-lib/out/util/config/config") as { validateConfiguration(c: unknown, l: unknown): Promise<void> };
    const { DebugLogger } = require("builder-util") as { DebugLogger: new (enabled: boolean) => unknown };
    await validateConfiguration(builder, new DebugLogger(false));
    // And it does refuse what it does not know (the check can fail).
    await expect(validateConfiguration({ ...builder, fusesAndMore: true }, new DebugLogger(false))).rejects.toThrow(/fusesAndMore/);
  });

  it("names the app and builds AppImage and deb, a signed and notarised dmg (and the zip updates use), and NSIS", () => {
    expect(builder.appId).toMatch(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/);
    expect(builder.productName).toBe("Writer");
    expect(targets(builder.linux).map((t) => t.target)).toEqual(["AppImage", "deb"]);
    expect(builder.linux.category).toBe("Office");
    expect(targets(builder.mac).map((t) => t.target)).toEqual(["dmg", "zip"]);
    for (const t of targets(builder.mac)) expect(t.arch).toEqual(["x64", "arm64"]);
    expect(builder.mac.hardenedRuntime).toBe(true);
    expect(builder.mac.notarize).toBe(true);
    expect(read(builder.mac.entitlements as string)).toContain("com.apple.security.cs.allow-jit");
    expect(targets(builder.win).map((t) => t.target)).toEqual(["nsis"]);
    expect(builder.publish).toEqual([expect.objectContaining({ provider: "github" })]);
  });

  it("flips the fuses a release needs", () => {
    expect(builder.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    // Only loading from the archive needs the app in one; native add-ons stay outside it.
    expect(builder.asar).toBe(true);
    expect(builder.asarUnpack).toContain("**/*.node");
  });

  it("registers the writer:// scheme and the backup file type", () => {
    expect(builder.protocols).toEqual([expect.objectContaining({ schemes: ["writer"] })]);
    expect(builder.linux.mimeTypes).toContain("x-scheme-handler/writer");
    expect(builder.fileAssociations).toEqual([expect.objectContaining({ ext: "automerge", role: "Editor" })]);
  });

  it("packs what the build makes, without source maps", () => {
    expect(builder.files).toEqual(["out/**/*", "package.json", "!**/*.map"]);
    const pkg = JSON.parse(read("package.json")) as { main: string; scripts: Record<string, string> };
    expect(pkg.main.startsWith("./out/")).toBe(true);
    expect(pkg.scripts.dist).toBe("npm run build && electron-builder --publish never");
  });
});

describe("icons", () => {
  it("are there at every size, and the files each platform is pointed at exist", () => {
    for (const size of ICON_SIZES) expect(pngSize(`resources/icons/${size}x${size}.png`)).toEqual({ width: size, height: size });
    expect(pngSize(builder.mac.icon as string)).toEqual({ width: 1024, height: 1024 });
    expect(fs.statSync(path.join(root, builder.linux.icon as string)).isDirectory()).toBe(true);
    // Windows: an .ico whose largest image is 256 (written as 0) and that holds the small ones too.
    const ico = fs.readFileSync(path.join(root, builder.win.icon as string));
    expect(ico.readUInt16LE(2)).toBe(1);
    const count = ico.readUInt16LE(4);
    const widths = Array.from({ length: count }, (_, i) => ico.readUInt8(6 + 16 * i) || 256);
    expect(widths).toEqual([16, 24, 32, 48, 64, 128, 256]);
  });

  it("are the SVG's rendering as it is now (npm run icons after changing it)", () => {
    const svg = read("resources/icon.svg");
    const fresh = new Resvg(svg, { fitTo: { mode: "width", value: 64 }, background: "rgba(0,0,0,0)" }).render().asPng();
    expect(Buffer.compare(Buffer.from(fresh), fs.readFileSync(path.join(root, "resources/icons/64x64.png")))).toBe(0);
  });
});

describe(".github/workflows/release.yml", () => {
  it("runs on a version tag", () => {
    expect(workflow.on).toEqual({ push: { tags: ["v*"] } });
  });

  it("runs the tests first, the way CI does", () => {
    const steps = workflow.jobs.test.steps as { run?: string }[];
    expect(steps.map((s) => s.run).filter(Boolean)).toEqual(["bash .ci/run"]);
    expect(read(".ci/run")).toContain("npm install && npm test");
  });

  it("builds each platform on its own runner, after the tests", () => {
    const job = workflow.jobs.installers;
    expect(job.needs).toBe("test");
    expect((job.strategy.matrix.include as { os: string; platform: string }[]).map((m) => [m.os, m.platform])).toEqual([
      ["ubuntu-latest", "--linux"],
      ["macos-latest", "--mac"],
      ["windows-latest", "--win"],
    ]);
    const runs = (job.steps as { run?: string }[]).map((s) => s.run).filter(Boolean);
    expect(runs).toEqual(["npm ci", "npm run build", "npx electron-builder ${{ matrix.platform }} --publish never"]);
    const uploaded = (job.steps as { uses?: string; with?: { path?: string } }[]).find((s) => s.uses?.startsWith("actions/upload-artifact"))!.with!.path!;
    for (const kind of ["*.AppImage", "*.deb", "*.dmg", "*.zip", "*.exe", "latest*.yml"]) expect(uploaded).toContain(`dist/${kind}`);
  });

  it("attaches every installer to the release, and only that job may write", () => {
    const job = workflow.jobs.release;
    expect(job.needs).toBe("installers");
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(job.permissions).toEqual({ contents: "write" });
    const publish = (job.steps as { uses?: string; with?: Record<string, unknown> }[]).find((s) => s.uses?.startsWith("softprops/action-gh-release"))!;
    expect(publish.with).toEqual({ files: "installers/*", fail_on_unmatched_files: true });
  });
});
