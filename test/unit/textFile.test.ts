import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { decodeTextFile, NotTextError } from "../../src/shared/convert/textFile";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("reading a file to import as text", () => {
  it("reads UTF-8, with or without a byte-order mark, and UTF-16 with one", () => {
    expect(decodeTextFile(utf8("Ça va — oui."), "a.txt")).toBe("Ça va — oui.");
    expect(decodeTextFile(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8("# Title")]), "a.md")).toBe("# Title");
    const le = new Uint8Array([0xff, 0xfe, ...Array.from("Hé", (c) => [c.charCodeAt(0), 0]).flat()]);
    expect(decodeTextFile(le, "a.txt")).toBe("Hé");
  });

  it("refuses a PNG renamed notes.md, saying what it is", () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...randomBytes(3000)]);
    expect(() => decodeTextFile(png, "notes.md")).toThrow(NotTextError);
    expect(() => decodeTextFile(png, "notes.md")).toThrow("“notes.md” is a PNG image, not text. Writer imports Markdown, HTML and plain text. Nothing was imported.");
  });

  it("refuses a Writer backup with the wrong name, and says how to import it", () => {
    expect(() => decodeTextFile(new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]), "chapter.txt")).toThrow("Rename it to end in .automerge");
  });

  it("refuses random bytes, and text in another encoding, naming the first bad byte", () => {
    for (let seed = 0; seed < 20; seed++) expect(() => decodeTextFile(new Uint8Array(randomBytes(4000)), "random.txt")).toThrow(NotTextError);
    const latin1 = new Uint8Array([...utf8("caf"), 0xe9, ...utf8(" noir")]);
    expect(() => decodeTextFile(latin1, "old.txt")).toThrow("“old.txt” is not UTF-8 text (byte 4 of 9 is not)");
  });

  it("refuses valid UTF-8 full of control characters, and drops a stray one from real text", () => {
    expect(() => decodeTextFile(utf8("a\u0000b"), "nul.txt")).toThrow("holds binary data");
    expect(() => decodeTextFile(utf8("\u0001\u0002\u0003\u0004 text"), "ctl.txt")).toThrow("holds binary data");
    expect(decodeTextFile(utf8(`Chapter one.\f${"word ".repeat(500)}\u0007`), "book.txt")).toBe(`Chapter one.\f${"word ".repeat(500)}`);
  });
});
