/**
 * Runs a Dockerfile's steps without Docker, for the test that proves the relay's image
 * where no Docker engine runs (test/integration/relay-deploy.test.ts).
 *
 * Each stage gets a directory that stands for its image's filesystem. The build context
 * is what `docker build .` would send: the repository's files as they are in the working
 * tree (tracked, or new and not ignored by git), less what .dockerignore leaves out.
 * WORKDIR, COPY (from the context or `--from` a stage), ENV and USER are done here as
 * Docker does them; RUN, the CMD and the HEALTHCHECK are started inside the stage's
 * directory with chroot, as the stage's user, with only the image's environment, so that
 * a step that writes `/data` writes the image's /data, not this machine's, and the relay
 * runs as the unprivileged user it would run as in the container.
 *
 * The base image (node:*-bookworm-slim) is stood in for by this machine's system, bound
 * read-only into each stage: /usr (its node, npm, sh), /etc (its passwd and group
 * replaced by copies with the base image's `node` user, UID and GID 1000), /dev, /proc,
 * /sys. The test checks that this machine's Node has the image's major version. This
 * needs root (chroot, and bind mounts in a mount namespace of its own: none of them is
 * seen outside it, and they go when its processes end); `canReplay()` says whether it can.
 *
 * Docker's layer cache, which spares a rebuild the downloads, is played by this machine's
 * npm cache, bound over the stage's: its contents cannot change what `npm ci` installs,
 * since package-lock.json pins every package by its integrity hash.
 *
 * What the replay does not understand it refuses (see ./dockerfile.ts), rather than
 * replay something else than what Docker would build.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { dockerignore, imageConfig, type ImageConfig, type Stage, type Step } from "./dockerfile";

/** The base image's unprivileged user (node's official images). */
const BASE_USER = { name: "node", uid: 1000, gid: 1000, home: "/home/node" };

/** Mounts the stand-in base system into the stage's root, then chroots (argv: root, etc dir, npm cache or "", chroot's arguments...). */
const MOUNT_AND_CHROOT = `
set -e
R=$1; ETC=$2; CACHE=$3; shift 3
mount --rbind /usr "$R/usr"; mount -o remount,bind,ro "$R/usr"
mount --bind /etc "$R/etc"; mount -o remount,bind,ro "$R/etc"
mount --bind "$ETC/passwd" "$R/etc/passwd"; mount --bind "$ETC/group" "$R/etc/group"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys"
mount -t proc proc "$R/proc" 2>/dev/null || mount --rbind /proc "$R/proc"
if [ -n "$CACHE" ]; then mkdir -p "$R/root/.npm"; mount --bind "$CACHE" "$R/root/.npm"; fi
exec chroot "$@"
`;

/** Whether this machine can replay an image: Linux, root, and mount namespaces allowed. */
export function canReplay(): { ok: boolean; why: string } {
  if (process.platform !== "linux") return { ok: false, why: "not Linux" };
  if (process.getuid?.() !== 0) return { ok: false, why: "not root (chroot and bind mounts need it; CI runs as root)" };
  const probe = spawnSync("unshare", ["--mount", "true"]);
  if (probe.status !== 0) return { ok: false, why: `unshare --mount fails: ${probe.stderr?.toString().trim() || probe.error?.message}` };
  return { ok: true, why: "" };
}

export interface BuiltStage {
  stage: Stage;
  /** The directory standing for the image's `/`. */
  root: string;
  config: ImageConfig;
}

export interface RunOptions {
  /** Added to (and overriding) the image's ENV, as `docker run -e`. */
  env?: Record<string, string>;
  /** Bind this machine's npm cache over the user's (RUN steps only). */
  npmCache?: string;
  /** As `docker run --user`; the image's USER by default. */
  user?: string;
  cwd?: string;
}

export class ImageReplay {
  readonly #dir: string;
  readonly #context: string;
  readonly #etc: string;
  readonly #passwd: { name: string; uid: number; gid: number; home: string }[];
  readonly #groups: Map<string, number>;
  readonly #log: (line: string) => void;
  readonly built = new Map<string, BuiltStage>();

  /** `dir`: an empty directory for the context and the stages' roots. */
  constructor(dir: string, log: (line: string) => void = () => undefined) {
    this.#dir = dir;
    this.#log = log;
    this.#context = path.join(dir, "context");
    this.#etc = path.join(dir, "etc");
    fs.mkdirSync(this.#etc);
    // This machine's users and groups, less whatever holds 1000, plus the base image's node.
    const passwd = fs
      .readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .filter((line) => line && line.split(":")[2] !== String(BASE_USER.uid) && !line.startsWith(`${BASE_USER.name}:`));
    passwd.push(`${BASE_USER.name}:x:${BASE_USER.uid}:${BASE_USER.gid}::${BASE_USER.home}:/bin/bash`);
    const group = fs
      .readFileSync("/etc/group", "utf8")
      .split("\n")
      .filter((line) => line && line.split(":")[2] !== String(BASE_USER.gid) && !line.startsWith(`${BASE_USER.name}:`));
    group.push(`${BASE_USER.name}:x:${BASE_USER.gid}:`);
    fs.writeFileSync(path.join(this.#etc, "passwd"), passwd.join("\n") + "\n");
    fs.writeFileSync(path.join(this.#etc, "group"), group.join("\n") + "\n");
    this.#passwd = passwd.map((line) => {
      const [name, , uid, gid, , home] = line.split(":");
      return { name: name!, uid: Number(uid), gid: Number(gid), home: home! };
    });
    this.#groups = new Map(group.map((line) => [line.split(":")[0]!, Number(line.split(":")[2])]));
  }

  /**
   * The build context: the project's files as `git ls-files` sees the working tree (so
   * uncommitted edits count, and nothing git ignores, such as node_modules, is there),
   * less what `.dockerignore` leaves out. Returns the files copied, relative.
   */
  makeContext(projectRoot: string): string[] {
    const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: projectRoot, encoding: "utf8", maxBuffer: 64 << 20 })
      .split("\0")
      .filter(Boolean);
    const ignoreFile = path.join(projectRoot, ".dockerignore");
    const ignored = fs.existsSync(ignoreFile) ? dockerignore(fs.readFileSync(ignoreFile, "utf8")) : () => false;
    const copied: string[] = [];
    for (const file of new Set(listed)) {
      const from = path.join(projectRoot, file);
      // Listed but deleted in the working tree, or left out by .dockerignore.
      if (!fs.existsSync(from) || ignored(file)) continue;
      fs.mkdirSync(path.dirname(path.join(this.#context, file)), { recursive: true });
      fs.cpSync(from, path.join(this.#context, file), { verbatimSymlinks: true });
      copied.push(file);
    }
    return copied.sort();
  }

  /** Builds every stage in order, as `docker build` does for the last one. */
  async build(stages: Stage[]): Promise<BuiltStage> {
    let last: BuiltStage | undefined;
    for (const [index, stage] of stages.entries()) {
      last = await this.#buildStage(stage, index);
      this.built.set(stage.name ?? String(index), last);
      this.built.set(String(index), last);
    }
    if (!last) throw new Error("the Dockerfile has no stage");
    return last;
  }

  async #buildStage(stage: Stage, index: number): Promise<BuiltStage> {
    if (!/^node:/.test(stage.image)) throw new Error(`FROM ${stage.image}: the replay stands in for node's images only`);
    const root = path.join(this.#dir, `stage-${index}`);
    this.#baseImage(root);
    const built: BuiltStage = { stage, root, config: imageConfig({ ...stage, steps: [] }) };
    for (const step of stage.steps) {
      // The configuration up to and including this step: WORKDIR, ENV and USER apply to the steps after them.
      built.config = imageConfig({ ...stage, steps: stage.steps.slice(0, stage.steps.indexOf(step) + 1) });
      this.#log(`[${stage.name ?? index}] ${step.keyword} ${step.content}`);
      switch (step.keyword) {
        case "WORKDIR":
          fs.mkdirSync(this.#inside(root, built.config.workdir), { recursive: true, mode: 0o755 });
          break;
        case "COPY":
          this.#copy(root, built.config, step);
          break;
        case "RUN":
          await this.#runStep(built, step);
          break;
        case "ENV":
        case "USER":
        case "VOLUME":
        case "EXPOSE":
        case "HEALTHCHECK":
        case "STOPSIGNAL":
        case "CMD":
        case "ENTRYPOINT":
        case "LABEL":
          // Configuration only (imageConfig reads it).
          break;
        default:
          throw new Error(`Dockerfile line ${step.line}: the replay does not know ${step.keyword}`);
      }
    }
    built.config = imageConfig(stage);
    return built;
  }

  /** The base image's filesystem, as far as the relay's steps can tell: this machine's system, bound in at run time. */
  #baseImage(root: string): void {
    fs.mkdirSync(root, { mode: 0o755 });
    // mkdtemp's 0700 would keep the unprivileged user out of the whole tree.
    fs.chmodSync(root, 0o755);
    for (const dir of ["usr", "etc", "dev", "proc", "sys", "run", "var", "home", "opt"]) fs.mkdirSync(path.join(root, dir), { mode: 0o755 });
    fs.mkdirSync(path.join(root, "tmp"), { mode: 0o1777 });
    fs.chmodSync(path.join(root, "tmp"), 0o1777);
    fs.mkdirSync(path.join(root, "root"), { mode: 0o700 });
    fs.mkdirSync(path.join(root, BASE_USER.home), { mode: 0o755 });
    fs.chownSync(path.join(root, BASE_USER.home), BASE_USER.uid, BASE_USER.gid);
    // Debian's merged /usr: /bin, /lib... are links into it.
    for (const link of ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]) {
      const target = fs.existsSync(`/${link}`) && fs.lstatSync(`/${link}`).isSymbolicLink() ? fs.readlinkSync(`/${link}`) : null;
      if (target !== null) fs.symlinkSync(target, path.join(root, link));
      else if (fs.existsSync(`/${link}`)) throw new Error(`/${link} is not a link into /usr: the replay expects a merged-/usr system (Debian 12)`);
    }
  }

  /** A path in the image, as a path on this machine under the stage's root. */
  #inside(root: string, imagePath: string): string {
    const resolved = path.posix.resolve("/", imagePath);
    return path.join(root, resolved);
  }

  #copy(root: string, config: ImageConfig, step: Step): void {
    for (const flag of Object.keys(step.flags)) {
      if (flag !== "from" && flag !== "chown") throw new Error(`Dockerfile line ${step.line}: COPY --${flag} is not replayed`);
    }
    const args = step.exec ?? step.args;
    const sources = args.slice(0, -1);
    const destination = args.at(-1)!;
    const from = step.flags.from;
    const sourceRoot = from !== undefined && from !== null ? this.built.get(from)?.root : this.#context;
    if (!sourceRoot) throw new Error(`Dockerfile line ${step.line}: COPY --from=${from}: no such stage before it`);
    const target = this.#inside(root, path.posix.resolve(config.workdir, destination));
    const intoDirectory = destination.endsWith("/") || sources.length > 1;
    for (const source of sources) {
      if (/[*?[]/.test(source)) throw new Error(`Dockerfile line ${step.line}: wildcards in COPY are not replayed`);
      // --from paths are in that stage's filesystem; others in the context. Neither can leave it.
      const resolvedSource = path.join(sourceRoot, path.posix.resolve("/", source));
      if (!fs.existsSync(resolvedSource)) {
        throw new Error(`Dockerfile line ${step.line}: COPY ${source}: not in the ${from ? `stage ${from}` : "build context (.dockerignore?)"}`);
      }
      const isDirectory = fs.statSync(resolvedSource).isDirectory();
      // A directory's contents are copied, not the directory; a file into a directory keeps its name.
      const to = isDirectory ? target : intoDirectory || (fs.existsSync(target) && fs.statSync(target).isDirectory()) ? path.join(target, path.basename(source)) : target;
      fs.mkdirSync(isDirectory ? to : path.dirname(to), { recursive: true, mode: 0o755 });
      fs.cpSync(resolvedSource, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      if (step.flags.chown) {
        const { uid, gid } = this.#ids(step.flags.chown);
        for (const entry of [to, ...(isDirectory ? fs.readdirSync(to, { recursive: true, encoding: "utf8" }).map((f) => path.join(to, f)) : [])]) fs.lchownSync(entry, uid, gid);
      }
    }
  }

  async #runStep(built: BuiltStage, step: Step): Promise<void> {
    if (Object.keys(step.flags).length > 0) throw new Error(`Dockerfile line ${step.line}: RUN flags are not replayed: ${Object.keys(step.flags).join(", ")}`);
    const argv = step.exec ?? ["/bin/sh", "-c", step.content];
    const child = this.spawn(built, argv, { npmCache: npmCacheDir(), env: buildProxyEnv() });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    this.#log(output.trimEnd());
    if (code !== 0) throw new Error(`Dockerfile line ${step.line}: RUN ${step.content} exited with ${code}:\n${output}`);
  }

  /** UID and GID of a `user[:group]` as the image knows them (names or numbers). */
  #ids(spec: string): { uid: number; gid: number; home: string } {
    const [user = "root", group] = spec.split(":");
    const entry = /^\d+$/.test(user) ? this.#passwd.find((p) => p.uid === Number(user)) : this.#passwd.find((p) => p.name === user);
    if (!entry && !/^\d+$/.test(user)) throw new Error(`no user ${user} in the image`);
    const uid = entry?.uid ?? Number(user);
    let gid = entry?.gid ?? uid;
    if (group !== undefined) {
      const named = this.#groups.get(group);
      if (named === undefined && !/^\d+$/.test(group)) throw new Error(`no group ${group} in the image`);
      gid = named ?? Number(group);
    }
    return { uid, gid, home: entry?.home ?? "/" };
  }

  /**
   * Starts `argv` in a built stage as its container would (`docker run`, `docker exec`):
   * chrooted into the stage, as its USER, in its WORKDIR, with its ENV and nothing of this
   * process's environment. The child's pid is the program's own (every step execs).
   */
  spawn(built: BuiltStage, argv: string[], options: RunOptions = {}): ChildProcess {
    const { uid, gid, home } = this.#ids(options.user ?? built.config.user);
    // Docker's defaults, then the image's ENV, then `-e`.
    const env: Record<string, string> = { HOSTNAME: "replay", HOME: home, ...built.config.env, ...options.env };
    const cwd = options.cwd ?? built.config.workdir;
    return spawn(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        MOUNT_AND_CHROOT,
        "replay",
        built.root,
        this.#etc,
        options.npmCache ?? "",
        `--userspec=${uid}:${gid}`,
        `--groups=${gid}`,
        built.root,
        "/usr/bin/env",
        "-i",
        "-C",
        cwd,
        ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ...argv,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
  }

  /** Runs `argv` to its end in a built stage (see spawn): its exit code and output. */
  async exec(built: BuiltStage, argv: string[], options: RunOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = this.spawn(built, argv, options);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    return { code, stdout, stderr };
  }

  /** A path of a built stage's image, on this machine. */
  path(built: BuiltStage, imagePath: string): string {
    return this.#inside(built.root, imagePath);
  }
}

/** This machine's npm cache (`npm config get cache`), or "" when there is none. */
function npmCacheDir(): string {
  try {
    const dir = execFileSync("npm", ["config", "get", "cache"], { encoding: "utf8" }).trim();
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return "";
  }
}

/** The proxy settings Docker passes to RUN steps by itself (its predefined build arguments). */
function buildProxyEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "FTP_PROXY", "ALL_PROXY"]) {
    for (const key of [name, name.toLowerCase()]) {
      const value = process.env[key];
      if (value) env[key] = value;
    }
  }
  return env;
}
