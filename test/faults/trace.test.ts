/**
 * P2: a real concurrent editing trace replayed between two desktop hosts through a
 * relay, each of the trace's two writers on their own host process. Every transaction
 * waits until the transactions it was written on top of have reached its writer's host
 * (through the relay, by the sync protocol), and is made on exactly that version (the
 * writer's own copy, hostCommands.ts) and handed to the host; both hosts must end with
 * the trace's final text, character for character.
 *
 * The trace: friendsforever (test/fixtures/traces/friendsforever.json.gz), from the public
 * `editing-traces` collection by Joseph Gentle and contributors, used under the CC BY
 * 4.0 licence (https://creativecommons.org/licenses/by/4.0/).
 */
import { afterEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { HostProcess } from "../support/host";
import { addToken, eventually, PROJECT_ROOT, useRelays } from "../support/relay";

interface ConcurrentTrace {
  kind: "concurrent";
  endContent: string;
  numAgents: number;
  txns: { parents: number[]; agent: number; patches: [number, number, string][] }[];
}

const TRACE = path.resolve(PROJECT_ROOT, "test/fixtures/traces/friendsforever.json.gz");

type Spans = { spans: string; text: string; heads: string[] };

const relays = useRelays();
const hosts: HostProcess[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.kill()));
});

describe("P2: trace replay", () => {
  // This replay found a sync stall in a few CI runs: both hosts "connected, all changes
  // on the relay", with different heads, and sync never resumed (a transaction waited
  // 60 s for its parents). The cause was not found; since then every hop restarts a sync
  // that stays silent while heads differ (resyncAfterMs, src/shared/sync/resync.ts), so
  // such a stall costs seconds. The relay's count of restarts is printed with the result.
  // The replay is processor-bound (26,078 changes made, synced and saved by three
  // processes): about 65 s alone on two cores, 210 s beside two other suites, and over
  // 300 s with a CPU hog as well. The bound only stops a replay that will not end.
  it("P2: the friendsforever trace, replayed by two hosts through a relay, ends with its endContent on both", { timeout: 600_000 }, async () => {
    const trace = JSON.parse(gunzipSync(fs.readFileSync(TRACE)).toString("utf8")) as ConcurrentTrace;
    expect(trace.kind).toBe("concurrent");
    expect(trace.numAgents).toBe(2);

    // Three processes busy for a minute or more: V8's optimising compiler pays there.
    const relay = await relays.relay({ longRunning: true });
    const token = await addToken(relay.dataDir, "p2");
    for (let agent = 0; agent < trace.numAgents; agent++) {
      const host = await HostProcess.start({ name: `agent ${agent}`, extension: "hostCommands", longRunning: true });
      hosts.push(host);
      await host.addRelay("relay", relay.url, token);
    }
    const [first, second] = hosts as [HostProcess, HostProcess];
    const url = await first.createDocument("friendsforever");
    await second.call("openSharedDocument", { url });
    // The empty document ("parents: []") is the one both hosts start from.
    const start = await first.ext<Spans>("spans", { url });
    await eventually(async () => (await second.ext<Spans>("spans", { url })).heads.join() === start.heads.join(), 30_000);

    const started = Date.now();
    const hashes: Promise<string>[] = new Array<Promise<string>>(trace.txns.length);
    const settle: ((hash: string) => void)[] = [];
    const fail: ((error: Error) => void)[] = [];
    trace.txns.forEach((_, i) => {
      hashes[i] = new Promise<string>((resolve, reject) => {
        settle[i] = resolve;
        fail[i] = reject;
      });
      // A transaction that failed fails its descendants; the test reports the first.
      hashes[i].catch(() => undefined);
    });
    // One writer per host, each replaying their own transactions in trace order, in
    // batches: a batch ends where a transaction builds on the other writer's work (it
    // is sent once that work's hashes are known; the host waits for the changes).
    const writers = hosts.map(async (host, agent) => {
      const mine = trace.txns.flatMap((txn, index) => (txn.agent === agent ? [{ ...txn, index }] : []));
      let batch: { index: number; parents: (string | number)[]; patches: [number, number, string][] }[] = [];
      const send = async () => {
        if (batch.length === 0) return;
        const sent = batch;
        batch = [];
        try {
          const result = await host.ext<string[]>("traceTxns", { url, txns: sent });
          sent.forEach((txn, k) => settle[txn.index]!(result[k]!));
        } catch (error) {
          for (const txn of sent) fail[txn.index]!(error as Error);
          throw error;
        }
        if (process.env.P2_PROGRESS) process.stderr.write(`agent ${agent}: ${sent.at(-1)!.index} at ${Date.now() - started} ms\n`);
      };
      for (const txn of mine) {
        const foreign = txn.parents.filter((p) => trace.txns[p]!.agent !== agent);
        if (foreign.length > 0 || batch.length >= 500) await send();
        const parents = txn.parents.length === 0 ? start.heads : await Promise.all(txn.parents.map((p) => (trace.txns[p]!.agent === agent ? p : hashes[p]!)));
        batch.push({ index: txn.index, parents, patches: txn.patches });
      }
      await send();
    });
    await Promise.all(writers);
    const replayMs = Date.now() - started;

    // Both hosts end with the trace's text, exactly, and the same history.
    const finals = await eventually(async () => {
      const all = await Promise.all(hosts.map((h) => h.ext<Spans>("spans", { url })));
      return all.every((f) => f.heads.join() === all[0]!.heads.join()) ? all : undefined;
    }, 60_000);
    for (const final of finals!) {
      expect(final.text.length).toBe(trace.endContent.length);
      expect(final.text === trace.endContent, "final text equals the trace's endContent").toBe(true);
    }
    // Nothing but the trace was written: one change per transaction, on top of the start.
    const unique = new Set(await Promise.all(hashes));
    expect(unique.size).toBe(trace.txns.length);
    const resyncs = relay.logs().split("\n").filter((line) => line.includes("sync with a peer stalled")).length;
    console.log(`P2: ${trace.txns.length} transactions (${trace.endContent.length} characters) replayed in ${(replayMs / 1000).toFixed(1)} s; stalled syncs restarted by the relay: ${resyncs}`);
  });
});
