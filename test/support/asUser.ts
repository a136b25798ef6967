// Runs a test's child process as another user (root ignores file permissions, so F9's
// "permission denied" needs a host run as an ordinary user). That user must be able to
// read the checkout: wherever it sits (under /root, say), it is bind-mounted for the
// test at a place anyone can reach, and a checkout whose own files that user cannot read
// is reported plainly rather than failing deep inside Node's module loader.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEveryFile } from "./fileEnd";
import { PROJECT_ROOT } from "./relay";

/** Files a host child needs to start: its program, its loader and one of its modules. */
const NEEDED = ["test/support/host-child.ts", "node_modules/tsx/package.json", "node_modules/@automerge/automerge/package.json", "src/host/Host.ts"];

/** Bind mounts made here, unmounted when the test file ends. */
const mounts: string[] = [];
/** The project root each user reads, made once per test file. */
const byUser = new Map<string, string>();
afterEveryFile(() => {
  byUser.clear();
  for (const dir of mounts.splice(0)) {
    execFileSync("umount", ["-l", dir]);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});

/** Why `uid` cannot read the project at `root`, or null when it can. */
function unreadable(root: string, uid: number, gid: number): string | null {
  const check = `for (const f of ${JSON.stringify(NEEDED)}) require("node:fs").accessSync(require("node:path").join(process.argv[1], f), require("node:fs").constants.R_OK)`;
  const run = spawnSync(process.execPath, ["-e", check, root], { uid, gid, cwd: "/", encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
  if (run.error) return run.error.message;
  return run.status === 0 ? null : (run.stderr.split("\n").find((l) => /Error|EACCES|ENOENT/.test(l)) ?? `exit ${run.status}`);
}

/**
 * The project root as `uid` can read it: the checkout itself when it can, otherwise a
 * bind mount of it under the temp directory. Throws with the reason and the remedy when
 * neither works (not root, or the checkout's own files not readable by others).
 */
export function projectRootFor(uid: number, gid: number): string {
  const key = `${uid}:${gid}`;
  const known = byUser.get(key);
  if (known) return known;
  if (unreadable(PROJECT_ROOT, uid, gid) === null) {
    byUser.set(key, PROJECT_ROOT);
    return PROJECT_ROOT;
  }
  const holder = fs.mkdtempSync(path.join(os.tmpdir(), "writer-checkout-"));
  fs.chmodSync(holder, 0o755);
  const mounted = path.join(holder, "project");
  fs.mkdirSync(mounted);
  try {
    execFileSync("mount", ["--bind", PROJECT_ROOT, mounted], { stdio: "pipe" });
  } catch (error) {
    fs.rmSync(holder, { recursive: true, force: true });
    throw new Error(
      `This test runs a process as uid ${uid}, who cannot reach the checkout at ${PROJECT_ROOT} (${unreadable(PROJECT_ROOT, uid, gid)}), ` +
        `and it could not bind-mount the checkout somewhere that user can reach (it needs root with CAP_SYS_ADMIN): ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`,
    );
  }
  mounts.push(mounted);
  const reason = unreadable(mounted, uid, gid);
  if (reason !== null) {
    throw new Error(
      `This test runs a process as uid ${uid}, who cannot read the checkout's own files (${reason}). ` +
        `Make them readable by others (chmod -R o+rX ${PROJECT_ROOT}), or clone with a umask of 022.`,
    );
  }
  byUser.set(key, mounted);
  return mounted;
}
