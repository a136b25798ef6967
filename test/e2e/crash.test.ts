import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileStorageAdapter, type CorruptionReport } from "../../src/node/storage";
import { useWriterFixtures } from "./support/fixture";
import { EditorPage } from "./pages/EditorPage";
import { pace, quietPeriod } from "../support/wait";

/**
 * F7: the host is killed (SIGKILL) while the writer types. A writer alone in a document
 * has their typing grouped into one change per burst (editor/sync.ts TYPING_GROUP): a
 * burst is committed 500 ms after typing pauses, or after a second of typing without
 * a pause; the host then has it on disk within its 20 ms save debounce. So the save
 * debounce a writer sees is the commit bound plus the host's: we allow 150 ms beyond
 * the commit for a loaded 2-core machine. Each cycle types a few words, pauses, and
 * types on until the kill: every word typed before the pause must be on disk, what came
 * after may or may not be, and no file may be damaged.
 */
const SAVE_WINDOW_MS = 150;
/** TYPING_GROUP.idleMs: a pause this long ends a burst. */
const BURST_IDLE_MS = 500;
const CYCLES = 3;

describe("a host killed while the writer types", () => {
  const newWriter = useWriterFixtures();

  it("keeps every change older than the save debounce, and no file is corrupt", async () => {
    const f = await newWriter();
    let editor = await f.library.newDocument();
    await editor.setTitle("Crash log");
    let expected = "";

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await editor.focusEnd();
      const before = `Cycle ${cycle}: the keeper wrote `;
      const after = "by lamplight until the oil ran low. ";
      for (const ch of before) {
        await f.page.keyboard.type(ch);
        await pace(15);
      }
      await quietPeriod(BURST_IDLE_MS + SAVE_WINDOW_MS, "the writer pauses: the burst is committed and saved");
      // Then types on, and the host dies somewhere in the middle, at a different place each cycle.
      const killAfter = 5 + cycle * 9;
      for (const ch of after.slice(0, killAfter)) {
        await f.page.keyboard.type(ch);
        await pace(15);
      }
      await f.shell.kill();
      // Close the renderer before the host comes back: it must not re-upload what the host lost.
      await f.context.close();
      const mustHave = expected + before;
      const mayHave = expected + before + after.slice(0, killAfter);

      await f.restartShell("kill");
      await f.newPage();
      editor = new EditorPage(f.page);
      await editor.waitReady();
      const text = await editor.text.innerText();
      expect(text.startsWith(mustHave), `after kill ${cycle}: ${JSON.stringify(text)} lacks ${JSON.stringify(mustHave)}`).toBe(true);
      expect(mayHave.startsWith(text), `after kill ${cycle}: ${JSON.stringify(text)} is not what was typed`).toBe(true);
      expect(await editor.title.inputValue()).toBe("Crash log");
      expected = text;
    }

    // Every chunk on disk verifies: nothing was torn by the kills.
    expect(await f.shell.stop()).toBe(0);
    const corrupt: CorruptionReport[] = [];
    const storage = await FileStorageAdapter.open(path.join(f.dataDir, "documents"), { onCorrupt: (c) => corrupt.push(c) });
    const chunks = await storage.loadRange([]);
    await storage.close();
    expect(chunks.length).toBeGreaterThan(0);
    expect(corrupt).toEqual([]);
  });
});
