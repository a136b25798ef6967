/**
 * The "other client" of bench/long-document/relay.ts, in its own process so that its
 * own load of the long document blocks only itself: a desktop host that adds the relay
 * and opens the shared document through it, as a writer opening a link does. Prints one
 * JSON line, `{ "start": wall ms, "end": wall ms, "words": n, "stallMs": n }`, and exits;
 * `stallMs` is the longest this host's event loop went without running a 5 ms timer
 * during the open: how long its other work (the writer's other documents, its window)
 * waited for this load.
 *
 *   tsx bench/long-document/open-through-relay.ts RELAY_URL TOKEN AUTOMERGE_URL
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { Host } from "../../src/host/Host";
import type { SyncStatus } from "../../src/shared/api";
import { wallClock } from "../propagation/protocol";
import { stallMeter } from "./stallMeter";

const [relayUrl, token, url] = process.argv.slice(2);
if (!relayUrl || !token || !url) throw new Error("usage: open-through-relay.ts RELAY_URL TOKEN AUTOMERGE_URL");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-long-opener-"));
const host = await Host.open({ dataDir: dir, logger: pino({ level: "silent" }) });
try {
  const added = await host.handle({ method: "addRelay", name: "Bench", url: relayUrl, token });
  if (!added.ok) throw new Error(added.error.message);
  // Connected first, so that what is timed is the open, not the connection.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await host.handle({ method: "syncStatus", url: null });
    if (status.ok && (status.value as SyncStatus).connection === "connected") break;
    if (Date.now() > deadline) throw new Error(`the relay did not connect within 30 s: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const meter = stallMeter();
  const start = wallClock();
  const opened = await host.handle({ method: "openSharedDocument", url });
  if (!opened.ok) throw new Error(opened.error.message);
  // The host fetches it (in its document worker: it has nothing of it on disk) and then
  // fills its library entry from it: the entry's word count says the document is here.
  const id = url.slice("automerge:".length);
  for (const deadline = Date.now() + 120_000; !(host.library.entries()[id]?.words ?? 0); ) {
    if (Date.now() > deadline) throw new Error("the document did not arrive");
    await new Promise((r) => setTimeout(r, 5));
  }
  const words = host.library.entries()[id]!.words;
  const end = wallClock();
  const stallMs = meter.stop();
  console.log(JSON.stringify({ start, end, words, stallMs: Math.round(stallMs) }));
} finally {
  await host.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
