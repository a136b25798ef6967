// What a host's or relay's data directory holds, read straight from the disk.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeChunk } from "../../src/node/storage/chunkFile";

export interface DiskReport {
  /** Chunk files (relative to the storage directory), quarantine excluded. */
  chunks: string[];
  /** Chunk files that do not verify, with the reason. */
  bad: { file: string; reason: string }[];
  /** Files in the quarantine directory. */
  quarantined: string[];
  /** Leftover temp files of interrupted writes. */
  temp: string[];
}

/** Checks every chunk file under `storageDir` (a host's `<data>/documents`, a relay's data directory). */
export function inspectStorage(storageDir: string): DiskReport {
  const report: DiskReport = { chunks: [], bad: [], quarantined: [], temp: [] };
  const quarantine = path.join(storageDir, "quarantine");
  if (fs.existsSync(quarantine)) report.quarantined = fs.readdirSync(quarantine).sort();
  for (const entry of fs.readdirSync(storageDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(storageDir, full);
    if (relative.startsWith(`quarantine${path.sep}`)) continue;
    if (entry.name.startsWith(".tmp-")) report.temp.push(relative);
    if (!entry.name.endsWith(".chunk")) continue;
    report.chunks.push(relative);
    const decoded = decodeChunk(fs.readFileSync(full));
    if (!decoded.ok) report.bad.push({ file: relative, reason: decoded.reason });
  }
  report.chunks.sort();
  return report;
}

/** The chunk files of one document (relative paths), e.g. to damage one. */
export function documentChunks(storageDir: string, documentId: string): string[] {
  return inspectStorage(storageDir).chunks.filter((file) => file.split(path.sep)[1] === documentId);
}

/**
 * A data directory six levels down inside a fresh temp directory of its own (`root`), so
 * that a path escaping the data directory by `..` (up to six levels, more than any key
 * or link a test sends has) lands inside `root`, where `outside()` finds it. Checking
 * the data directory itself could never find a file written outside it.
 */
export interface WalledDataDir {
  root: string;
  dataDir: string;
  /** Every file and directory under `root` that is not the data directory or inside it. */
  outside(): string[];
}

export function walledDataDir(prefix: string): WalledDataDir {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dataDir = path.join(root, "1", "2", "3", "4", "5", "6", "data");
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const walls = new Set(["1", "2", "3", "4", "5", "6"].map((_, i, all) => path.join(...all.slice(0, i + 1))));
  return {
    root,
    dataDir,
    outside: () => {
      const found: string[] = [];
      for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
        const relative = path.relative(root, path.join(entry.parentPath, entry.name));
        const inData = relative === path.relative(root, dataDir) || relative.startsWith(path.relative(root, dataDir) + path.sep);
        if (!inData && !walls.has(relative)) found.push(relative);
      }
      return found.sort();
    },
  };
}
