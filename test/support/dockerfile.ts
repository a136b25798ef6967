/**
 * The relay's Dockerfile and .dockerignore, read the way Docker reads them, for the tests
 * that check what the image promises (test/unit/relayDeploy.test.ts) and the test that
 * replays its steps without a Docker engine (test/integration/relay-deploy.test.ts).
 *
 * Parsing is dockerfile-ast's; this module only turns its instructions into plain data
 * (stages, steps, the final image's configuration). Anything the replay would have to
 * guess at (variables, ARG, ADD, SHELL, heredocs, RUN --mount) is refused by name rather
 * than half-understood: the Dockerfile uses none of it, and whoever adds it extends this.
 */
import fs from "node:fs";
import path from "node:path";
import { DockerfileParser, type Instruction } from "dockerfile-ast";

export interface Step {
  /** Upper case: `RUN`, `COPY`, ... */
  keyword: string;
  /** 1-based, for messages. */
  line: number;
  /** `--from=deps` → `{ from: "deps" }`; a flag without a value maps to null. */
  flags: Record<string, string | null>;
  /** The arguments after the flags, continuation lines joined. */
  content: string;
  /** The arguments as words (shell form) or strings (exec form). */
  args: string[];
  /** The exec form's argv when the arguments are a JSON array of strings, else null. */
  exec: string[] | null;
  /** ENV's name=value pairs, in order. */
  env: [string, string][];
}

export interface Stage {
  /** `AS name`, or null. */
  name: string | null;
  /** The FROM image, `node:20.20.2-bookworm-slim`. */
  image: string;
  steps: Step[];
}

/** What a stage's image is configured with once built (what `docker inspect` would show). */
export interface ImageConfig {
  /** USER as written (`1000:1000`, `node`), "root" when unset. */
  user: string;
  workdir: string;
  env: Record<string, string>;
  volumes: string[];
  exposed: string[];
  /** ENTRYPOINT's and CMD's argv; a shell form becomes `/bin/sh -c ...` as Docker runs it. */
  entrypoint: string[];
  cmd: string[];
  /** Whether ENTRYPOINT and CMD are in exec form (a shell form puts sh between Docker and node). */
  execForm: boolean;
  /** HEALTHCHECK's command as Docker runs it (`CMD-SHELL` as `/bin/sh -c`), and its flags. */
  healthcheck: { argv: string[]; flags: Record<string, string | null> } | null;
  stopSignal: string | null;
}

/** Docker's rule for CMD, ENTRYPOINT, RUN and HEALTHCHECK CMD: a JSON array of strings is the exec form. */
export function execForm(content: string): string[] | null {
  if (!content.trimStart().startsWith("[")) return null;
  try {
    const value = JSON.parse(content) as unknown;
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : null;
  } catch {
    return null;
  }
}

const REFUSED = new Set(["ARG", "ADD", "SHELL", "ONBUILD", "MAINTAINER"]);

function stepOf(instruction: Instruction): Step {
  const keyword = instruction.getKeyword().toUpperCase();
  const line = instruction.getRange().start.line + 1;
  if (REFUSED.has(keyword)) throw new Error(`Dockerfile line ${line}: ${keyword} is not supported by the tests that read the Dockerfile (test/support/dockerfile.ts)`);
  const flags: Record<string, string | null> = {};
  const withFlags = instruction as Instruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  for (const flag of withFlags.getFlags?.() ?? []) flags[flag.getName()] = flag.getValue();
  const content = instruction.getArgumentsContent() ?? "";
  if (/<<-?["']?\w/.test(content) && (keyword === "RUN" || keyword === "COPY")) throw new Error(`Dockerfile line ${line}: heredocs are not supported by the tests`);
  if (keyword !== "RUN" && keyword !== "CMD" && keyword !== "ENTRYPOINT" && keyword !== "HEALTHCHECK" && content.includes("$")) {
    throw new Error(`Dockerfile line ${line}: variables are not supported by the tests: ${content}`);
  }
  const env: [string, string][] = [];
  if (keyword === "ENV") {
    for (const property of (instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }).getProperties()) {
      env.push([property.getName(), property.getValue() ?? ""]);
    }
  }
  return { keyword, line, flags, content, args: instruction.getArguments().map((a) => a.getValue()), exec: execForm(content), env };
}

/** The Dockerfile's stages, in order. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const step = stepOf(instruction);
    if (step.keyword === "FROM") {
      const [image, as, name] = step.args;
      if (!image || (as !== undefined && (as.toUpperCase() !== "AS" || !name))) throw new Error(`Dockerfile line ${step.line}: FROM ${step.content}`);
      stages.push({ name: name ?? null, image, steps: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile line ${step.line}: ${step.keyword} before FROM`);
      stage.steps.push(step);
    }
  }
  return stages;
}

export function readDockerfile(file: string): Stage[] {
  return parseDockerfile(fs.readFileSync(file, "utf8"));
}

/** The configuration a stage's image ends up with (this project's base image, node:*, sets none of its own but PATH). */
export function imageConfig(stage: Stage): ImageConfig {
  const config: ImageConfig = {
    user: "root",
    workdir: "/",
    env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
    volumes: [],
    exposed: [],
    entrypoint: [],
    cmd: [],
    execForm: true,
    healthcheck: null,
    stopSignal: null,
  };
  let entrypointExec = true;
  let cmdExec = true;
  for (const step of stage.steps) {
    switch (step.keyword) {
      case "USER":
        config.user = step.content.trim();
        break;
      case "WORKDIR":
        config.workdir = path.posix.resolve(config.workdir, step.content.trim());
        break;
      case "ENV":
        for (const [name, value] of step.env) config.env[name] = value;
        break;
      case "VOLUME":
        config.volumes.push(...(step.exec ?? step.args));
        break;
      case "EXPOSE":
        config.exposed.push(...step.args);
        break;
      case "ENTRYPOINT":
        config.entrypoint = step.exec ?? ["/bin/sh", "-c", step.content];
        entrypointExec = step.exec !== null;
        // Docker: setting ENTRYPOINT resets a CMD inherited from before it.
        config.cmd = [];
        break;
      case "CMD":
        config.cmd = step.exec ?? ["/bin/sh", "-c", step.content];
        cmdExec = step.exec !== null;
        break;
      case "HEALTHCHECK": {
        const sub = step.content.trim().split(/\s+/)[0];
        if (sub?.toUpperCase() === "NONE") {
          config.healthcheck = null;
          break;
        }
        if (sub?.toUpperCase() !== "CMD") throw new Error(`Dockerfile line ${step.line}: HEALTHCHECK ${step.content}`);
        const command = step.content.trim().slice(sub.length).trim();
        config.healthcheck = { argv: execForm(command) ?? ["/bin/sh", "-c", command], flags: step.flags };
        break;
      }
      case "STOPSIGNAL":
        config.stopSignal = step.content.trim();
        break;
    }
  }
  config.execForm = entrypointExec && cmdExec;
  return config;
}

/** The user and group of a USER value (`1000:1000`, `node`, `node:node`). */
export function userOf(user: string): { user: string; group: string | null } {
  const [name, group] = user.split(":");
  return { user: name ?? "", group: group ?? null };
}

/**
 * .dockerignore as Docker applies it: each line a pattern (`*` and `?` within one path
 * segment, `**` across segments), matching a path or any of its parent directories, a
 * leading `!` taking matches back out, the last matching line winning. Returns whether
 * `relativePath` (with `/` separators) is left out of the build context.
 */
export function dockerignore(text: string): (relativePath: string) => boolean {
  const rules = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const exception = line.startsWith("!");
      const pattern = path.posix.normalize((exception ? line.slice(1) : line).trim()).replace(/^\/+|\/+$/g, "");
      return { exception, pattern: globToRegExp(pattern) };
    });
  return (relativePath) => {
    const candidates: string[] = [];
    const parts = relativePath.split("/");
    for (let i = 1; i <= parts.length; i++) candidates.push(parts.slice(0, i).join("/"));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.pattern.test(c))) excluded = !rule.exception;
    }
    return excluded;
  };
}

function globToRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      // `**/` matches no directory or several; a trailing `**` anything below.
      source += pattern[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += pattern[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i);
      source += end > i ? pattern.slice(i, end + 1).replace(/^\[!/, "[^") : "\\[";
      i = end > i ? end : i;
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
