import fs from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";

/**
 * Replaces `file` with `data` atomically and durably: a temp file beside it, fsync,
 * rename, fsync of the directory. A reader sees the old content or the new, never a
 * mix, and a crash leaves one of the two. For small files (settings, secrets, token
 * lists); the directory is created (owner only) if missing.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  await makeDirectory(dir, 0o700);
  const tmp = path.join(dir, `.${path.basename(file)}-${randomBytes(6).toString("hex")}.tmp`);
  const handle = await fs.open(tmp, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Makes a rename or a new entry in `dir` durable: fsync of the directory itself. */
export async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory to flush it; NTFS journals the rename itself.
  if (process.platform === "win32") return;
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * `fs.mkdir(dir, { recursive: true })`, resolving like it with the first directory it
 * created (undefined when `dir` was there), but made one level at a time, for two
 * reasons. Node's recursive mkdir reports ENOENT when the disk is read-only, full or not
 * ours (nodejs/node#47098, #42808, #31481), and "no such file" is no way to tell a
 * writer their disk is full; here each error is the kernel's own for that directory.
 * And Node 20's never settles for a path under /proc (`fs.promises.mkdir("/proc/x",
 * { recursive: true })` hangs), where this fails at once.
 */
export async function makeDirectory(dir: string, mode?: number): Promise<string | undefined> {
  const made = async (target: string): Promise<boolean> => {
    try {
      await fs.mkdir(target, { mode });
      return true;
    } catch (error) {
      // Already there (or made by someone else meanwhile): fine if it is a directory.
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && (await fs.stat(target).then((s) => s.isDirectory(), () => false))) return false;
      throw error;
    }
  };
  try {
    return (await made(dir)) ? dir : undefined;
  } catch (error) {
    const parent = path.dirname(dir);
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === dir) throw error;
    // A missing parent: make the parents, then this one (a second ENOENT is the kernel's no).
    const first = await makeDirectory(parent, mode);
    return (await made(dir)) ? (first ?? dir) : first;
  }
}
