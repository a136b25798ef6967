/**
 * The relay's container image, proven without a Docker engine (none runs in CI).
 *
 * The Dockerfile's own steps are replayed (test/support/imageReplay.ts): a build context
 * made from the working tree less .dockerignore, each stage in a directory standing for
 * its filesystem, COPY as Docker copies, each RUN with `sh -c` chrooted into the stage
 * (so `npm ci --omit=dev` really installs, and its postinstall really patches). Then the
 * image's CMD is started the way `docker run` would start it: as the image's USER, with
 * only its ENV, writing to its VOLUME. The test asks the HEALTHCHECK, creates a token with
 * the command sync-server/README.md gives, syncs a document through the relay with two
 * clients, stops it with the STOPSIGNAL and expects exit 0 within compose.yaml's grace
 * period. Change the Dockerfile and this is what runs.
 *
 * test/unit/relayDeploy.test.ts checks the file's promises one by one; this checks that
 * they hold together.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { readDockerfile } from "../support/dockerfile";
import { canReplay, ImageReplay, type BuiltStage } from "../support/imageReplay";
import { clientRepo, documentFiles, eventually, freePort, PROJECT_ROOT, tempDir } from "../support/relay";

const replayable = canReplay();
if (!replayable.ok) console.warn(`relay-deploy: the image cannot be replayed here (${replayable.why}); CI runs it as root`);

const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
const compose = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "compose.yaml"), "utf8")) as { services: { relay: { stop_grace_period: string } } };
const readme = fs.readFileSync(path.join(PROJECT_ROOT, "sync-server/README.md"), "utf8");

/** compose's `30s`, `1m30s`, in milliseconds. */
function durationMs(text: string): number {
  let total = 0;
  for (const [, value, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(value) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"];
  return total;
}

describe.runIf(replayable.ok)("the relay's image, its Dockerfile's steps replayed", () => {
  const stages = readDockerfile(path.join(PROJECT_ROOT, "Dockerfile"));
  let replay: ImageReplay;
  let image: BuiltStage;
  let context: string[];
  const log: string[] = [];

  beforeAll(async () => {
    replay = new ImageReplay(tempDir("relay-image-"), (line) => log.push(line));
    context = replay.makeContext(PROJECT_ROOT);
    // npm ci against the registry (or this machine's cache): allow for a slow network.
    image = await replay.build(stages);
  }, 600_000);

  afterAll(() => {
    if (process.env.KEEP_TEST_DIRS) console.log(log.join("\n"));
  });

  it("is built from a context of what the Dockerfile copies, on the Node major this machine replays it with", () => {
    // .dockerignore keeps the context to what the image needs: no sources, tests, data or secrets.
    expect(context).toContain("sync-server/dist/cli.mjs");
    expect(context.filter((f) => !/^(package\.json|package-lock\.json|patches\/.*|sync-server\/dist\/.*)$/.test(f))).toEqual([]);
    const major = /^node:(\d+)\./.exec(image.stage.image)?.[1];
    expect(process.versions.node.split(".")[0], `the image runs Node ${major}; the replay uses this machine's node`).toBe(major);
  });

  it("holds the runtime dependencies, patched, and no dev dependency", () => {
    const app = replay.path(image, image.config.workdir);
    const modules = path.join(app, "node_modules");
    expect(fs.existsSync(path.join(modules, "@automerge/automerge-repo/package.json"))).toBe(true);
    // patch-package ran at install (postinstall): the patched file differs from the published one.
    const patch = fs.readFileSync(path.join(PROJECT_ROOT, "patches/@automerge+automerge-repo+2.5.6.patch"), "utf8");
    const added = /^\+(?!\+\+)(.{12,})$/m.exec(patch)?.[1];
    const patchedFile = /^\+\+\+ b\/node_modules\/(\S+)$/m.exec(patch)?.[1];
    expect(added && patchedFile).toBeTruthy();
    expect(fs.readFileSync(path.join(modules, patchedFile!), "utf8")).toContain(added!);
    // Every package the lock file marks dev-only is absent.
    const devOnly = Object.entries(lock.packages)
      .filter(([where, entry]) => entry.dev && where.startsWith("node_modules/"))
      .map(([where]) => where);
    expect(devOnly.length).toBeGreaterThan(100);
    const present = devOnly.filter((where) => fs.existsSync(path.join(app, where)));
    expect(present).toEqual([]);
    for (const name of ["vitest", "typescript", "electron", "vite", "eslint", "dockerfile-ast"]) expect(fs.existsSync(path.join(modules, name)), name).toBe(false);
    // And no sources: the relay is the compiled one.
    expect(fs.readdirSync(app).sort()).toEqual(["node_modules", "package.json", "sync-server"]);
    expect(fs.readdirSync(path.join(app, "sync-server"))).toEqual(["dist"]);
  });

  it("starts as its unprivileged user, is healthy, takes the README's token command, syncs, and exits 0 on SIGTERM in time", async () => {
    const port = await freePort();
    // `docker run -e RELAY_PORT=...`: a port free on this machine, which the container would not need.
    const env = { RELAY_PORT: String(port) };
    const relay = replay.spawn(image, [...image.config.entrypoint, ...image.config.cmd], { env });
    let output = "";
    relay.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    relay.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => relay.once("exit", resolve));
    let exited = false;
    void exit.then(() => (exited = true));
    try {
      const started = await eventually(() => exited || output.includes(`listening on ws://${image.config.env.RELAY_HOST}:${port}`), 60_000, 100).catch(() => false);
      if (!started || exited) throw new Error(`the relay did not start:\n${output}`);

      // The process is node on the compiled relay, as the image's user: no TypeScript loader.
      const cmdline = fs.readFileSync(`/proc/${relay.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      expect(cmdline).toEqual([...image.config.entrypoint, ...image.config.cmd]);
      expect(cmdline.join(" ")).not.toMatch(/tsx|--import|--loader/);
      const status = fs.readFileSync(`/proc/${relay.pid}/status`, "utf8");
      const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      expect(uid).not.toBe("0");
      expect(uid).toBe(image.config.user.split(":")[0]);

      // The HEALTHCHECK, run in the container as Docker runs it.
      const health = await replay.exec(image, image.config.healthcheck!.argv, { env });
      expect(health.code, health.stdout + health.stderr).toBe(0);

      // The first token, as sync-server/README.md's Docker section says to create it.
      const documented = /docker compose exec relay (node \S+) token add (\w+)/.exec(readme.slice(readme.indexOf("\n## Docker\n")));
      expect(documented, "the Docker section gives the token command").not.toBeNull();
      const [command, name] = [documented![1]!.split(" "), documented![2]!];
      const added = await replay.exec(image, [...command, "token", "add", name], { env });
      expect(added.code, added.stderr).toBe(0);
      const token = added.stdout.split(/\s+/).find((word) => /^[A-Za-z0-9_-]{43}$/.test(word));
      expect(token, added.stdout).toBeDefined();

      // A document written by one client reaches another through the relay.
      const url = `ws://127.0.0.1:${port}`;
      const alice = clientRepo(url, token!);
      const bob = clientRepo(url, token!);
      try {
        const handle = alice.create<{ text: string }>({ text: "written in the container" });
        // Bob may ask before Alice's document reached the relay ("unavailable"): ask again.
        const seen = await eventually(() => bob.find<{ text: string }>(handle.url), 20_000, 250);
        await eventually(() => seen.doc()?.text === "written in the container", 20_000);
        // On the relay's disk too, before it stops.
        const dataDir = replay.path(image, image.config.env.RELAY_DATA_DIR!);
        await eventually(() => documentFiles(dataDir).length > 0, 20_000);
      } finally {
        await Promise.allSettled([alice.shutdown(), bob.shutdown()]);
      }

      // docker stop: the STOPSIGNAL, then SIGKILL after the grace period compose.yaml gives.
      const grace = durationMs(compose.services.relay.stop_grace_period);
      const stoppedAt = Date.now();
      relay.kill(image.config.stopSignal as NodeJS.Signals);
      const code = await Promise.race([exit, new Promise<"late">((resolve) => setTimeout(() => resolve("late"), grace))]);
      expect(code, output).toBe(0);
      expect(Date.now() - stoppedAt).toBeLessThan(grace);
      expect(output).toContain("everything flushed");

      // The check can fail: with the relay gone it does.
      const after = await replay.exec(image, image.config.healthcheck!.argv, { env });
      expect(after.code).not.toBe(0);

      // What the relay wrote belongs to its user, in the volume.
      const dataDir = replay.path(image, image.config.env.RELAY_DATA_DIR!);
      expect(image.config.volumes).toContain(image.config.env.RELAY_DATA_DIR);
      for (const file of ["tokens.json", ...documentFiles(dataDir).map((f) => `documents/${f}`)]) {
        expect(fs.statSync(path.join(dataDir, file)).uid, file).toBe(Number(uid));
      }
    } finally {
      if (relay.exitCode === null && relay.signalCode === null) relay.kill("SIGKILL");
      await exit;
    }
  }, 180_000);
});
