import { next as A } from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { DOCUMENT_SCHEMA_VERSION, initDocument, isWriterDocument, plainText, recordAuthor, TEXT_PATH, type WriterDocument } from "../../../src/shared/document";

function newDocument(title = "Moby-Dick"): A.Doc<WriterDocument> {
  return A.change(A.init<WriterDocument>(), (d) => initDocument(d, title, 1_700_000_000_000));
}

type Block = { type: string; parents?: string[]; attrs?: Record<string, A.MaterializeValue>; isEmbed?: boolean };

/** Writes blocks of text the way the editor binding does: a block marker, then its text. */
function write(doc: A.Doc<WriterDocument>, blocks: [Block, string][]): A.Doc<WriterDocument> {
  return A.change(doc, (d) => {
    A.updateText(d, TEXT_PATH, "");
    let at = 0;
    for (const [block, text] of blocks) {
      A.splitBlock(d, TEXT_PATH, at, { type: new A.ImmutableString(block.type), parents: (block.parents ?? []).map((p) => new A.ImmutableString(p)), attrs: block.attrs ?? {}, isEmbed: block.isEmbed ?? false });
      at += 1;
      A.splice(d, TEXT_PATH, at, 0, text);
      at += text.length;
    }
  });
}

describe("initDocument", () => {
  it("creates a titled document holding one empty paragraph", () => {
    const doc = newDocument("Loomings");
    expect(doc.schemaVersion).toBe(DOCUMENT_SCHEMA_VERSION);
    expect(doc.title).toBe("Loomings");
    expect(doc.authors).toEqual({});
    expect(doc.createdAt).toBe(1_700_000_000_000);
    // JSON turns the marker's ImmutableStrings into plain strings.
    expect(JSON.parse(JSON.stringify(A.spans(doc, TEXT_PATH)))).toEqual([{ type: "block", value: { type: "paragraph", parents: [], attrs: {} } }]);
    expect(plainText(doc)).toBe("");
    expect(isWriterDocument(doc)).toBe(true);
  });
});

describe("plainText", () => {
  it("joins blocks with line breaks and drops every marker", () => {
    const doc = write(newDocument(), [
      [{ type: "heading", attrs: { level: 1 } }, "Loomings"],
      [{ type: "paragraph" }, "Call me Ishmael."],
      [{ type: "unordered-list-item" }, "harpoon"],
      [{ type: "unordered-list-item", parents: ["unordered-list-item"] }, "rope"],
      [{ type: "task-list-item", attrs: { checked: true } }, "find the whale"],
      [{ type: "paragraph" }, ""],
      [{ type: "code-block" }, "let x = 1;"],
    ]);
    expect(plainText(doc)).toBe("Loomings\nCall me Ishmael.\nharpoon\nrope\nfind the whale\n\nlet x = 1;");
  });

  it("ignores marks", () => {
    let doc = write(newDocument(), [[{ type: "paragraph" }, "Call me Ishmael."]]);
    doc = A.change(doc, (d) => {
      A.mark(d, TEXT_PATH, { start: 1, end: 5, expand: "none" }, "strong", true);
      A.mark(d, TEXT_PATH, { start: 9, end: 16, expand: "none" }, "link", JSON.stringify({ href: "https://example.com/" }));
    });
    expect(plainText(doc)).toBe("Call me Ishmael.");
  });

  it("turns a hard break into a line break", () => {
    const doc = write(newDocument(), [
      [{ type: "paragraph" }, "line one"],
      [{ type: "hard-break", isEmbed: true }, "line two"],
    ]);
    expect(plainText(doc)).toBe("line one\nline two");
  });

  it("reads text with no leading block marker", () => {
    const doc = A.change(newDocument(), (d) => A.updateText(d, TEXT_PATH, "just text"));
    expect(plainText(doc)).toBe("just text");
  });
});

describe("recordAuthor", () => {
  const actor = "a1".repeat(16);

  it("records who an actor belongs to", () => {
    const doc = A.change(newDocument(), (d) => recordAuthor(d, actor, { name: "Ishmael", color: "#0f766e" }));
    expect(doc.authors).toEqual({ [actor]: { name: "Ishmael", color: "#0f766e" } });
  });

  it("makes no change when the author is already known and unchanged", () => {
    const doc = A.change(newDocument(), (d) => recordAuthor(d, actor, { name: "Ishmael", color: "#0f766e" }));
    const again = A.change(doc, (d) => recordAuthor(d, actor, { name: "Ishmael", color: "#0f766e" }));
    expect(A.getHeads(again)).toEqual(A.getHeads(doc));
  });

  it("updates a renamed author and keeps only name and colour", () => {
    let doc = A.change(newDocument(), (d) => recordAuthor(d, actor, { name: "Ishmael", color: "#0f766e" }));
    doc = A.change(doc, (d) => recordAuthor(d, actor, { name: "Ahab", color: "#be123c", secret: "x" } as never));
    expect(doc.authors[actor]).toEqual({ name: "Ahab", color: "#be123c" });
    const other = "b2".repeat(16);
    doc = A.change(doc, (d) => recordAuthor(d, other, { name: "Queequeg", color: "#7c3aed" }));
    expect(Object.keys(doc.authors).sort()).toEqual([actor, other]);
  });
});

describe("isWriterDocument", () => {
  it("accepts this version's documents", () => {
    expect(isWriterDocument({ schemaVersion: DOCUMENT_SCHEMA_VERSION, title: "", text: "", authors: {}, createdAt: 0 })).toBe(true);
  });

  it("rejects documents from a newer version", () => {
    expect(isWriterDocument({ schemaVersion: DOCUMENT_SCHEMA_VERSION + 1, title: "", text: "", authors: {}, createdAt: 0 })).toBe(false);
    expect(isWriterDocument(A.change(newDocument(), (d) => (d.schemaVersion = DOCUMENT_SCHEMA_VERSION + 1)))).toBe(false);
  });

  it("rejects what is not a document", () => {
    for (const value of [null, undefined, "text", 42, [], {}, { schemaVersion: "1", text: "" }, { schemaVersion: 1 }, { schemaVersion: 1, text: 5 }, { text: "" }]) {
      expect(isWriterDocument(value), JSON.stringify(value)).toBe(false);
    }
  });
});

describe("a new writer's name", () => {
  it("is never the bare login: the system's full name, or a plain default until the writer chooses", async () => {
    const { defaultSettings, osFullName } = await import("../../../src/host/settings");
    const os = await import("node:os");
    const settings = defaultSettings();
    expect(settings.user.confirmed).toBe(false);
    expect(settings.writerId).toMatch(/^[0-9a-f]{16}$/);
    const full = osFullName();
    expect(settings.user.name).toBe(full || "Writer");
    if (full === "") expect(settings.user.name).not.toBe(os.userInfo().username);
  });
});
