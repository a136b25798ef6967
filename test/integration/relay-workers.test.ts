// Long documents load, sync and save in a document worker (issue 6), so a writer on a
// small document never waits for someone else's long one. Here, with a low
// --worker-threshold-bytes, a document that is long on disk is routed to the worker when
// a client asks for it, two clients co-edit it through the worker, small documents stay
// on the main thread and keep syncing, and what the worker passed on is on disk.
// (`npm test` also runs the relay's document tests with every document in a worker.)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as A from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { addToken, documentFiles, eventually, metric, PROJECT_ROOT, tempDir, useRelays } from "../support/relay";

const { relay, client } = useRelays();

/** Types at the end of the text, as an editor does (a whole-string assignment would be last-writer-wins). */
const append = (words: string) => (d: Doc) => A.splice(d, ["text"], d.text.length, 0, words);

interface Doc {
  text: string;
}

describe("relay document workers", () => {
  it("routes a long document to a worker, syncs it there, and stores before passing changes on", async () => {
    const args = ["--workers", "1", "--worker-threshold-bytes", "512", "--save-debounce-ms", "2000"];
    const first = await relay({ args });
    const token = await addToken(first.dataDir, "alice");
    const writer = client(first.url, token);
    // Long: 400 changes (about 1 KB saved); small: one change (about 170 bytes).
    const long = writer.create<Doc>({ text: "" });
    for (let i = 0; i < 400; i++) long.change(append(`word ${i} `));
    const small = writer.create<Doc>({ text: "small" });
    // New documents are small when the relay first sees them: on the main thread.
    await eventually(async () => (await metric(first.url, "relay_documents_in_memory")) >= 2, 10_000, 200);
    expect(await metric(first.url, "relay_worker_documents_routed_total")).toBe(0);
    await writer.flush();
    await eventually(() => documentFiles(first.dataDir).length >= 2, 10_000, 200);
    // No document needed a worker: none was started (each costs processor time and memory).
    expect(first.logs()).not.toContain("document worker ready");
    expect(await first.stop()).toBe(0);
    await writer.shutdown().catch(() => undefined);

    // Restarted: the long document is now long on disk, and goes to the worker.
    const second = await relay({ dataDir: first.dataDir, args });
    const a = client(second.url, token);
    const b = client(second.url, token);
    const atA = await eventually(() => a.find<Doc>(long.url), 10_000, 250);
    expect(atA.doc().text).toContain("word 399 ");
    expect(await metric(second.url, "relay_worker_documents_routed_total")).toBe(1);
    expect(second.logs()).toContain("document worker ready");
    await eventually(async () => (await metric(second.url, "relay_worker_documents_in_memory", '{worker="0"}')) === 1, 5_000, 200);

    // Two clients co-edit it through the worker, while a small document syncs on the main thread.
    const atB = await eventually(() => b.find<Doc>(long.url), 10_000, 250);
    atA.change(append("from a. "));
    atB.change(append("from b. "));
    await eventually(() => atA.doc().text.includes("from b.") && atB.doc().text.includes("from a."), 10_000);
    const smallAtB = await eventually(() => b.find<Doc>(small.url), 10_000, 250);
    expect(smallAtB.doc().text).toBe("small");
    smallAtB.change((d) => (d.text = "small, edited"));
    const smallAtA = await eventually(() => a.find<Doc>(small.url), 10_000, 250);
    await eventually(() => smallAtA.doc().text === "small, edited", 10_000);
    expect(await metric(second.url, "relay_worker_documents_routed_total")).toBe(1);

    // The relay passes a change on only once it is on its disk (here: the worker's flush,
    // asked for by the main thread), whatever the 2 s save debounce. So the second of two
    // quick edits, which the debounce alone would still hold, survives a SIGTERM right after.
    atA.change(append("nearly "));
    await eventually(() => atB.doc().text.includes("nearly "), 10_000, 20);
    atA.change(append("last words."));
    await eventually(() => atB.doc().text.includes("last words."), 10_000, 20);
    expect(await second.stop()).toBe(0);
    expect(second.logs()).not.toMatch(/"level":50/);

    const third = await relay({ dataDir: first.dataDir, args });
    const reader = client(third.url, token);
    const read = await eventually(() => reader.find<Doc>(long.url), 10_000, 250);
    expect(read.doc().text).toContain("from a. ");
    expect(read.doc().text).toContain("from b. ");
    expect(read.doc().text.endsWith("last words.")).toBe(true);
  });

  it("refuses to start, saying why, when its install lacks the document workers' program", () => {
    // The shipped relay, copied without workers/ (inside the project, so that its packages resolve).
    const parent = path.join(PROJECT_ROOT, "node_modules", ".cache");
    fs.mkdirSync(parent, { recursive: true });
    const copy = fs.mkdtempSync(path.join(parent, "relay-without-workers-"));
    try {
      fs.copyFileSync(path.join(PROJECT_ROOT, "sync-server/dist/cli.mjs"), path.join(copy, "cli.mjs"));
      const broken = spawnSync(process.execPath, [path.join(copy, "cli.mjs"), "--data", tempDir(), "--port", "0", "--workers", "1"], { encoding: "utf8", timeout: 30_000 });
      expect(broken.status).toBe(3);
      expect(broken.stdout).toContain("the document workers' program is missing");
      expect(broken.stdout).toContain("--workers 0");
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
