// How a relay rereads its tokens (UpgradeGate.pollTokens): one read at a time, a poll
// asked for meanwhile run once after it, and a read that fails never the last one. The
// backend here answers when the test says, so that reads can be made to overlap.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { UpgradeGate } from "../../sync-server/UpgradeGate";
import { TokenWatch, type TokenBackend, type TokenRecord } from "../../sync-server/tokens";
import type { RelayServerAdapter } from "../../sync-server/RelayServerAdapter";
import { Metrics } from "../../sync-server/metrics";

const record = (name: string): TokenRecord => ({ name, hash: `${name}-hash`, access: "full", createdAt: "2026-01-01T00:00:00.000Z" });

/** Tokens whose every read waits until `answer()` (or `fail()`) settles the oldest one pending. */
function slowBackend() {
  let current: TokenRecord[] = [];
  const pending: { resolve: (value: TokenRecord[]) => void; reject: (error: Error) => void }[] = [];
  let reads = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const read = () =>
    new Promise<TokenRecord[]>((resolve, reject) => {
      reads++;
      mostInFlight = Math.max(mostInFlight, ++inFlight);
      pending.push({
        resolve: (v) => (inFlight--, resolve(v)),
        reject: (e) => (inFlight--, reject(e)),
      });
    });
  const backend: TokenBackend = {
    description: "the test's tokens",
    list: read,
    stamp: async () => JSON.stringify(await read()),
    add: () => Promise.reject(new Error("not here")),
    revoke: () => Promise.reject(new Error("not here")),
    lastUsed: async () => ({}),
    recordUse: async () => undefined,
  };
  return {
    backend,
    set: (records: TokenRecord[]) => void (current = records),
    /** Settles the oldest read with the tokens as they are now. */
    answer: () => pending.shift()!.resolve(current),
    fail: () => pending.shift()!.reject(new Error("connection stopped answering")),
    pendingCount: () => pending.length,
    get reads() {
      return reads;
    },
    get mostInFlight() {
      return mostInFlight;
    },
  };
}

function gateOver(tokens: TokenWatch) {
  const closed: string[] = [];
  const adapter = { closeWhere: (keep: (c: { hash: string; access: string }) => boolean) => (keep({ hash: "bob-hash", access: "full" }) ? 0 : (closed.push("bob"), 1)) } as unknown as RelayServerAdapter;
  const lines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
  const gate = new UpgradeGate({
    adapter,
    tokens,
    allowAnonymous: false,
    maxConnections: 10,
    limits: {} as never,
    maxPendingUpgrades: 10,
    requestTimeoutMs: 1000,
    trustProxy: false,
    logger,
    metrics: new Metrics(),
  });
  return { gate, closed, lines };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A gate whose tokens (bob's alone) were read at its opening: its two reads answered. */
async function withBob() {
  const db = slowBackend();
  db.set([record("bob")]);
  const watch = new TokenWatch(db.backend);
  const opening = watch.open();
  db.answer();
  await settle();
  db.answer();
  await opening;
  return { db, watch, ...gateOver(watch) };
}

describe("token polls", () => {
  it("never read twice at once, and a poll asked for during a read runs once after it, with what was true then", async () => {
    const { db, watch, gate, closed } = await withBob();

    const first = gate.pollTokens();
    await settle();
    // Bob is revoked while the first read waits; three more polls are asked for.
    db.set([]);
    const later = [gate.pollTokens(), gate.pollTokens(), gate.pollTokens()];
    await settle();
    expect(db.pendingCount()).toBe(1);
    db.answer();
    await settle();
    while (db.pendingCount() > 0) {
      expect(db.pendingCount()).toBe(1);
      db.answer();
      await settle();
    }
    await Promise.all([first, ...later]);
    expect(db.mostInFlight).toBe(1);
    expect(closed).toEqual(["bob"]);
    expect(watch.records).toEqual([]);
  });

  it("a read that fails is logged, keeps the tokens it had, and the next poll reads again", async () => {
    const { db, watch, gate, closed, lines } = await withBob();

    db.set([]);
    const failing = gate.pollTokens();
    await settle();
    const after = gate.pollTokens();
    db.fail();
    await failing;
    expect(lines.some((l) => l.includes("could not read the tokens") && l.includes("connection stopped answering"))).toBe(true);
    expect(watch.records.map((r) => r.name)).toEqual(["bob"]);
    await settle();
    while (db.pendingCount() > 0) {
      db.answer();
      await settle();
    }
    await after;
    expect(closed).toEqual(["bob"]);
  });
});
