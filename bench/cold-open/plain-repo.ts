/**
 * The baseline of bench/cold-open, in a fresh process of its own as the Writer side is: a
 * plain automerge-repo Repo with no storage (nothing on disk, nothing to write) and stock
 * settings, connected to the same relay with automerge-repo's WebSocket client adapter,
 * fetching the same document. Connected first, so that what is timed is the fetch: from
 * `find` to the document ready. Prints one JSON line, `{ "ms": n, "chars": n }`.
 *
 *   tsx bench/cold-open/plain-repo.ts RELAY_URL TOKEN AUTOMERGE_URL
 */
import { Repo, type AutomergeUrl } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import type { WriterDocument } from "../../src/shared/document";

const [relayUrl, token, url] = process.argv.slice(2);
if (!relayUrl || !token || !url) throw new Error("usage: plain-repo.ts RELAY_URL TOKEN AUTOMERGE_URL");
const repo = new Repo({ network: [new WebSocketClientAdapter(`${relayUrl}/?token=${encodeURIComponent(token)}`)] });
for (const deadline = Date.now() + 30_000; repo.peers.length === 0; ) {
  if (Date.now() > deadline) throw new Error("the relay did not connect within 30 s");
  await new Promise((r) => setTimeout(r, 10));
}
const start = performance.now();
const handle = await repo.find<WriterDocument>(url as AutomergeUrl);
const chars = handle.doc().text.length;
const ms = performance.now() - start;
console.log(JSON.stringify({ ms, chars }));
await repo.shutdown();
process.exit(0);
