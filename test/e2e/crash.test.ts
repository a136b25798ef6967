import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileStorageAdapter, type CorruptionReport } from "../../src/node/storage";
import { useWriterFixtures } from "./support/fixture";
import { EditorPage } from "./pages/EditorPage";

/**
 * F7: the host is killed (SIGKILL) while the writer types. The renderer's keystroke
 * broadcast reaches the host at once and the host's save debounce is 20 ms (sync, 50 ms,
 * is the backstop); we allow 150 ms for a loaded 2-core machine. Every keystroke older than
 * that must be on disk, and no file may be damaged.
 */
const SAVE_WINDOW_MS = 150;
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
      const typed: { ch: string; at: number }[] = [];
      const sentence = `Cycle ${cycle}: the keeper wrote by lamplight until the oil ran low. `;
      // Kill somewhere in the middle of the sentence, at a different place each cycle.
      const killAfter = 12 + cycle * 9;
      for (const ch of sentence) {
        await f.page.keyboard.type(ch);
        typed.push({ ch, at: Date.now() });
        if (typed.length === killAfter) break;
        await new Promise((r) => setTimeout(r, 15));
      }
      await new Promise((r) => setTimeout(r, 5));
      const killedAt = Date.now();
      await f.shell.kill();
      // Close the renderer before the host comes back: it must not re-upload what the host lost.
      await f.context.close();
      const mustHave = expected + typed.filter((t) => t.at <= killedAt - SAVE_WINDOW_MS).map((t) => t.ch).join("");
      const mayHave = expected + typed.map((t) => t.ch).join("");

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
