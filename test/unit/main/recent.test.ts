import { describe, expect, it } from "vitest";
import { dockMenu, jumpList, recentDocuments } from "../../../src/main/recent";
import { parseDeepLink } from "../../../src/main/deepLink";
import type { LibraryEntry } from "../../../src/shared/library";

/** Recent documents in the Dock menu (macOS) and the jump list (Windows). */
const entry = (n: number, over: Partial<LibraryEntry> = {}): LibraryEntry =>
  ({ url: `automerge:${["4NMNnkMhL8jXrdJ9jamS58PAVdXu", "2kxN9uFLsaYszvZmTv8CJcr3Xeoo"][n % 2]}`, title: `Chapter ${n}`, createdAt: n, updatedAt: n, trashedAt: null, snippet: `Words of ${n}`, words: 3, ...over }) as LibraryEntry;

describe("recent documents", () => {
  it("are the eight last edited, not trashed, newest first", () => {
    const entries = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`d${i}`, entry(i, i === 11 ? { trashedAt: 99 } : {})]));
    expect(recentDocuments(entries).map((e) => e.title)).toEqual(["Chapter 10", "Chapter 9", "Chapter 8", "Chapter 7", "Chapter 6", "Chapter 5", "Chapter 4", "Chapter 3"]);
  });

  it("open through a writer:// link from the jump list, which Writer reads as the document's", () => {
    const [category] = jumpList([entry(1, { title: "  A title\nthat goes on and on and on and on and on and on and on and on for ever  " })], "C:\\Writer\\Writer.exe");
    expect(category).toMatchObject({ type: "custom", name: "Recent documents" });
    const item = (category as { items: { title: string; program: string; args: string }[] }).items[0]!;
    expect(item.program).toBe("C:\\Writer\\Writer.exe");
    expect(parseDeepLink(item.args)).toEqual({ open: entry(1).url });
    expect(item.title.length).toBeLessThanOrEqual(60);
    expect(item.title).not.toContain("\n");
    expect(jumpList([], "x")).toEqual([]);
  });

  it("open in the running Writer from the Dock menu; an untitled one is called so", () => {
    const opened: string[] = [];
    const menu = dockMenu([entry(0, { title: "" })], (url) => opened.push(url));
    expect(menu[0]!.label).toBe("Untitled");
    menu[0]!.click!(undefined as never, undefined as never, undefined as never);
    expect(opened).toEqual([entry(0).url]);
  });
});
