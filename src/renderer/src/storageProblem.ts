import type { HostStatus } from "../../shared/api";

/** The storage banner's content: what went wrong with the disk, in the writer's words. */
export interface StorageBanner {
  headline: string;
  message: string;
  /** A banner about a problem that is over may be dismissed; one about a failing disk may not. */
  dismissible: boolean;
}

/**
 * What the banner says for the host's storage status, or null for nothing. `dismissed`
 * is how many problems the writer has dismissed. While saving fails, that failure is
 * what the banner says, even if a damaged file was found after it.
 */
export function describeStorage(status: HostStatus, dismissed = 0): StorageBanner | null {
  const { problems, storageOk } = status;
  if (!storageOk) {
    const failure = problems.findLast((p) => p.kind === "write-failed");
    return { headline: "Cannot save to disk.", message: failure?.message ?? "Your changes are kept and saving is retried.", dismissible: false };
  }
  if (problems.length <= dismissed) return null;
  const latest = problems[problems.length - 1]!;
  return {
    headline: latest.kind === "corrupt-chunk" ? "A damaged file was set aside." : "Saving failed earlier; it works again.",
    message: latest.message,
    dismissible: true,
  };
}
