/**
 * Quitting while changes have not reached the disk (its writes are failing: full,
 * read-only, gone): Writer keeps them in memory and retries, so quitting would lose them.
 * Only then is the writer asked; otherwise Writer quits at once, after writing
 * everything out (src/main/index.ts, before-quit). A plain function, tested in Node.
 */
import type { HostStatus } from "../shared/api";

/** The question, or null when everything is on disk (or will be by the time Writer exits). */
export function quitQuestion(status: HostStatus): { type: "warning"; title: string; message: string; detail: string; buttons: string[]; defaultId: number; cancelId: number; noLink: true } | null {
  if (status.storageOk) return null;
  const latest = [...status.problems].reverse().find((p) => p.kind === "write-failed");
  return {
    type: "warning",
    title: "Changes not saved",
    message: "Some of your changes are not on the disk yet.",
    detail: `${latest ? `${latest.message}\n\n` : ""}Writer keeps them and tries again while it is open. If you quit now, they are lost, unless a relay already has them.`,
    buttons: ["Keep Writer Open", "Quit and Lose Them"],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
  };
}
