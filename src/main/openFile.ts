/**
 * A backup opened with Writer from the system (its file type is registered by
 * electron-builder.yml): found in a launch's command line (Windows, Linux) or given by
 * macOS's open-file, read here, and handed to the page, which imports it as if chosen in
 * Import… (asking, for a document the library has, whether to merge). Plain functions,
 * tested in Node (test/unit/main/openFile.test.ts).
 */
import { BACKUP_MAX_BYTES } from "../shared/api";
import { OPENABLE_FILE, type OpenFileCommand } from "../shared/desktopCommands";

/** A path's last part, with either separator (a Windows path is read the same on every system). */
const baseName = (file: string) => file.split(/[\\/]/).pop() ?? "";

/** The backup file in a command line, if any (not an option, not a link). */
export function backupInArgs(argv: readonly string[]): string | null {
  for (const arg of argv.slice(1)) if (typeof arg === "string" && !arg.startsWith("-") && !arg.includes("://") && OPENABLE_FILE.test(baseName(arg))) return arg;
  return null;
}

/** The command that imports `file`, or why it cannot be opened, in words for the writer. */
export async function readBackupCommand(file: string, io: { size(file: string): Promise<number>; read(file: string): Promise<Uint8Array> }): Promise<OpenFileCommand | { refused: string }> {
  const name = baseName(file);
  if (!OPENABLE_FILE.test(name)) return { refused: `Writer opens its own backups (.automerge), not “${name.slice(0, 80)}”.` };
  let size: number;
  try {
    size = await io.size(file);
  } catch {
    return { refused: `“${name}” could not be read: it may have been moved or deleted.` };
  }
  if (size > BACKUP_MAX_BYTES) return { refused: `“${name}” is larger than Writer imports (24 MB).` };
  try {
    return { command: "open-file", name, bytes: await io.read(file) };
  } catch {
    return { refused: `“${name}” could not be read.` };
  }
}
