import { describe, expect, it } from "vitest";
import { backupInArgs, readBackupCommand } from "../../../src/main/openFile";
import { parseDesktopCommand } from "../../../src/shared/desktopCommands";

/** A backup opened with Writer from the system is read in main and imported by the page. */
describe("a backup opened with Writer", () => {
  it("is found in a launch's command line, and nothing else is", () => {
    expect(backupInArgs(["/opt/Writer/writer", "/home/ada/Harbour log.automerge"])).toBe("/home/ada/Harbour log.automerge");
    expect(backupInArgs(["C:\\Writer\\Writer.exe", "--flag", "D:\\Docs\\Chapter.AUTOMERGE"])).toBe("D:\\Docs\\Chapter.AUTOMERGE");
    expect(backupInArgs(["/opt/Writer/writer.automerge"])).toBeNull(); // the program itself
    expect(backupInArgs(["writer", "--x=a.automerge", "writer://open/a.automerge", "notes.md"])).toBeNull();
  });

  it("becomes the page's command with its name and bytes; too large, unreadable or another type is refused in words", async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const io = (size: number, fail = false) => ({ size: async () => (fail ? Promise.reject(new Error("ENOENT")) : size), read: async () => bytes });
    expect(await readBackupCommand("/home/ada/Harbour log.automerge", io(3))).toEqual({ command: "open-file", name: "Harbour log.automerge", bytes });
    expect(await readBackupCommand("/home/ada/big.automerge", io(25 * 1024 * 1024))).toEqual({ refused: "“big.automerge” is larger than Writer imports (24 MB)." });
    expect(await readBackupCommand("/home/ada/gone.automerge", io(3, true))).toEqual({ refused: "“gone.automerge” could not be read: it may have been moved or deleted." });
    expect(await readBackupCommand("/home/ada/notes.md", io(3))).toHaveProperty("refused");
  });

  it("is checked again by the page: a name, not a path, of a backup, with its bytes", () => {
    const bytes = new Uint8Array([1]);
    expect(parseDesktopCommand({ command: "open-file", name: "A.automerge", bytes })).toEqual({ command: "open-file", name: "A.automerge", bytes });
    for (const bad of [
      { command: "open-file", name: "../A.automerge", bytes },
      { command: "open-file", name: "A.md", bytes },
      { command: "open-file", name: "A.automerge", bytes: [1] },
      { command: "open-file", name: "A.automerge" },
      { command: "open-file", name: "A.automerge", bytes, url: "x" },
      { command: "open-file", name: "A.automerge", bytes: new Uint8Array(25 * 1024 * 1024) },
    ])
      expect(parseDesktopCommand(bad)).toBeNull();
  });
});
