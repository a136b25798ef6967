import { describe, expect, it } from "vitest";
import { EditorState, TextSelection, type Command, type Transaction } from "prosemirror-state";
import { history, undo } from "prosemirror-history";
import { splitBlock } from "prosemirror-commands";
import { replaceAll, search, SearchQuery, setSearchState } from "prosemirror-search";
import { Slice, Fragment } from "prosemirror-model";
import type { Node as PMNode } from "prosemirror-model";
import { schema as s } from "../../src/shared/editor/schema";
import { acceptedView, countSuggestions, listSuggestions } from "../../src/shared/suggestions";
import { acceptSuggestions, rejectSuggestions, setSuggester, suggestingPlugin, suggestTransaction, toggleSuggesting } from "../../src/renderer/src/editor/suggesting";
import { toggleInlineMark } from "../../src/renderer/src/editor/commands";
import { REPAIR_META } from "../../src/renderer/src/editor/integrity";
import { countDocument } from "../../src/renderer/src/editor/counts";
import { toPlainText } from "../../src/shared/convert/text";
import { next as A } from "@automerge/automerge";
import { initDocument, plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";

const ADA = { name: "Ada", writer: "writer-ada" };
const BOB = { name: "Bob", writer: "writer-bob" };

/** A window on `doc` as one writer, with the caret at `caret`; every transaction goes through the suggesting rewrite. */
class Window {
  state: EditorState;
  ids = 0;
  constructor(
    doc: PMNode,
    readonly who = ADA,
    suggesting = true,
  ) {
    this.state = EditorState.create({ schema: s, doc, plugins: [suggestingPlugin(), history(), search()] });
    setSuggester(this.state, this.raw, who);
    if (suggesting) toggleSuggesting(this.state, this.raw, true);
  }
  raw = (tr: Transaction) => {
    this.state = this.state.apply(tr);
  };
  dispatch = (tr: Transaction) => {
    this.state = this.state.apply(suggestTransaction(this.state, tr, { now: () => 1000, newId: () => `${this.who.name}-${++this.ids}` }));
  };
  caret(pos: number): this {
    this.raw(this.state.tr.setSelection(TextSelection.create(this.state.doc, pos)));
    return this;
  }
  select(from: number, to: number): this {
    this.raw(this.state.tr.setSelection(TextSelection.create(this.state.doc, from, to)));
    return this;
  }
  type(text: string): this {
    for (const ch of text) {
      const { from, to } = this.state.selection;
      this.dispatch(this.state.tr.insertText(ch, from, to));
    }
    return this;
  }
  /** The browser's Backspace inside a text block: the character before the caret. */
  backspace(): this {
    const { from, to, empty } = this.state.selection;
    this.dispatch(empty ? this.state.tr.delete(from - 1, from) : this.state.tr.delete(from, to));
    return this;
  }
  del(): this {
    const { from } = this.state.selection;
    this.dispatch(this.state.tr.delete(from, from + 1));
    return this;
  }
  run(command: Command): this {
    command(this.state, this.dispatch);
    return this;
  }
  get head(): number {
    return this.state.selection.head;
  }
  get doc(): PMNode {
    return this.state.doc;
  }
}

const p = (...content: (string | PMNode)[]) => s.nodes.paragraph!.create(null, content.map((c) => (typeof c === "string" ? s.text(c) : c)));
const doc = (...blocks: PMNode[]) => s.nodes.doc!.create(null, blocks);

/** The text with suggestions shown: [+inserted+], [-deleted-], {format}. */
function show(d: PMNode): string {
  const blocks: string[] = [];
  d.forEach((block) => {
    let out = "";
    block.forEach((n) => {
      const names = n.marks.map((m) => m.type.name);
      let t = n.text ?? "";
      if (names.includes("strong")) t = `*${t}*`;
      if (names.includes("insertion")) t = `[+${t}+]`;
      if (names.includes("deletion")) t = `[-${t}-]`;
      if (names.includes("format_change")) t = `{${t}}`;
      out += t;
    });
    blocks.push(out);
  });
  return blocks.join(" | ");
}

describe("Suggesting mode rewrites the writer's edits", () => {
  it("typed text is an insertion with the writer's name and time, and typing on continues it", () => {
    const w = new Window(doc(p("Hello world"))).caret(6).type("big ");
    expect(show(w.doc)).toBe("Hello[+big +] world");
    const [only, ...rest] = listSuggestions(w.doc);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ id: "Ada-1", kind: "insertion", author: "Ada", writer: "writer-ada", at: 1000, inserted: "big " });
    expect(w.head).toBe(10);
  });

  it("Backspace strikes the character before the caret and moves left past it; the next one continues the deletion", () => {
    const w = new Window(doc(p("Hello world"))).caret(12).backspace().backspace();
    expect(show(w.doc)).toBe("Hello wor[-ld-]");
    expect(w.head).toBe(10);
    expect(listSuggestions(w.doc).map((x) => [x.id, x.kind, x.deleted])).toEqual([["Ada-1", "deletion", "ld"]]);
    // Backspace on struck text only moves the caret, past all of it.
    w.caret(12).backspace();
    expect(show(w.doc)).toBe("Hello wor[-ld-]");
    expect(w.head).toBe(10);
    w.backspace();
    expect(show(w.doc)).toBe("Hello wo[-rld-]");
    // And Delete past it the other way.
    w.caret(9).del();
    expect(show(w.doc)).toBe("Hello wo[-rld-]");
    expect(w.head).toBe(12);
  });

  it("Delete strikes the character after the caret and moves right past it", () => {
    const w = new Window(doc(p("Hello world"))).caret(1).del().del();
    expect(show(w.doc)).toBe("[-He-]llo world");
    expect(w.head).toBe(3);
  });

  it("deleting inside one's own insertion really removes it; inside another writer's it is struck", () => {
    const w = new Window(doc(p("Hello"))).caret(6).type("abc").backspace();
    expect(show(w.doc)).toBe("Hello[+ab+]");
    const bob = new Window(w.doc, BOB).caret(8).backspace();
    expect(show(bob.doc)).toBe("Hello[+a+][-[+b+]-]");
  });

  it("typing over a selection strikes it and inserts after it, as one replacement", () => {
    const w = new Window(doc(p("Hello world"))).select(7, 12).type("there");
    expect(show(w.doc)).toBe("Hello [-world-][+there+]");
    expect(listSuggestions(w.doc).map((x) => [x.kind, x.deleted, x.inserted])).toEqual([["replacement", "world", "there"]]);
    expect(countSuggestions(w.doc)).toBe(1);
    expect(w.head).toBe(17);
  });

  it("text typed inside struck text is not struck", () => {
    const w = new Window(doc(p("Hello"))).select(1, 6).backspace().caret(3).type("X");
    expect(show(w.doc)).toBe("[-He-][+X+][-llo-]");
  });

  it("bold applied to others' text is applied and recorded; toggled back, the record goes", () => {
    const w = new Window(doc(p("Hello world"))).select(1, 6).run(toggleInlineMark("strong"));
    expect(show(w.doc)).toBe("{*Hello*} world");
    expect(listSuggestions(w.doc)[0]).toMatchObject({ kind: "format", added: ["strong"], removed: [] });
    w.select(1, 6).run(toggleInlineMark("strong"));
    expect(show(w.doc)).toBe("Hello world");
    expect(listSuggestions(w.doc)).toEqual([]);
  });

  it("Enter splits the paragraph as an ordinary edit, and the new paragraph's text is an insertion", () => {
    const w = new Window(doc(p("Hello world"))).caret(6).run(splitBlock).type("X");
    expect(show(w.doc)).toBe("Hello | [+X+] world");
  });

  it("a deletion across paragraphs strikes the text of both and keeps them apart", () => {
    const w = new Window(doc(p("One"), p("Two"))).select(2, 8).backspace();
    expect(show(w.doc)).toBe("O[-ne-] | [-Tw-]o");
  });

  it("pasted words are an insertion; pasted paragraphs keep their structure and all their text is an insertion", () => {
    const w = new Window(doc(p("Hello world"))).caret(6);
    w.dispatch(w.state.tr.replaceSelection(new Slice(Fragment.from(s.text(" big", [s.marks.em!.create()])), 0, 0)).setMeta("paste", true));
    expect(show(w.doc)).toBe("Hello[+ big+] world");
    expect(w.doc.nodeAt(6)!.marks.map((m) => m.type.name).sort()).toEqual(["em", "insertion"]);
    w.caret(3);
    w.dispatch(w.state.tr.replaceSelection(new Slice(Fragment.from([p("A"), p("B")]), 1, 1)).setMeta("paste", true));
    expect(show(w.doc)).toBe("He[+A+] | [+B+]llo[+ big+] world");
  });

  it("replace all, in Suggesting mode, suggests each replacement", () => {
    const w = new Window(doc(p("a cat, a hat"), p("a bat")));
    w.raw(setSearchState(w.state.tr, new SearchQuery({ search: "at", replace: "og" })));
    replaceAll(w.state, w.dispatch);
    expect(show(w.doc)).toBe("a c[-at-][+og+], a h[-at-][+og+] | a b[-at-][+og+]");
    expect(listSuggestions(w.doc)).toHaveLength(3);
    expect(countSuggestions(w.doc)).toBe(3);
    expect(show(acceptedView(w.doc))).toBe("a cog, a hog | a bog");
  });

  it("the binding's remote patches, integrity repairs and undo are never rewritten", () => {
    const w = new Window(doc(p("Hello")));
    w.dispatch(w.state.tr.insertText("X", 1).setMeta("addToHistory", false));
    expect(show(w.doc)).toBe("XHello");
    w.dispatch(w.state.tr.delete(1, 2).setMeta(REPAIR_META, true));
    expect(show(w.doc)).toBe("Hello");
    w.caret(6).type("!");
    w.run(undo);
    expect(show(w.doc)).toBe("Hello");
  });

  it("IDs are random, so that two writers offline never pick the same", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const state = EditorState.create({ schema: s, doc: doc(p("Hello")), plugins: [suggestingPlugin()] });
      const on = state.apply(state.tr.setMeta("writer:suggesting", { on: true, who: ADA }));
      const next = on.apply(suggestTransaction(on, on.tr.insertText("x", 1)));
      const [only] = listSuggestions(next.doc);
      expect(only!.id).toMatch(/^[0-9a-f]{32}$/);
      ids.add(only!.id);
    }
    expect(ids.size).toBe(50);
  });

  it("in Editing mode nothing is rewritten", () => {
    const w = new Window(doc(p("Hello")), ADA, false).caret(6).type("!").backspace().backspace();
    expect(show(w.doc)).toBe("Hell");
  });
});

describe("Accept and reject", () => {
  function suggested(): Window {
    const ada = new Window(doc(p("Hello world"))).select(7, 12).type("there");
    const bob = new Window(ada.doc, BOB).caret(1).del();
    return new Window(bob.doc, { name: "Cy", writer: "writer-cy" }, false);
  }

  it("accepting a replacement keeps the new text; rejecting it keeps the old", () => {
    const w = suggested();
    expect(show(w.doc)).toBe("[-H-]ello [-world-][+there+]");
    const id = listSuggestions(w.doc).find((x) => x.kind === "replacement")!.id;
    const accepted = new Window(w.doc, ADA, false).run(acceptSuggestions({ id }));
    expect(show(accepted.doc)).toBe("[-H-]ello there");
    const rejected = new Window(w.doc, ADA, false).run(rejectSuggestions({ id }));
    expect(show(rejected.doc)).toBe("[-H-]ello world");
  });

  it("a paragraph deleted whole goes whole when accepted; a suggested paragraph goes whole when rejected", () => {
    const w = new Window(doc(p("One"), p("Two"), p("Three"))).select(6, 9).backspace();
    expect(show(w.doc)).toBe("One | [-Two-] | Three");
    w.run(acceptSuggestions("all"));
    expect(show(w.doc)).toBe("One | Three");
    const typed = new Window(doc(p("One"))).caret(4).run(splitBlock).type("New");
    expect(show(typed.doc)).toBe("One | [+New+]");
    typed.run(rejectSuggestions("all"));
    expect(show(typed.doc)).toBe("One");
    // The last paragraph of a document stays, empty.
    const last = new Window(doc(p("Only"))).select(1, 5).backspace().run(acceptSuggestions("all"));
    expect(last.doc.toString()).toBe("doc(paragraph)");
  });

  it("all of one author's, then all", () => {
    const w = suggested().run(rejectSuggestions({ writer: "writer-bob", author: "Bob" }));
    expect(show(w.doc)).toBe("Hello [-world-][+there+]");
    w.run(acceptSuggestions("all"));
    expect(show(w.doc)).toBe("Hello there");
    expect(listSuggestions(w.doc)).toEqual([]);
  });

  it("accepting in Suggesting mode is a decision, not a new suggestion, and undo takes it back", () => {
    const w = new Window(suggested().doc, ADA, true).run(acceptSuggestions("all"));
    expect(show(w.doc)).toBe("ello there");
    w.run(undo);
    expect(show(w.doc)).toBe("[-H-]ello [-world-][+there+]");
  });

  it("rejecting a format change puts the formats back", () => {
    const w = new Window(doc(p(s.text("Hello", [s.marks.strong!.create()]), " world"))).select(1, 12).run(toggleInlineMark("em"));
    w.select(1, 6).run(toggleInlineMark("strong"));
    const decided = new Window(w.doc, BOB, false).run(rejectSuggestions("all"));
    expect(decided.doc.eq(doc(p(s.text("Hello", [s.marks.strong!.create()]), " world")))).toBe(true);
  });
});

describe("acceptedView", () => {
  it("shows the document as if every suggestion were accepted", () => {
    const w = new Window(doc(p("Hello world"), p("Two"))).select(7, 12).type("there").caret(22).type("!");
    const view = acceptedView(w.doc);
    expect(show(view)).toBe("Hello there | Two!");
    expect(acceptedView(view)).toBe(view);
  });

  it("the counts and the plain text leave suggested deletions out and count suggested insertions", () => {
    const w = new Window(doc(p("one two three"))).select(5, 9).backspace().caret(14).type(" four five");
    expect(show(w.doc)).toBe("one [-two -]three[+ four five+]");
    expect(countDocument(w.doc)).toEqual({ words: 4, characters: "one three four five".length });
    expect(toPlainText(acceptedView(w.doc)).trim()).toBe("one three four five");
  });

  it("a malformed mark value (an ID that is not a string) still lists and decides", () => {
    const bad = s.marks.insertion!.create({ id: 7, author: null, writer: 3, at: "soon" });
    const d = doc(p("A", s.text("B", [bad])));
    const [only] = listSuggestions(d);
    expect(only).toMatchObject({ author: "", writer: null, at: 0, inserted: "B" });
    const w = new Window(d, ADA, false).run(rejectSuggestions({ id: only!.id }));
    expect(show(w.doc)).toBe("A");
  });
});

describe("the library's text of a document", () => {
  it("leaves out text suggested for deletion (snippet, word count, search)", () => {
    let d = A.change(A.init<WriterDocument>(), (x) => initDocument(x, "T", 0));
    d = A.change(d, (x) => {
      A.splice(x, TEXT_PATH, 1, 0, "one two three");
      A.mark(x, TEXT_PATH, { start: 5, end: 9, expand: "none" }, "suggest-delete", JSON.stringify({ id: "a", author: "Ada", writer: null, at: 1 }));
    });
    expect(plainText(d)).toBe("one three");
  });
});
