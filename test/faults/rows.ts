// The rows of ../shared/FAILURE-MODES.md, as the fault suite reports them. A test in
// test/faults names its row at the start of its name ("F4: ..."); the reporter
// (reporter.ts) prints one line per row: its fault, what happened, and how long it took.

export interface Row {
  /** What goes wrong. */
  fault: string;
  /** What we promise happens. */
  promise: string;
}

export const ROWS: Record<string, Row> = {
  F1: { fault: "two writers edit the same paragraph at once, online", promise: "both edits kept, same result on both sides, formatting intent preserved" },
  F2: { fault: "clocks skewed by hours to a year between machines", promise: "merge identical to the no-skew run; nothing ordered by wall clock" },
  F3: { fault: "a long offline session while others edit the same document", promise: "reconnect merges everything; nothing lost on either side" },
  F4: { fault: "relay SIGKILLed mid-session and restarted", promise: "clients reconnect by themselves, nothing lost, typing never blocked" },
  F5: { fault: "relay dies for good; clients fail over to a second relay", promise: "within seconds the second relay has everything; clients converge" },
  F6: { fault: "client reconnects to a different relay than before", promise: "resumes by the sync protocol, no duplicate or missing text" },
  F7: { fault: "desktop host SIGKILLed while the writer types", promise: "every change older than the save debounce is there; no corrupt file" },
  F8: { fault: "torn write: a chunk file truncated or filled with garbage", promise: "clear error naming the document; good chunks load; bad one quarantined; relay copy restores" },
  F9: { fault: "disk full or permission denied while saving", promise: "visible error; edits kept in memory and retried; nothing silently dropped" },
  F10: { fault: "a second app instance on the same data directory", promise: "refused with a clear message (lock)" },
  F11: { fault: "relay restarts while a client connects during its start-up", promise: "the client syncs as soon as the relay is ready" },
  F12: { fault: "network partition between relay peers, then heal", promise: "relays converge; clients never notice beyond latency" },
  F13: {
    fault: "the relay's disk fills up or fails while writers type",
    promise: "the relay never confirms a change that is not on its disk; /healthz says why; writers see it cannot save; after a crash and a freed disk nothing is lost",
  },
  F14: {
    fault: "a relay document worker thread dies while saving",
    promise: "no reply of the lost copy confirms anything; its writers sync again at once from the disk; nothing they were told was stored is lost",
  },
  F15: { fault: "a relay killed during a partition from its peer, then healed", promise: "what its peer still needs is on disk before a change is confirmed; after the restart and the heal the peer gets it" },
  F16: {
    fault: "the editor view and the document disagree (restore, import into an open document, replace-all, undo across a collaborator's edit)",
    promise: "after every transaction the view equals the document's rendering; a mismatch re-renders from the document and is logged",
  },
  S1: { fault: "no token, bad token, revoked token", promise: "HTTP 401 at upgrade; nothing loaded, nothing stored" },
  S2: { fault: "token revoked while connected", promise: "the live connection is closed within seconds" },
  S3: { fault: "read-only token sends changes", promise: "changes refused; the relay's document unchanged" },
  S4: { fault: "join reusing another connection's peer ID", promise: "refused; the original connection keeps working" },
  S5: { fault: "invalid CBOR, CBOR null, wrong shapes, unknown protocol version", promise: "that connection closed with a reason; relay up for everyone else" },
  S6: { fault: "oversized frame; message flood; sockets that never join", promise: "closed or throttled; relay memory bounded" },
  S7: { fault: "hostile document or storage IDs", promise: "rejected; no file outside the data directory; no prototype pollution" },
  S8: { fault: "a flood of requests for random document IDs", promise: "answered unavailable cheaply; nothing created on disk" },
  S9: { fault: "a hostile document (script, javascript: link, huge lists)", promise: "rendered inert; UI stays responsive" },
  S10: { fault: "renderer compromised (XSS)", promise: "cannot read tokens, files or call Node; IPC validates payload and sender" },
  S11: {
    fault: "one token opens every connection slot; joined sockets stay silent; upgrades never finish",
    promise: "a per-token limit (HTTP 429), an idle timeout, request timeouts and a cap on pending upgrades: other writers still connect",
  },
  S12: {
    fault: "a connection holds large waiting requests, queued frames or unsaved changes",
    promise: "a byte budget per connection and per relay: slowed, then closed with a reason; bytes in /metrics; relay RSS bounded",
  },
  S13: { fault: "ephemeral messages claiming another sender, or absurd counts", promise: "not forwarded: each sender is bound to the connection it first spoke through; a connection speaks for at most 32" },
  S14: {
    fault: "a relay dial ID taken by a token holder; the shell's credential read by another port",
    promise: "relay peer IDs only for relay tokens; the shell's token lives in its tab, never in a cookie; Origin and Host are checked",
  },
  P1: { fault: "random concurrent rich-text edits, delivery order, disconnects, restarts", promise: "all replicas converge; no persisted change missing" },
  P2: { fault: "a real concurrent trace replayed between two hosts through a relay", promise: "both end with the trace's endContent" },
  P3: { fault: "host SIGKILLed at random moments while a writer types (soak)", promise: "every change older than the save debounce present; every document loads" },
};

/**
 * Rows the team has added to FAILURE-MODES.md whose tests are still owed, with the issue
 * that builds them. The matrix test (matrix.test.ts) accepts a row here in place of a
 * test, refuses one that also has a test (move it to ROWS then), and the reporter lists
 * each as owed, so that a promise without a test never reads as kept.
 */
export const OWED: Record<string, { fault: string; issue: string }> = {};

/** The row a test belongs to: the ID its name starts with ("F4: ..."), or undefined. */
export function rowOf(testName: string): string | undefined {
  const match = /^([FSP]\d+)\b/.exec(testName);
  const id = match?.[1];
  return id !== undefined && id in ROWS ? id : undefined;
}
