// F2: clocks skewed by hours to a year. Hosts (and a relay) run under libfaketime, which
// moves the whole process's clock (Date.now, timers' wall time, file stamps it reads);
// the same concurrent edit script must merge to exactly what it merges to unskewed.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Edit, Inspection } from "../support/host-child";
import { useHosts, type HostProcess } from "../support/host";
import { addToken, eventually, tempDir, useRelays } from "../support/relay";

const hosts = useHosts();
const relays = useRelays();

const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;

/** Debian's libfaketime (`apt-get install faketime`). */
function libfaketime(): string {
  const candidates = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1"];
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found) throw new Error("F2 needs libfaketime: apt-get install faketime");
  return found;
}

/** The environment that runs a process `offsetMs` away from the real clock. */
function skew(offsetMs: number): Record<string, string> {
  if (offsetMs === 0) return {};
  const seconds = Math.round(offsetMs / 1000);
  return { LD_PRELOAD: libfaketime(), FAKETIME: `${seconds >= 0 ? "+" : ""}${seconds}s` };
}

const BASE = "The quick brown fox jumps over the lazy dog.";

/** Two rounds of concurrent edits, each side offline; every edit placed by its text. */
const SCRIPT: { a: Edit[]; b: Edit[] }[] = [
  {
    a: [{ insert: " very", after: "The quick" }, { mark: "strong", from: "brown", to: "fox" }, { split: "jumps" }],
    b: [{ delete: "quick " }, { insert: " sleepy", after: "the lazy" }, { mark: "em", from: "fox", to: "over" }, { split: "over" }],
  },
  {
    a: [{ insert: " (twice)", after: "jumps" }, { delete: "brown " }],
    b: [{ insert: ", indeed", after: "dog" }, { mark: "strong", from: "sleepy", to: "dog" }],
  },
];

interface RunResult {
  a: Inspection;
  b: Inspection;
  text: string;
  /** Each process's clock minus the real one, measured, in ms. */
  offsets: { a: number; b: number; relay: number };
}

async function offline(host: HostProcess): Promise<void> {
  const { relays } = await host.call<{ relays: { id: string }[] }>("getSettings");
  for (const relay of relays) await host.call("removeRelay", { id: relay.id });
}

/** The script, on two hosts and a relay whose clocks are off by the given amounts. */
async function run(clocks: { a: number; b: number; relay: number }): Promise<RunResult> {
  const relayDir = tempDir("relay-f2-");
  const token = await addToken(relayDir, "writer");
  const relay = await relays.relay({ dataDir: relayDir, env: skew(clocks.relay) });
  const a = await hosts.start({ name: "ada", env: skew(clocks.a) });
  const b = await hosts.start({ name: "bob", env: skew(clocks.b) });
  // The relay's log lines carry its clock (pino's "time").
  const relayTime = Number(/"time":(\d+)/.exec(relay.logs())?.[1]);
  const offsets = { a: (await a.clock()) - Date.now(), b: (await b.clock()) - Date.now(), relay: relayTime - Date.now() };
  await a.addRelay("Relay", relay.url, token);
  await b.addRelay("Relay", relay.url, token);

  const url = await a.createDocument("Skewed");
  await a.type(url, BASE);
  await b.call("openSharedDocument", { url });
  await eventually(async () => (await b.read(url)).text === BASE, 20_000, 200);

  for (const round of SCRIPT) {
    await offline(a);
    await offline(b);
    await a.editText(url, round.a);
    await b.editText(url, round.b);
    await a.addRelay("Relay", relay.url, token);
    await b.addRelay("Relay", relay.url, token);
    await eventually(async () => {
      const [x, y] = [await a.inspect(url), await b.inspect(url)];
      return JSON.stringify(x.heads) === JSON.stringify(y.heads) && x.changeTimes.length === y.changeTimes.length;
    }, 20_000, 200);
  }
  const result = { a: await a.inspect(url), b: await b.inspect(url), text: (await a.read(url)).text, offsets };
  expect((await b.read(url)).text).toBe(result.text);
  return result;
}

describe("clock skew", () => {
  it("F2: hosts hours and a year apart (relay skewed too) merge the concurrent script exactly as with true clocks", async () => {
    const unskewed = await run({ a: 0, b: 0, relay: 0 });
    // Both replicas agree, and the script did what it says (its outcome, written out).
    expect(unskewed.a.spans).toEqual(unskewed.b.spans);
    expect(unskewed.a.heads).toEqual(unskewed.b.heads);
    // A's " very" went in before the space B deleted with "quick ", and B's split before
    // "over" joined A's before "jumps": three paragraphs.
    expect(unskewed.text).toBe("The  veryfox \njumps (twice) \nover the lazy sleepy dog, indeed.");

    for (const clocks of [
      { a: -7 * HOUR, b: 5 * HOUR, relay: 3 * HOUR },
      { a: 365 * DAY, b: -365 * DAY, relay: 0 },
    ]) {
      const skewed = await run(clocks);
      // The clocks really were off: inside each host, and in the changes it wrote.
      expect(Math.abs(skewed.offsets.a - clocks.a)).toBeLessThan(60_000);
      expect(Math.abs(skewed.offsets.b - clocks.b)).toBeLessThan(60_000);
      expect(Math.abs(skewed.offsets.relay - clocks.relay)).toBeLessThan(60_000);
      const times = skewed.a.changeTimes;
      const now = Date.now();
      // Automerge stamps changes in seconds.
      expect(times.some((t) => Math.abs(t * 1000 - (now + clocks.a)) < 10 * 60_000)).toBe(true);
      expect(times.some((t) => Math.abs(t * 1000 - (now + clocks.b)) < 10 * 60_000)).toBe(true);

      // And none of it mattered: the same text, blocks and marks as the unskewed run, on both.
      expect(skewed.a.heads).toEqual(skewed.b.heads);
      expect(skewed.a.spans).toEqual(unskewed.a.spans);
      expect(skewed.b.spans).toEqual(unskewed.a.spans);
      expect(skewed.text).toBe(unskewed.text);
      expect(skewed.a.title).toBe("Skewed");
    }
  });

  it("F2: a host whose clock jumps a year back and forth between sessions keeps every word, in order", async () => {
    const dataDir = tempDir("host-f2-");
    let url = "";
    let expected = "";
    for (const [i, offset] of [365 * DAY, 0, -365 * DAY, 2 * HOUR].entries()) {
      const host = await hosts.start({ dataDir, env: skew(offset) });
      if (i === 0) url = await host.createDocument("Across time");
      for (let w = 0; w < 20; w++) {
        const word = `s${i}w${w} `;
        await host.type(url, word);
        expected += word;
      }
      expect((await host.read(url)).text).toBe(expected);
      expect(await host.stop()).toBe(0);
    }
    const host = await hosts.start({ dataDir });
    expect((await host.read(url)).text).toBe(expected);
    expect(fs.readdirSync(path.join(dataDir, "documents", "quarantine"))).toEqual([]);
  });
});
