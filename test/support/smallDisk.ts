import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEveryTest } from "./fileEnd";
import { tempDir } from "./relay";

/** Small file systems mounted by a test, unmounted after it whatever happened. */
const mounts: string[] = [];
afterEveryTest(() => {
  // Lazy: a host still holding a file there is killed by useHosts' own afterEach.
  for (const dir of mounts.splice(0)) execFileSync("umount", ["-l", dir]);
});

/**
 * A tmpfs of `size` mounted on a fresh directory: a disk that really fills up (ENOSPC)
 * and really turns read-only (EROFS), as no chmod does for a root test runner. Needs
 * root (CAP_SYS_ADMIN), as CI has.
 */
export function smallDisk(size: string): { dir: string; fill(): void; free(): void; readOnly(on: boolean): void } {
  const dir = tempDir("small-disk-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    throw new Error(`The test needs to mount a tmpfs (root with CAP_SYS_ADMIN): ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
  mounts.push(dir);
  const filler = path.join(dir, "filler");
  return {
    dir,
    fill() {
      // Down to the last byte: big writes until one fails, then ever smaller ones.
      const fd = fs.openSync(filler, "a");
      try {
        for (let size = 1 << 20; size >= 1; size >>= 1) {
          try {
            for (;;) fs.writeSync(fd, Buffer.alloc(size, 1));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    readOnly(on) {
      // A remount to read-only is refused ("mount point is busy") while a file on it is
      // open for writing: the host writes for a few milliseconds at a time, so retry.
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          execFileSync("mount", ["-o", `remount,${on ? "ro" : "rw"}`, dir], { stdio: "pipe" });
          return;
        } catch (error) {
          if (Date.now() > deadline || !String((error as { stderr?: Buffer }).stderr ?? "").includes("busy")) throw error;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        }
      }
    },
  };
}

