// Why a window loads the host's saved copy of a document (issue 6, savedDocument): for
// each document bench/long-document/run.ts saved, `Automerge.load` of it against
// receiving its whole history through the sync protocol into an empty document (what a
// Repo that does not have the document gets from a peer that does), and a sync between
// two peers that both have it already (what follows the saved copy). Only
// `@automerge/automerge` and Node.
//
//   node bench/long-document/sync-vs-load.mjs
import fs from "node:fs";
import path from "node:path";
import { next as A } from "@automerge/automerge";

const results = path.join(import.meta.dirname, "results");

/** Runs the sync protocol between two documents until neither has anything to send. */
function sync(from, to) {
  let [a, b] = [from, to];
  let [sa, sb] = [A.initSyncState(), A.initSyncState()];
  let generateMs = 0;
  let receiveMs = 0;
  let bytes = 0;
  for (;;) {
    let t = performance.now();
    const [sa2, m1] = A.generateSyncMessage(a, sa);
    const [sb2, m2] = A.generateSyncMessage(b, sb);
    [sa, sb] = [sa2, sb2];
    generateMs += performance.now() - t;
    if (!m1 && !m2) break;
    t = performance.now();
    if (m1) [b, sb] = A.receiveSyncMessage(b, sb, m1);
    if (m2) [a, sa] = A.receiveSyncMessage(a, sa, m2);
    receiveMs += performance.now() - t;
    bytes += (m1?.length ?? 0) + (m2?.length ?? 0);
  }
  if (A.getHeads(a).join() !== A.getHeads(b).join()) throw new Error("sync did not converge");
  return { generateMs, receiveMs, bytes };
}

const ms = (n) => `${Math.round(n).toLocaleString("en-US")} ms`;
console.log("| document | saved bytes | `Automerge.load` | sync into an empty document (generate + apply) | bytes sent | sync when both have it |");
console.log("|---|---|---|---|---|---|");
for (const name of ["grouped", "per-keystroke"]) {
  const file = path.join(results, `${name}.automerge`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run bench:long-document first`);
  const bytes = fs.readFileSync(file);
  A.load(bytes); // the wasm warmed up, as in a running app
  let t = performance.now();
  const doc = A.load(bytes);
  const loadMs = performance.now() - t;
  if (A.getHeads(doc).length === 0) throw new Error(`${file} is empty`);
  const empty = sync(A.load(bytes), A.init());
  const both = sync(A.load(bytes), A.load(bytes));
  console.log(
    `| ${name} | ${bytes.length.toLocaleString("en-US")} | ${ms(loadMs)} | ${ms(empty.generateMs + empty.receiveMs)} (${ms(empty.generateMs)} + ${ms(empty.receiveMs)}) | ${empty.bytes.toLocaleString("en-US")} | ${ms(both.generateMs + both.receiveMs)}, ${both.bytes.toLocaleString("en-US")} bytes |`,
  );
}
