import { next as A } from "@automerge/automerge";
import { Repo, type AutomergeUrl, type DocHandle } from "@automerge/automerge-repo";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DocumentNotFoundError, initLibrary, Library } from "../../src/host/Library";
import { initDocument, plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { activeEntries, trashedEntries, type LibraryDocument } from "../../src/shared/library";

let repo: Repo;
let libraryHandle: DocHandle<LibraryDocument>;
let library: Library;
/** A clock the test moves by hand, so that "most recent" is never a coin toss. */
let clock: number;

beforeEach(() => {
  clock = 1_700_000_000_000;
  repo = new Repo({ network: [] });
  libraryHandle = repo.create<LibraryDocument>();
  libraryHandle.change(initLibrary);
  library = new Library(repo, libraryHandle, () => clock);
});

afterEach(async () => {
  await repo.shutdown();
});

function tick(ms = 1000): void {
  clock += ms;
}

async function open(url: string): Promise<DocHandle<WriterDocument>> {
  return repo.find<WriterDocument>(url as AutomergeUrl);
}

function idOf(url: string): string {
  return url.slice("automerge:".length);
}

function entry(url: string) {
  return library.entries()[idOf(url)];
}

/** Writes paragraphs into a document (after its first block marker) as an editor would, then refreshes its entry. */
async function write(url: string, ...paragraphs: string[]): Promise<void> {
  const handle = await open(url);
  handle.change((d) => {
    A.updateText(d, TEXT_PATH, "");
    let at = 0;
    for (const text of paragraphs) {
      A.splitBlock(d, TEXT_PATH, at, { type: new A.ImmutableString("paragraph"), parents: [], attrs: {} });
      A.splice(d, TEXT_PATH, at + 1, 0, text);
      at += 1 + text.length;
    }
  });
  library.refresh(handle.documentId, handle.doc());
}

/** Creates a document with a title and some text, one clock tick after the last. */
async function document(title: string, ...paragraphs: string[]): Promise<string> {
  tick();
  const url = library.create(title);
  if (paragraphs.length > 0) await write(url, ...paragraphs);
  return url;
}

describe("creating", () => {
  it("lists a new, empty document under its title", async () => {
    const url = library.create("Moby-Dick");
    expect(url).toMatch(/^automerge:/);
    expect(entry(url)).toEqual({ url, title: "Moby-Dick", createdAt: clock, updatedAt: clock, trashedAt: null, snippet: "", words: 0 });
    const doc = (await open(url)).doc();
    expect(doc.title).toBe("Moby-Dick");
    expect(plainText(doc)).toBe("");
  });

  it("gives every document its own URL", () => {
    const urls = new Set([library.create(), library.create(), library.create()]);
    expect(urls.size).toBe(3);
    expect(Object.keys(library.entries())).toHaveLength(3);
  });
});

describe("renaming", () => {
  it("changes the title in the document and in the entry", async () => {
    const url = await document("Draft", "Call me Ishmael.");
    await library.rename(url, "Moby-Dick; or, The Whale");
    expect((await open(url)).doc().title).toBe("Moby-Dick; or, The Whale");
    expect(entry(url)?.title).toBe("Moby-Dick; or, The Whale");
    expect(plainText((await open(url)).doc())).toBe("Call me Ishmael.");
  });

  it("refuses a document that is not in the library", async () => {
    const stray = repo.create<WriterDocument>();
    await expect(library.rename(stray.url, "x")).rejects.toBeInstanceOf(DocumentNotFoundError);
  });
});

describe("duplicating", () => {
  it("makes a new document with the same text titled “… (copy)”", async () => {
    const url = await document("Moby-Dick", "Call me Ishmael.", "Some years ago");
    tick();
    const copy = await library.duplicate(url);
    expect(copy).not.toBe(url);
    const copied = (await open(copy)).doc();
    expect(copied.title).toBe("Moby-Dick (copy)");
    expect(plainText(copied)).toBe("Call me Ishmael.\nSome years ago");
    expect(entry(copy)).toMatchObject({ url: copy, title: "Moby-Dick (copy)", createdAt: clock, updatedAt: clock, trashedAt: null, snippet: "Call me Ishmael. Some years ago", words: 6 });
    // The original is untouched.
    expect((await open(url)).doc().title).toBe("Moby-Dick");
    expect(entry(url)?.title).toBe("Moby-Dick");
  });

  it("is a separate document afterwards", async () => {
    const url = await document("Moby-Dick", "Call me Ishmael.");
    const copy = await library.duplicate(url);
    await write(copy, "Call me Queequeg.");
    expect(plainText((await open(url)).doc())).toBe("Call me Ishmael.");
    expect(plainText((await open(copy)).doc())).toBe("Call me Queequeg.");
  });

  it("names the copy of an untitled document “Untitled (copy)”", async () => {
    const url = await document("");
    const copy = await library.duplicate(url);
    expect(entry(copy)?.title).toBe("Untitled (copy)");
  });
});

describe("importing a backup", () => {
  /** The new document's URL and title, failing when the library answered otherwise. */
  function imported(result: Awaited<ReturnType<Library["importBackup"]>>): { url: string; title: string; outcome: string } {
    if (!("url" in result)) throw new Error(`expected an imported document, got ${JSON.stringify(result)}`);
    return result;
  }

  it("adds a backup of a document it does not have under a new identity, with its whole history", async () => {
    const elsewhere = new Repo({ network: [] });
    try {
      const original = elsewhere.create<WriterDocument>();
      original.change((d) => initDocument(d, "Logbook", clock));
      original.change((d) => A.splice(d, TEXT_PATH, 1, 0, "Forty-one nights. The lamp held."));
      const result = imported(await library.importBackup(A.save(original.doc()), "ask"));
      expect(result.outcome).toBe("new");
      expect(result.title).toBe("Logbook");
      expect(entry(result.url)).toMatchObject({ title: "Logbook", trashedAt: null, words: 5 });
      const copy = await open(result.url);
      expect(copy.documentId).not.toBe(original.documentId);
      expect(A.getHeads(copy.doc())).toEqual(A.getHeads(original.doc()));
    } finally {
      await elsewhere.shutdown();
    }
  });

  it("asks before importing a backup of a document it already has, and imports nothing meanwhile", async () => {
    const url = await document("Logbook", "Forty-one nights.");
    await document("Logbook", "A different logbook, same title.");
    const bytes = A.save((await open(url)).doc());
    const before = Object.keys(library.entries()).length;
    const answer = await library.importBackup(bytes, "ask");
    expect(answer).toEqual({ known: { url, title: "Logbook", updatedAt: entry(url)!.updatedAt, trashed: false } });
    expect(Object.keys(library.entries()).length).toBe(before);
  });

  it("keeps both: the backup becomes a new document titled with the day it came in", async () => {
    const url = await document("Logbook", "Forty-one nights.", "The lamp held.");
    const original = await open(url);
    const result = imported(await library.importBackup(A.save(original.doc()), "keep-both"));
    expect(result.outcome).toBe("kept-both");
    expect(result.url).not.toBe(url);
    expect(result.title).toBe(`Logbook (imported ${new Date(clock).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" })})`);
    expect(result.title).toMatch(/^Logbook \(imported \d{1,2} [A-Z][a-z]{2} \d{4}\)$/);
    expect(entry(result.url)).toMatchObject({ title: result.title, words: 5 });
    const copy = await open(result.url);
    expect(copy.doc().title).toBe(result.title);
    expect(plainText(copy.doc())).toBe(plainText(original.doc()));
    expect(A.getHistory(copy.doc()).length).toBe(A.getHistory(original.doc()).length + 1);
    expect(entry(url)?.title).toBe("Logbook");
  });

  it("merges a backup into the document it came from: its edits and the document's since are both kept", async () => {
    const url = await document("Logbook", "Forty-one nights.");
    const handle = await open(url);
    // The backup was taken, then edited elsewhere; the library's copy was edited too.
    const backup = A.change(A.load<WriterDocument>(A.save(handle.doc())), (d) => A.splice(d, TEXT_PATH, 1, 0, "Backup: "));
    handle.change((d) => A.splice(d, TEXT_PATH, plainText(d).length + 1, 0, " Here: the lamp held."));
    library.trash(url);
    tick();
    const before = Object.keys(library.entries()).length;
    const result = imported(await library.importBackup(A.save(backup), "merge"));
    expect(result).toEqual({ url, title: "Logbook", outcome: "merged" });
    expect(Object.keys(library.entries()).length).toBe(before);
    expect(plainText((await open(url)).doc())).toBe("Backup: Forty-one nights. Here: the lamp held.");
    // Merging a document back brings it out of the trash, with its entry up to date.
    expect(entry(url)).toMatchObject({ trashedAt: null, updatedAt: clock, words: 7 });
  });

  it("refuses what is not a Writer document, and lists nothing", async () => {
    const before = Object.keys(library.entries()).length;
    await expect(library.importBackup(new TextEncoder().encode("# not a backup"))).rejects.toThrow(/not a Writer backup/);
    await expect(library.importBackup(A.save(A.from({ hello: "world" })))).rejects.toThrow(/not a Writer document/);
    expect(Object.keys(library.entries()).length).toBe(before);
  });
});

describe("the trash", () => {
  it("moves a document to the trash and back", async () => {
    const url = await document("Moby-Dick");
    tick();
    library.trash(url);
    expect(entry(url)?.trashedAt).toBe(clock);
    expect(activeEntries(libraryHandle.doc()).map((e) => e.url)).not.toContain(url);
    expect(trashedEntries(libraryHandle.doc()).map((e) => e.url)).toEqual([url]);

    library.restore(url);
    expect(entry(url)?.trashedAt).toBeNull();
    expect(activeEntries(libraryHandle.doc()).map((e) => e.url)).toEqual([url]);
    expect(trashedEntries(libraryHandle.doc())).toEqual([]);
  });

  it("deletes for good only what is in the trash", async () => {
    const url = await document("Moby-Dick", "Call me Ishmael.");
    expect(() => library.deleteForever(url)).toThrow(RangeError);
    expect(entry(url)).toBeDefined();
    expect(plainText((await open(url)).doc())).toBe("Call me Ishmael.");

    library.trash(url);
    library.deleteForever(url);
    expect(entry(url)).toBeUndefined();
    expect(repo.handles[idOf(url) as keyof typeof repo.handles]).toBeUndefined();
    expect(() => library.deleteForever(url)).toThrow(DocumentNotFoundError);
  });

  it("empties the trash and leaves the rest alone", async () => {
    const keep = await document("Keep");
    const a = await document("Old draft");
    const b = await document("Older draft");
    library.trash(a);
    library.trash(b);
    expect(await library.emptyTrash()).toBe(2);
    expect(Object.values(library.entries()).map((e) => e.url)).toEqual([keep]);
    expect(await library.emptyTrash()).toBe(0);
  });

  it("refuses to trash or restore a document that is not in the library", () => {
    const stray = repo.create<WriterDocument>();
    expect(() => library.trash(stray.url)).toThrow(DocumentNotFoundError);
    expect(() => library.restore(stray.url)).toThrow(DocumentNotFoundError);
  });
});

describe("refreshing an entry", () => {
  it("brings title, snippet, words and last edit up to date", async () => {
    const url = await document("Draft");
    const handle = await open(url);
    tick();
    handle.change((d) => {
      A.updateText(d, ["title"], "Loomings");
      A.splice(d, TEXT_PATH, 1, 0, "Call me Ishmael. Some years ago—never mind how long precisely");
    });
    library.refresh(handle.documentId, handle.doc());
    expect(entry(url)).toMatchObject({
      title: "Loomings",
      snippet: "Call me Ishmael. Some years ago—never mind how long precisely",
      words: 11,
      updatedAt: clock,
    });
  });

  it("cuts a long snippet short and flattens line breaks", async () => {
    const long = "word ".repeat(100).trim();
    const url = await document("Long", "First paragraph.", long);
    const snippet = entry(url)!.snippet;
    expect(snippet.startsWith("First paragraph. word word")).toBe(true);
    expect(snippet.endsWith("…")).toBe(true);
    expect(snippet.length).toBeLessThanOrEqual(140);
    expect(snippet).not.toContain("\n");
    expect(entry(url)!.words).toBe(102);
  });

  it("keeps a heading apart from the text after it in the snippet", async () => {
    const url = await document("Storm", "The storm", "The lamp had burned.", "  ", "a brass key", "a tin of matches");
    expect(entry(url)!.snippet).toBe("The storm · The lamp had burned. a brass key · a tin of matches");
  });

  it("ignores documents the library does not list, and documents it cannot read", async () => {
    const url = await document("Draft", "Call me Ishmael.");
    const before = JSON.stringify(library.entries());
    const stray = repo.create<WriterDocument>();
    library.refresh(stray.documentId, { schemaVersion: 1, title: "x", text: "", authors: {}, createdAt: 0 });
    library.refresh(idOf(url), { schemaVersion: 99, title: "From the future", text: "", authors: {}, createdAt: 0 });
    expect(JSON.stringify(library.entries())).toBe(before);
  });
});

describe("activeEntries", () => {
  it("lists the most recently edited first", async () => {
    const first = await document("First");
    const second = await document("Second");
    const third = await document("Third");
    tick();
    await write(first, "edited last");
    const other = await document("Trashed");
    library.trash(other);
    expect(activeEntries(libraryHandle.doc()).map((e) => e.title)).toEqual(["First", "Third", "Second"]);
    expect(activeEntries(libraryHandle.doc()).map((e) => e.url)).toEqual([first, third, second]);
  });
});

describe("search", () => {
  let mobyDick: string, notes: string, songs: string, cafe: string, trashed: string;

  beforeEach(async () => {
    mobyDick = await document("Moby-Dick", "Call me Ishmael. Some years ago—never mind how long precisely—I thought I would sail about.");
    notes = await document("Notes", "The Whale is white.", "Ahab wants revenge on the whale.");
    songs = await document("Whale songs", "Humpbacks sing in the deep.");
    cafe = await document("Café", "Crème brûlée for Queequeg.");
    trashed = await document("Whale trash", "whale whale whale");
    library.trash(trashed);
  });

  const urls = (hits: { url: string }[]) => hits.map((h) => h.url);

  it("ignores case and accents, in the query and in the text", async () => {
    expect(urls(await library.search("CREME BRULEE"))).toEqual([cafe]);
    expect(urls(await library.search("crème"))).toEqual([cafe]);
    expect(urls(await library.search("ISHMAEL"))).toEqual([mobyDick]);
    expect(urls(await library.search("cafe"))).toEqual([cafe]);
  });

  it("puts title hits before text hits and leaves out the trash", async () => {
    const hits = await library.search("whale");
    expect(urls(hits)).toEqual([songs, notes]);
    expect(urls(hits)).not.toContain(trashed);
    expect(hits.map((h) => h.title)).toEqual(["Whale songs", "Notes"]);
  });

  it("ranks recent documents first among title hits and among text hits", async () => {
    tick();
    await write(mobyDick, "A whale of a tale.");
    const whaling = await document("Whale hunting");
    expect(urls(await library.search("whale"))).toEqual([whaling, songs, mobyDick, notes]);
  });

  it("needs every word, in the title or the text", async () => {
    expect(urls(await library.search("whale ahab"))).toEqual([notes]);
    expect(urls(await library.search("ahab whale revenge"))).toEqual([notes]);
    // "whale" in the title and "humpbacks" in the text: a text hit.
    expect(urls(await library.search("whale humpbacks"))).toEqual([songs]);
    expect(await library.search("whale kraken")).toEqual([]);
  });

  it("finds nothing for an empty query", async () => {
    expect(await library.search("")).toEqual([]);
    expect(await library.search("   \t ")).toEqual([]);
  });

  it("finds a restored document again, and forgets a deleted one", async () => {
    library.restore(trashed);
    expect(urls(await library.search("whale"))).toEqual([trashed, songs, notes]);
    library.trash(trashed);
    library.deleteForever(trashed);
    expect(urls(await library.search("whale"))).toEqual([songs, notes]);
  });

  it("returns the text around the match with its offsets", async () => {
    const [hit] = await library.search("REVENGE");
    expect(hit?.url).toBe(notes);
    const [start, end] = hit!.match!;
    expect(hit!.context.slice(start, end)).toBe("revenge");
    // Line breaks between blocks become spaces in the context.
    expect(hit!.context).toBe("The Whale is white. Ahab wants revenge on the whale.");
  });

  it("points at the accented text for an unaccented query", async () => {
    const [hit] = await library.search("brulee");
    expect(hit!.context.slice(...hit!.match!)).toBe("brûlée");
  });

  it("shows a window of a long text, marked as cut on both sides", async () => {
    const before = "Lorem ipsum dolor sit amet. ".repeat(10);
    const after = " Consectetur adipiscing elit.".repeat(10);
    const url = await document("Long", before + "Queequeg harpooned" + after);
    const [hit] = (await library.search("harpooned")).filter((h) => h.url === url);
    expect(hit!.context.startsWith("…")).toBe(true);
    expect(hit!.context.endsWith("…")).toBe(true);
    expect(hit!.context.length).toBeLessThan(before.length);
    expect(hit!.context.slice(...hit!.match!)).toBe("harpooned");
  });

  it("points at the match even when the text holds characters that fold to several (…, ﬁ, ½)", async () => {
    const url = await document("Journal", "Wait… the ﬁrst mate, ½ asleep, saw Moby Dick.");
    const [hit] = (await library.search("moby dick")).filter((h) => h.url === url);
    expect(hit!.match).not.toBeNull();
    expect(hit!.context.slice(...hit!.match!)).toBe("Moby");
    const [fi] = (await library.search("first")).filter((h) => h.url === url);
    expect(fi!.context.slice(...fi!.match!)).toBe("ﬁrst");
  });

  it("never cuts an emoji in half at the edge of the context", async () => {
    const url = await document("Emoji", "😀".repeat(40) + " needle " + "🐋".repeat(40));
    const [hit] = (await library.search("needle")).filter((h) => h.url === url);
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    expect(hit!.context).not.toMatch(loneSurrogate);
    expect(hit!.context.slice(...hit!.match!)).toBe("needle");
  });

  it("matches the text of documents, not only their snippets", async () => {
    const url = await document("Long", "word ".repeat(200) + "needle");
    expect(entry(url)!.snippet).not.toContain("needle");
    expect(urls(await library.search("needle"))).toEqual([url]);
  });
});

describe("most recently edited first", () => {
  it("orders by when each change reached the disk, whichever refresh finishes last", () => {
    const letters = library.create("Letters to Ana");
    tick();
    const shopping = library.create("Shopping");
    tick();
    const summary = { title: "", snippet: "", words: 1 };
    // Letters was saved first and Shopping second, but Letters' refresh finished last
    // (a document worker answering late): the order follows the saves.
    library.refreshSummary(idOf(shopping), { ...summary, title: "Shopping" }, clock + 2000);
    tick(5000);
    library.refreshSummary(idOf(letters), { ...summary, title: "Letters to Ana" }, clock - 4000);
    expect(activeEntries(libraryHandle.doc()).map((e) => e.title)).toEqual(["Shopping", "Letters to Ana"]);
    // And a late refresh never moves an entry back in time.
    const before = entry(shopping)!.updatedAt;
    library.refreshSummary(idOf(shopping), { ...summary, title: "Shopping" }, before - 10_000);
    expect(entry(shopping)!.updatedAt).toBe(before);
  });
});
