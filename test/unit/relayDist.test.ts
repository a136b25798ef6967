/**
 * The relay self-hosters run is the committed build in sync-server/dist (see
 * scripts/buildRelay.ts): it must be what the sources build to now, and it must need
 * nothing that `npm ci --omit=dev` leaves out.
 */
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildRelay, RELAY_DIST } from "../../scripts/buildRelay";

const ROOT = path.resolve(RELAY_DIST, "../..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** The module specifiers a bundle imports statically or dynamically. */
function importsOf(code: string): string[] {
  const specifiers = new Set<string>();
  for (const m of code.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*"([^"]+)"|^\s*import\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm)) {
    specifiers.add(m[1] ?? m[2] ?? m[3]!);
  }
  return [...specifiers];
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
const packageOf = (specifier: string) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");

describe("sync-server/dist", () => {
  it("is what the sources build to now (run `npm run build:relay` and commit it when this fails)", async () => {
    const built = await buildRelay();
    const expected = new Map(built.map((f) => [path.relative(RELAY_DIST, f.path), f.text]));
    const committed = fs.readdirSync(RELAY_DIST, { recursive: true, encoding: "utf8" }).filter((f) => fs.statSync(path.join(RELAY_DIST, f)).isFile());
    expect(committed.sort()).toEqual([...expected.keys()].sort());
    for (const [file, text] of expected) {
      const onDisk = fs.readFileSync(path.join(RELAY_DIST, file), "utf8");
      // Not toEqual on 160 KB strings: a stale file should say which, not print both.
      expect(onDisk === text, `sync-server/dist/${file} is out of step with the sources: run npm run build:relay`).toBe(true);
    }
  });

  it("imports only Node's own modules and runtime dependencies (nothing npm ci --omit=dev leaves out, no TypeScript loader)", () => {
    const builtins = new Set(builtinModules);
    for (const file of ["cli.mjs", "workers/start.mjs"]) {
      const specifiers = importsOf(fs.readFileSync(path.join(RELAY_DIST, file), "utf8"));
      expect(specifiers.length, file).toBeGreaterThan(3);
      for (const specifier of specifiers) {
        if (specifier.startsWith("node:") || builtins.has(specifier)) continue;
        expect(specifier.startsWith("."), `${file} imports a file outside the bundle: ${specifier}`).toBe(false);
        const name = packageOf(specifier);
        expect(pkg.dependencies[name], `${file} imports ${specifier}, which is not a runtime dependency`).toBeDefined();
        expect(name).not.toBe("tsx");
      }
    }
  });

  it("is what npm run relay runs", () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.relay).toBe("node sync-server/dist/cli.mjs");
  });
});
