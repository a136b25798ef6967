import { describe, expect, it } from "vitest";
import type { SyncStatus } from "../../src/shared/api";
import { describeDocumentSync, describeSync } from "../../src/renderer/src/useSyncStatus";

const base: SyncStatus = { connection: "off", relay: null, error: null, retryAt: null, pending: 0, document: null };

describe("what the sync status says", () => {
  it("says 'all changes on' only when connected with nothing unconfirmed", () => {
    const relay = { id: "abcdef0123", name: "Team" };
    expect(describeSync({ ...base, connection: "connected", relay })).toEqual({ tone: "ok", text: "All changes on Team", detail: null });
    expect(describeSync({ ...base, connection: "connected", relay, pending: 2 })).toMatchObject({ tone: "busy", text: "Syncing with Team…", detail: expect.stringMatching(/^2 documents have changes/) });
    const notice = { code: "refused" as const, message: "Team: read-only token: changes refused", relayName: "Team" };
    expect(describeSync({ ...base, connection: "connected", relay, error: notice })).toMatchObject({ tone: "warn", detail: notice.message });
  });

  it("names why it cannot sync, as sentences, and when it tries again", () => {
    const error = { code: "unauthorized" as const, message: "Team: the relay did not accept this token (missing, wrong or revoked)", relayName: "Team" };
    const now = 1_000_000;
    expect(describeSync({ ...base, connection: "offline", error, retryAt: now + 4200 }, now)).toEqual({
      tone: "error",
      text: "Cannot sync",
      detail: "Team: the relay did not accept this token (missing, wrong or revoked). Trying again in 4 s.",
    });
    // The seconds count down as time passes, to the last one.
    const waiting = { ...base, connection: "offline" as const, error, retryAt: now + 4200 };
    expect([0, 1000, 2000, 3000, 4000, 4500].map((t) => describeSync(waiting, now + t).detail?.match(/in (\d+) s/)?.[1])).toEqual(["4", "3", "2", "1", "1", "1"]);
    const unreachable = { ...error, code: "unreachable" as const, message: "Team: nothing is listening at that address" };
    expect(describeSync({ ...base, connection: "offline", error: unreachable }, now)).toMatchObject({ tone: "warn", text: "Offline — edits are kept here" });
  });

  it("says nothing about relays when there are none, and where this document is otherwise", () => {
    expect(describeSync(base).text).toBe("On this computer only");
    expect(describeDocumentSync(base)).toBeNull();
    const relay = { id: "abcdef0123", name: "Team" };
    expect(describeDocumentSync({ ...base, connection: "connected", relay, document: "on-relay" })).toBe("On Team");
    expect(describeDocumentSync({ ...base, connection: "connected", relay, document: "pending" })).toBe("Sending to Team…");
    expect(describeDocumentSync({ ...base, connection: "offline" })).toMatch(/^Not synced/);
  });
});
