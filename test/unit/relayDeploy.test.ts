/**
 * The relay's deployment files say what self-hosters are promised. Docker's
 * engine and systemd cannot run here, so this reads the files as they would:
 *
 * - the Dockerfile (dockerfile-ast): a non-root user, the data in a volume, a health
 *   check on /healthz without curl, port 8787, node on the compiled relay in exec form
 *   (no TypeScript loader), `npm ci --omit=dev` with only what it needs copied first;
 *   test/integration/relay-deploy.test.ts then runs its steps;
 * - compose.yaml (yaml) and the Caddyfile: the relay reachable only through Caddy, which
 *   publishes 443; the relay's data in a named volume; an init as PID 1;
 * - the systemd unit and its sysusers file: `systemd-analyze verify` and `systemd-sysusers`
 *   on them in a scratch root (and a misspelt directive shown to fail the check), and
 *   the copies in sync-server/README.md are the files.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { dockerignore, imageConfig, readDockerfile, userOf, type Stage } from "../support/dockerfile";

const root = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");
const run = promisify(execFile);

const stages = readDockerfile(path.join(root, "Dockerfile"));
const final = stages.at(-1)!;
const image = imageConfig(final);
type Service = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const compose = YAML.parse(read("compose.yaml")) as { services: Record<string, Service>; volumes?: Record<string, unknown> };

/** `30s`, `1m30s`, `500ms` (compose's durations) in milliseconds. */
function durationMs(text: string): number {
  let total = 0;
  for (const [, value, unit] of String(text).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(value) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as "ms" | "s" | "m" | "h"];
  return total;
}

describe("Dockerfile", () => {
  it("builds on one pinned Node 20 slim image in every stage (native modules built for the Node that runs them)", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const images = new Set(stages.map((s) => s.image));
    expect(images.size).toBe(1);
    const [base] = images;
    const match = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/.exec(base!);
    expect(match, `${base} is node:MAJOR.MINOR.PATCH-bookworm-slim`).not.toBeNull();
    const [major, minor] = [Number(match![1]), Number(match![2])];
    // package.json "engines": the relay needs Node 20.19 or later.
    expect(major > 20 || (major === 20 && minor >= 19)).toBe(true);
  });

  it("runs as a user that is not root", () => {
    const { user, group } = userOf(image.user);
    expect(user).not.toBe("");
    expect(user).not.toBe("root");
    expect(user).not.toBe("0");
    expect(group).not.toBe("root");
    expect(group).not.toBe("0");
  });

  it("keeps its data in a volume, the data directory the relay is told to use, and listens beyond loopback on the exposed port", () => {
    expect(image.env.RELAY_DATA_DIR).toBeDefined();
    expect(image.volumes).toContain(image.env.RELAY_DATA_DIR);
    // Inside a container 127.0.0.1 is the container's own: nothing could reach the relay.
    expect(image.env.RELAY_HOST).toBe("0.0.0.0");
    expect(image.exposed).toEqual([image.env.RELAY_PORT ?? "8787"]);
    expect(image.exposed).toEqual(["8787"]);
  });

  it("gives the data directory to the relay's user before declaring the volume (changes after VOLUME are lost)", () => {
    const volume = final.steps.findIndex((s) => s.keyword === "VOLUME");
    const chown = final.steps.findIndex((s) => s.keyword === "RUN" && s.content.includes("chown") && s.content.includes(image.env.RELAY_DATA_DIR!));
    expect(chown).toBeGreaterThanOrEqual(0);
    expect(chown).toBeLessThan(volume);
  });

  it("checks its health on /healthz with node itself (slim images have no curl or wget)", () => {
    expect(image.healthcheck).not.toBeNull();
    const { argv, flags } = image.healthcheck!;
    expect(argv[0]).toBe("node");
    expect(argv.join(" ")).toContain("/healthz");
    expect(argv.join(" ")).not.toMatch(/\b(curl|wget)\b/);
    expect(flags.timeout).toBeDefined();
  });

  it("starts node on the compiled relay in exec form, without a TypeScript loader, and stops on SIGTERM", () => {
    expect(image.execForm, "ENTRYPOINT and CMD in exec form, so that node gets the signals").toBe(true);
    const argv = [...image.entrypoint, ...image.cmd];
    expect(argv).toEqual(["node", "sync-server/dist/cli.mjs"]);
    for (const arg of argv) {
      expect(arg).not.toMatch(/tsx|ts-node|--import|--loader|--experimental-loader|^-r$|--require|\.[cm]?tsx?$/);
    }
    expect(image.stopSignal).toBe("SIGTERM");
  });

  it("installs with npm ci --omit=dev, after copying only what npm ci reads (the slow layer stays cached)", () => {
    const runs = stages.flatMap((s) => s.steps.filter((step) => step.keyword === "RUN").map((step) => ({ stage: s, step })));
    const installs = runs.filter(({ step }) => /\bnpm\s+(ci|install|i)\b/.test(step.content));
    expect(installs).toHaveLength(1);
    const { stage, step } = installs[0]!;
    expect(step.content).toMatch(/\bnpm ci\b/);
    expect(step.content).toMatch(/--omit=dev\b/);
    const before = stage.steps.slice(0, stage.steps.indexOf(step)).filter((s) => s.keyword === "COPY");
    const copied = before.flatMap((s) => s.args.slice(0, -1));
    expect(copied.sort()).toEqual(["package-lock.json", "package.json", "patches"]);
  });

  it("puts the relay's compiled files and its dependencies in the image, and no sources", () => {
    const copies = final.steps.filter((s) => s.keyword === "COPY");
    const sources = copies.flatMap((s) => s.args.slice(0, -1));
    expect(sources).toContain("sync-server/dist");
    for (const source of sources) expect(source).not.toMatch(/^(\.|src|test|sync-server\/?)$|\.ts$/);
    const fromDeps = copies.filter((s) => s.flags.from !== undefined);
    expect(fromDeps.map((s) => s.flags.from)).toEqual([stages[0]!.name]);
  });

  it("has a .dockerignore that leaves out the rest of the repository but nothing the Dockerfile copies", () => {
    const ignored = dockerignore(read(".dockerignore"));
    for (const stage of stages as Stage[]) {
      for (const step of stage.steps.filter((s) => s.keyword === "COPY" && s.flags.from === undefined)) {
        for (const source of step.args.slice(0, -1)) expect(ignored(source), `COPY ${source} (line ${step.line})`).toBe(false);
      }
    }
    expect(ignored("sync-server/dist/workers/start.mjs")).toBe(false);
    for (const file of ["node_modules/ws/package.json", ".git/HEAD", "out/main/index.js", "src/main/index.ts", "test/unit/relayDeploy.test.ts", "sync-server/cli.ts", ".env"]) {
      expect(ignored(file), file).toBe(true);
    }
  });
});

describe(".dockerignore, as Docker reads it", () => {
  it("matches a path or its parents, with exceptions, the last matching line winning", () => {
    const ignored = dockerignore("*\n!sync-server/dist\n**/*.map\nsync-server/dist/secret\n");
    expect(ignored("package.json")).toBe(true);
    expect(ignored("sync-server/cli.ts")).toBe(true);
    expect(ignored("sync-server/dist/cli.mjs")).toBe(false);
    expect(ignored("sync-server/dist/cli.mjs.map")).toBe(true);
    expect(ignored("sync-server/dist/secret/key")).toBe(true);
    // `dist` is the top-level dist only; `**/dist` any.
    expect(dockerignore("dist")("sync-server/dist/cli.mjs")).toBe(false);
    expect(dockerignore("**/dist")("sync-server/dist/cli.mjs")).toBe(true);
  });
});

describe("compose.yaml", () => {
  const { relay, caddy } = compose.services;

  it("has the relay and Caddy, and only Caddy publishes ports: 443 (and 80 for certificates)", () => {
    expect(relay).toBeDefined();
    expect(caddy).toBeDefined();
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== "caddy") expect(service.ports, `${name} publishes no port`).toBeUndefined();
      expect(service.network_mode, `${name} is on the project's network`).toBeUndefined();
    }
    const published = (caddy!.ports as string[]).map((p) => String(p).split("/")[0]!.split(":").at(-2));
    expect(published).toContain("443");
    expect(published).toContain("80");
  });

  it("builds the relay from the Dockerfile, with an init as PID 1, a restart policy and time to save on stop", () => {
    expect(relay!.build === "." || relay!.build?.context === ".", "relay: build: .").toBe(true);
    expect(relay!.init).toBe(true);
    expect(["always", "unless-stopped", "on-failure"]).toContain(relay!.restart);
    expect(caddy!.restart).toBe(relay!.restart);
    // Docker's default is 10 s; the systemd unit gives the relay 30.
    expect(durationMs(relay!.stop_grace_period as string)).toBeGreaterThanOrEqual(30_000);
    // The image's HEALTHCHECK applies unless compose replaces it.
    expect(relay!.healthcheck).toBeUndefined();
    expect(caddy!.depends_on?.relay?.condition).toBe("service_healthy");
  });

  it("keeps the relay's data in a named volume on the image's data directory", () => {
    const mounts = (relay!.volumes as string[]).map((v) => v.split(":"));
    const data = mounts.find(([, target]) => target === image.env.RELAY_DATA_DIR);
    expect(data, `a volume on ${image.env.RELAY_DATA_DIR}`).toBeDefined();
    const [source] = data!;
    // A name, not a path: a bind mount would carry the host directory's owner, not UID 1000.
    expect(source).toMatch(/^[a-z][a-z0-9_-]*$/);
    expect(compose.volumes).toHaveProperty(source!);
  });

  it("trusts the proxy's X-Forwarded-For only because it sits behind Caddy", () => {
    expect(String(relay!.environment?.RELAY_TRUST_PROXY)).toBe("true");
  });

  it("runs a pinned Caddy with the repository's Caddyfile, proxying RELAY_DOMAIN to the relay's port", () => {
    expect(caddy!.image).toMatch(/^caddy:\d+\.\d+\.\d+(-alpine)?$/);
    const mounts = (caddy!.volumes as string[]).map((v) => v.split(":"));
    const caddyfile = mounts.find(([, target]) => target === "/etc/caddy/Caddyfile");
    expect(caddyfile).toBeDefined();
    const text = read(path.normalize(caddyfile![0]!));
    expect(text).toMatch(/^\{\$RELAY_DOMAIN\} \{$/m);
    expect(text).toMatch(new RegExp(`^\\s*reverse_proxy relay:${image.exposed[0]}$`, "m"));
    expect(String(caddy!.environment?.RELAY_DOMAIN)).toMatch(/^\$\{RELAY_DOMAIN:\?/);
    // Certificates survive a re-creation of the container.
    expect(mounts.map(([, target]) => target)).toEqual(expect.arrayContaining(["/data", "/config"]));
  });
});

describe("systemd unit", () => {
  const unitFile = "sync-server/deploy/writer-relay.service";
  const sysusersFile = "sync-server/deploy/writer-relay.sysusers";
  const unit = read(unitFile);
  /** `Key=value` lines, comments left out. */
  const directives = unit
    .split("\n")
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const);
  const value = (key: string) => directives.filter(([k]) => k === key).map(([, v]) => v);

  const scratch: string[] = [];
  afterAll(() => {
    for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A scratch root for `systemd-analyze verify --root`: without systemd running as PID 1
   * (a container, CI), verify loads the unit against the units in that root, so it needs
   * systemd's own (sysinit.target and the rest) copied in, and it checks that ExecStart's
   * program exists there: a stand-in /usr/bin/node, whatever this machine's node is.
   */
  function scratchRoot(unitText: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "relay-unit-"));
    scratch.push(dir);
    fs.cpSync("/usr/lib/systemd/system", path.join(dir, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(dir, "usr/bin"), { recursive: true });
    fs.writeFileSync(path.join(dir, "usr/bin/node"), "#!/bin/sh\n", { mode: 0o755 });
    fs.mkdirSync(path.join(dir, "etc/systemd/system"), { recursive: true });
    fs.writeFileSync(path.join(dir, "etc/systemd/system/writer-relay.service"), unitText);
    return dir;
  }

  /** verify's exit code and everything it printed: it only warns (exit 0) about unknown directives, so both count. */
  async function verify(unitText: string): Promise<{ code: number; output: string }> {
    const dir = scratchRoot(unitText);
    try {
      const { stdout, stderr } = await run("systemd-analyze", ["verify", `--root=${dir}`, "--man=no", "writer-relay.service"]);
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, output: e.stdout + e.stderr };
    }
  }

  const linux = process.platform === "linux";

  it.runIf(linux)("passes systemd-analyze verify without a word, which a misspelt directive does not", async () => {
    expect(await verify(unit)).toEqual({ code: 0, output: "" });
    const misspelt = await verify(unit.replace("ProtectSystem=strict", "ProtectSystm=strict"));
    expect(misspelt.output).toMatch(/Unknown key 'ProtectSystm'/);
    const wrongProgram = await verify(unit.replace("ExecStart=/usr/bin/node ", "ExecStart=/usr/bin/nodejs "));
    expect(wrongProgram.code).not.toBe(0);
    expect(wrongProgram.output).toMatch(/nodejs is not executable/);
  });

  it.runIf(linux)("is sandboxed well enough for systemd-analyze security to call it OK (exposure under 2 of 10)", async () => {
    const dir = scratchRoot(unit);
    // --threshold: exits non-zero above it.
    const { stdout } = await run("systemd-analyze", ["security", "--offline=true", `--root=${dir}`, "--threshold=20", "--no-pager", "writer-relay.service"]);
    const exposure = Number(/Overall exposure level for writer-relay\.service: ([\d.]+)/.exec(stdout)?.[1]);
    expect(exposure).toBeLessThan(2);
  });

  it.runIf(linux)("runs as the user its sysusers file creates, a system user without a login whose home is the data directory", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "relay-sysusers-"));
    scratch.push(dir);
    fs.mkdirSync(path.join(dir, "etc"));
    await run("systemd-sysusers", [`--root=${dir}`, path.join(root, sysusersFile)]);
    const passwd = fs.readFileSync(path.join(dir, "etc/passwd"), "utf8");
    const entry = passwd.split("\n").find((line) => line.startsWith(`${value("User")[0]}:`));
    expect(entry, passwd).toBeDefined();
    const [, , uid, gid, , home, shell] = entry!.split(":");
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(uid)).toBeLessThan(1000);
    expect(fs.readFileSync(path.join(dir, "etc/group"), "utf8")).toContain(`${value("Group")[0]}:x:${gid}:`);
    expect(home).toBe(value("Environment").find((e) => e.startsWith("RELAY_DATA_DIR="))!.slice("RELAY_DATA_DIR=".length));
    expect(shell).toMatch(/nologin$/);
  });

  it("starts node on the compiled relay, with its state, credentials and sandbox as promised", () => {
    expect(value("ExecStart")).toEqual(["/usr/bin/node /opt/writer/sync-server/dist/cli.mjs"]);
    expect(unit).not.toMatch(/tsx|--import|--loader/);
    expect(value("WorkingDirectory")).toEqual(["/opt/writer"]);
    expect(value("StateDirectory")).toEqual(["writer-relay"]);
    expect(value("Environment")).toContain("RELAY_DATA_DIR=/var/lib/writer-relay");
    expect(value("KillSignal")).toEqual(["SIGTERM"]);
    expect(value("TimeoutStopSec")).toEqual(["30"]);
    expect(value("Restart")).toEqual(["on-failure"]);
    for (const [key, expected] of Object.entries({
      NoNewPrivileges: "true",
      ProtectSystem: "strict",
      ProtectHome: "true",
      PrivateTmp: "true",
      PrivateDevices: "true",
      ProtectKernelTunables: "true",
      ProtectControlGroups: "true",
      LockPersonality: "true",
      RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
      SystemCallFilter: "@system-service",
    })) {
      expect(value(key), key).toEqual([expected]);
    }
    // V8 compiles to machine code at run time: node aborts under it.
    expect(value("MemoryDenyWriteExecute")).toEqual([]);
    // The secrets, as examples to uncomment (a missing file would stop the service starting).
    expect(unit).toContain("#LoadCredential=peer-token:/etc/writer-relay/peer-token\n");
  });

  it("is the unit, and the sysusers file, that sync-server/README.md shows", () => {
    const readme = read("sync-server/README.md");
    const start = readme.indexOf("\n## systemd\n");
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
    const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map(([, lang, body]) => ({ lang, body }));
    expect(blocks.find((b) => b.lang === "ini")?.body, `the ini block in the README's systemd section is ${unitFile}`).toBe(unit);
    expect(blocks.map((b) => b.body)).toContain(read(sysusersFile));
  });
});
