import { useEffect, useState } from "react";
import type { SyncStatus } from "../../shared/api";
import { setRelayConnected } from "./fastPath";
import type { HostClient } from "./hostClient";

const POLL_MS = 1000;

/** The host's view of relay sync, asked for once a second (and for `url`, if open). */
export function useSyncStatus(host: HostClient, url: string | null): SyncStatus | null {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = () => {
      host.call("syncStatus", { url }).then(
        (next) => {
          if (cancelled) return;
          setRelayConnected(next.connection === "connected");
          // The same answer must not re-render the window every second.
          setStatus((prev) => (prev && JSON.stringify(prev) === JSON.stringify(next) ? prev : next));
          timer = setTimeout(poll, POLL_MS);
        },
        () => {
          if (!cancelled) timer = setTimeout(poll, POLL_MS);
        },
      );
    };
    poll();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [host, url]);
  return status;
}

export type SyncTone = "off" | "ok" | "busy" | "warn" | "error";

/** The sidebar's one line about syncing, in the writer's words. */
export function describeSync(status: SyncStatus | null, now = Date.now()): { tone: SyncTone; text: string; detail: string | null } {
  if (!status) return { tone: "off", text: "", detail: null };
  const name = status.relay?.name ?? "the relay";
  switch (status.connection) {
    case "off":
      return { tone: "off", text: "On this computer only", detail: "Add a relay in Settings to sync and share." };
    case "connecting":
      return { tone: "busy", text: `Connecting to ${name}…`, detail: status.error?.message ?? null };
    case "offline": {
      const retry = status.retryAt ? Math.max(1, Math.round((status.retryAt - now) / 1000)) : null;
      const tone: SyncTone = status.error && status.error.code !== "unreachable" && status.error.code !== "timeout" ? "error" : "warn";
      return {
        tone,
        text: tone === "error" ? "Cannot sync" : "Offline — edits are kept here",
        detail: [status.error ? sentence(status.error.message) : null, retry ? `Trying again in ${retry} s.` : null].filter(Boolean).join(" ") || null,
      };
    }
    case "connected":
      // The relay kept the connection but refused something (a read-only token's changes).
      if (status.error) return { tone: "warn", text: `Connected to ${name}, with a problem`, detail: status.error.message };
      return status.pending > 0
        ? { tone: "busy", text: `Syncing with ${name}…`, detail: `${status.pending} ${status.pending === 1 ? "document has" : "documents have"} changes ${name} has not confirmed yet.` }
        : { tone: "ok", text: `All changes on ${name}`, detail: null };
  }
}

/** The editor's status bar: where this document's changes are. */
export function describeDocumentSync(status: SyncStatus | null): string | null {
  if (!status || status.connection === "off") return null;
  const name = status.relay?.name ?? "the relay";
  if (status.connection !== "connected") return "Not synced — will sync when a relay is reachable";
  return status.document === "on-relay" ? `On ${name}` : `Sending to ${name}…`;
}

/** The host's reasons are phrases; shown before another sentence they need a full stop. */
function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
