// What a benchmark reads about processes and disks: peak memory, CPU, bytes written, the
// size of a directory, the machine's load, child processes that answer with one JSON line.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

function statusField(pid: number | "self", field: string): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
  return line ? Number(/(\d+)/.exec(line)![1]) * 1024 : NaN;
}

/** Peak resident memory of a process since it started (the kernel's high-water mark, VmHWM), bytes. */
export function peakRss(pid: number | "self" = "self"): number {
  return statusField(pid, "VmHWM");
}

/** Resident memory now (VmRSS), bytes. */
export function rss(pid: number | "self" = "self"): number {
  return statusField(pid, "VmRSS");
}

/** Peak (VmHWM) and current (VmRSS) resident memory of a process, MiB. */
export function memoryMiB(pid: number | "self" = "self"): { peak: number; now: number } {
  return { peak: peakRss(pid) / 2 ** 20, now: rss(pid) / 2 ** 20 };
}

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time a process (all its threads) has used, ms. */
export function cpuMs(pid: number | "self" = "self"): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command (which may hold spaces), from field 3 on.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Busy and total clock ticks of the whole machine (/proc/stat), for how busy it was between two readings. */
export function machineTicks(): { busy: number; total: number } {
  const v = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
}

/** /proc/<pid>/io: wchar (bytes passed to write calls, files, pipes and sockets alike) and write_bytes (bytes the process caused to be sent to the block layer, page by page). */
export function procIo(pid: number | "self" = "self"): { wchar: number; writeBytes: number; syscw: number } {
  const io = Object.fromEntries(
    fs
      .readFileSync(`/proc/${pid}/io`, "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(": ") as [string, string]),
  );
  return { wchar: Number(io.wchar), writeBytes: Number(io.write_bytes), syscw: Number(io.syscw) };
}

/** Total size of the files under `dir`, and per top-level entry. */
export function dirBytes(dir: string): { total: number; files: number; byEntry: Record<string, number> } {
  const byEntry: Record<string, number> = {};
  let total = 0;
  let files = 0;
  const walk = (d: string, top: string | undefined) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      const key = top ?? entry.name;
      if (entry.isDirectory()) walk(full, key);
      else if (entry.isFile()) {
        const size = fs.statSync(full).size;
        total += size;
        files++;
        byEntry[key] = (byEntry[key] ?? 0) + size;
      }
    }
  };
  walk(dir, undefined);
  return { total, files, byEntry };
}

/** The load average, as `uptime` prints it. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
}

/**
 * Runs `node --import tsx script args…` and returns the last line it printed, parsed as
 * JSON. Its stderr passes through; it is killed after `timeoutMs`.
 */
export async function runJsonChild<T>(script: string, args: string[], timeoutMs: number, onSpawn?: (child: ChildProcess) => void): Promise<T> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  onSpawn?.(child);
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${path.basename(script)} ${args.join(" ")} exited with ${code}:\n${out}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as T;
}

export const fmt = (n: number, digits = 0): string => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20, 1)} MB`;
