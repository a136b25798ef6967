/**
 * The backup advice in sync-server/README.md, checked: copying the data directory while
 * the relay runs and compacts, rerunning while files vanish mid-copy (what rsync's
 * exit 24 loop does), gives a copy a relay opens with every document whole.
 */
import fs from "node:fs";
import path from "node:path";
import { next as A } from "@automerge/automerge";
import type { AutomergeUrl } from "@automerge/automerge-repo";
import { describe, expect, it } from "vitest";
import { addToken, eventually, storedOnDisk, tempDir, useRelays } from "../support/relay";
import { pace } from "../support/wait";

const { relay: startTracked, client } = useRelays();

/**
 * One pass of a copy like `rsync -a`, slowed to a file every few milliseconds as over a
 * network, so that compactions happen mid-pass: returns how many files vanished
 * between listing and reading.
 */
async function copyPass(from: string, to: string): Promise<number> {
  let vanished = 0;
  const walk = async (dir: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(from, dir));
    } catch {
      vanished++;
      return;
    }
    fs.mkdirSync(path.join(to, dir), { recursive: true });
    for (const name of names) {
      const rel = path.join(dir, name);
      if (rel === path.join("documents", "LOCK")) continue;
      let stat: fs.Stats;
      try {
        stat = fs.statSync(path.join(from, rel));
      } catch {
        vanished++;
        continue;
      }
      if (stat.isDirectory()) await walk(rel);
      else {
        // A copy slow enough that the relay writes and compacts files while it runs.
        await pace(8);
        try {
          fs.copyFileSync(path.join(from, rel), path.join(to, rel));
        } catch {
          vanished++;
        }
      }
    }
  };
  await walk(".");
  return vanished;
}

describe("backing up a running relay", () => {
  it("a live copy, rerun while files vanish, opens with every document whole", async () => {
    const dataDir = tempDir();
    const token = await addToken(dataDir, "writer");
    const relay = await startTracked({ dataDir });
    const writer = client(relay.url, token);
    const handles = Array.from({ length: 4 }, (_, i) => writer.create<{ text: string }>({ text: `doc ${i}: ` }));

    // Keep typing into every document (so the relay writes chunks and compacts them)
    // while copies are taken.
    let typing = true;
    const typist = (async () => {
      for (let n = 0; typing; n++) {
        for (const h of handles) h.change((d) => A.splice(d, ["text"], d.text.length, 0, `w${n} `));
        await pace(5);
      }
    })();
    // The copy starts once the relay has stored every document: one still on its way
    // (the writer's first sync queued behind its typing, on a busy machine) is rightly
    // missing from a copy, but is not what this test asks about.
    await storedOnDisk(relay.dataDir, handles.map((h) => h.documentId));
    // Back up again and again until a backup met a compaction mid-copy (a file listed,
    // then gone), so the rerun is exercised, not only the easy case.
    let backup = "";
    let passes = 0;
    let vanishedTotal = 0;
    const giveUpAt = Date.now() + 30_000;
    while (vanishedTotal === 0 && Date.now() < giveUpAt) {
      backup = tempDir("relay-backup-");
      passes = 0;
      for (;;) {
        passes++;
        const vanished = await copyPass(relay.dataDir, backup);
        vanishedTotal += vanished;
        if (vanished === 0) break;
      }
    }
    expect(vanishedTotal, "no compaction happened during any copy").toBeGreaterThan(0);
    typing = false;
    await typist;
    // What the writer had when the copy finished is at least what the copy holds.
    const finalTexts = handles.map((h) => h.doc().text);

    const restored = await startTracked({ dataDir: backup });
    const reader = client(restored.url, token);
    for (const [i, h] of handles.entries()) {
      const copy = await eventually(async () => (await reader.find<{ text: string }>(h.url as AutomergeUrl)).doc(), 15_000);
      // Whole: the document loads, and its text is a prefix of the writer's (typing only
      // appended), far along into the session.
      expect(finalTexts[i]!.startsWith(copy.text)).toBe(true);
      expect(copy.text.length).toBeGreaterThan(`doc ${i}: `.length);
    }
    expect(restored.logs()).not.toMatch(/quarantin|corrupt/i);
    console.log(`backup: ${passes} pass(es), ${vanishedTotal} file(s) vanished mid-copy`);
  });
});
