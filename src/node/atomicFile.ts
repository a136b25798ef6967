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
 * created, but failing with the real reason. Node's recursive mkdir reports ENOENT when
 * the disk is read-only, full or not ours (nodejs/node#47098, #42808, #31481), and "no
 * such file" is no way to tell a writer their disk is full: on ENOENT the first missing
 * directory is created alone, whose error is the true one.
 */
export async function makeDirectory(dir: string, mode?: number): Promise<string | undefined> {
  try {
    return await fs.mkdir(dir, { recursive: true, mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    let missing = dir;
    for (let parent = path.dirname(missing); parent !== missing; parent = path.dirname(missing)) {
      const exists = await fs.stat(parent).then(
        () => true,
        () => false,
      );
      if (exists) break;
      missing = parent;
    }
    // Throws EROFS, ENOSPC, EACCES... If it succeeds, something raced us: try once more.
    await fs.mkdir(missing, { mode });
    await fs.mkdir(dir, { recursive: true, mode });
    return missing;
  }
}
