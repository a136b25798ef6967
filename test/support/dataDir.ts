// What a host's or relay's data directory holds, read straight from the disk.
import fs from "node:fs";
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
