// Minimal reproduction for upstream (automerge/automerge): Automerge.load time grows
// much faster than the number of changes in a text document's history.
//
//   node bench/long-document/repro-load.mjs [TRACE] [60000,120000,180000,259778] [--group K]
//
// Replays an editing trace (default test/fixtures/traces/automerge-paper.json.gz: Martin
// Kleppmann's keystrokes writing a paper, CC BY 4.0) into one text field, one change
// per keystroke (as an editor binding commits by default), or K keystrokes a change
// with --group K; saves, and times Automerge.load of the saved bytes at each prefix
// length. Uses only @automerge/automerge and Node; nothing of Writer.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { gunzipSync } from "node:zlib";
import { next as A } from "@automerge/automerge";

const args = process.argv.slice(2);
const groupAt = args.indexOf("--group");
const group = groupAt >= 0 ? Number(args.splice(groupAt, 2)[1]) : 1;
const trace = JSON.parse(gunzipSync(readFileSync(args[0] || new URL("../../test/fixtures/traces/automerge-paper.json.gz", import.meta.url))).toString("utf8"));
const keystrokes = trace.txns.flatMap((t) => t.patches);
const sizes = (args[1] ?? `60000,120000,180000,${keystrokes.length}`).split(",").map(Number);

const pkg = createRequire(import.meta.url).resolve("@automerge/automerge").replace(/dist\/.*$/, "package.json");
console.log(`@automerge/automerge ${JSON.parse(readFileSync(pkg, "utf8")).version}, node ${process.version}, ${group} keystroke(s) per change`);
console.log("keystrokes\tchanges\tbytes\tload ms\tload ms per 1000 changes");

let doc = A.from({ text: "" });
let done = 0;
for (const n of sizes) {
  for (; done < n; done += group) {
    const batch = keystrokes.slice(done, Math.min(n, done + group));
    doc = A.change(doc, (d) => {
      for (const [pos, del, ins] of batch) A.splice(d, ["text"], pos, del, ins);
    });
  }
  const bytes = A.save(doc);
  const t = performance.now();
  A.load(bytes);
  const ms = performance.now() - t;
  const changes = A.getHeads(doc).length && Math.ceil(n / group);
  console.log(`${n}\t${changes}\t${bytes.length}\t${ms.toFixed(0)}\t${((ms / changes) * 1000).toFixed(2)}`);
}
