import { next as A } from "@automerge/automerge";
import { Repo, type DocHandle } from "@automerge/automerge-repo";
import { init } from "@automerge/prosemirror";
import { EditorState, TextSelection, type Transaction } from "prosemirror-state";
import { wrapInList } from "prosemirror-schema-list";
import type { Node as PMNode } from "prosemirror-model";
import { afterAll, describe, expect, it } from "vitest";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../../src/shared/document";
import { schema, schemaAdapter } from "../../../src/shared/editor/schema";
import { a, blockquote, br, code, content, doc, done, em, h1, h2, h3, hr, li, ol, p, pre, s, strong, tasks, todo, u, ul } from "../helpers/pm";

const repo = new Repo({ network: [] });
afterAll(() => repo.shutdown());

function newDocument(): DocHandle<WriterDocument> {
  const handle = repo.create<WriterDocument>();
  handle.change((d) => initDocument(d, "T", 1));
  return handle;
}

/** The ProseMirror document a fresh editor would show for what Automerge holds now. */
function reload(handle: DocHandle<WriterDocument>): PMNode {
  return init(handle, TEXT_PATH, { schemaAdapter }).pmDoc;
}

/** An editor bound to `handle`, as the renderer creates one. */
function editor(handle: DocHandle<WriterDocument>): EditorState {
  const { pmDoc, plugin } = init(handle, TEXT_PATH, { schemaAdapter });
  return EditorState.create({ schema, doc: pmDoc, plugins: [plugin] });
}

/** Types `target` into a fresh document, then reads it back from Automerge. */
function roundTrip(target: PMNode): { handle: DocHandle<WriterDocument>; state: EditorState; back: PMNode } {
  const handle = newDocument();
  let state = editor(handle);
  // apply() runs the sync plugin's appendTransaction, which writes to Automerge.
  state = state.apply(state.tr.replaceWith(0, state.doc.content.size, target.content));
  return { handle, state, back: reload(handle) };
}

describe("the schema round-trips through Automerge", () => {
  const cases: Record<string, PMNode> = {
    "a paragraph": doc(p("Call me Ishmael.")),
    "headings of every level": doc(h1("Moby-Dick"), h2("Chapter 1"), h3("Loomings"), p("Some years ago")),
    "bold": doc(p("never ", strong("mind"), " how long")),
    "italic": doc(p("the ", em("watery"), " part")),
    "underline": doc(p("the ", u("world"))),
    "strikethrough": doc(p(s("damp, drizzly"), " November")),
    "inline code": doc(p("run ", code("npm test"), " now")),
    "a link": doc(p("see ", a("https://example.com/whale", "the whale"), ".")),
    "mixed marks on one run": doc(p("plain ", strong(em(u(s("all four")))), " ", strong(em("two")), " ", em(a("https://example.com/", "linked")))),
    "a block quote": doc(blockquote(p("Call me Ishmael."), p("Some years ago")), p("after")),
    "a code block": doc(pre("const whale = 'white';\nreturn whale;"), p("after")),
    "a bullet list": doc(ul(li(p("harpoon")), li(p("rope")), li(p("oars")))),
    "an ordered list": doc(ol(li(p("first")), li(p("second")))),
    "a task list with checked and unchecked items": doc(tasks(done(p("buy rope")), todo(p("find the whale")), done(p("sharpen harpoon")))),
    "a horizontal rule": doc(p("above"), hr(), p("below")),
    "a hard break": doc(p("line one", br(), "line two")),
    "nested lists": doc(ul(li(p("outer"), ul(li(p("inner one")), li(p("inner two")))), li(p("outer again"))), ol(li(p("a"), ol(li(p("a.i")))))),
  };

  for (const [name, target] of Object.entries(cases)) {
    it(name, () => {
      const { back, state } = roundTrip(target);
      expect(content(back)).toEqual(content(target));
      // The editor that made the edit shows the same thing as a fresh one.
      expect(content(state.doc)).toEqual(content(target));
    });
  }

  it("text around a horizontal rule stays editable", () => {
    const { handle } = roundTrip(doc(p("above"), hr(), p("below")));
    const state = editor(handle);
    // Find "below" rather than counting the rule's size, which is the schema's business.
    let at = -1;
    state.doc.descendants((node, pos) => void (node.isText && node.text === "below" && (at = pos)));
    expect(at).toBeGreaterThan(0);
    const after = state.apply(state.tr.insertText("just ", at).insertText("!", 3));
    const expected = doc(p("ab!ove"), hr(), p("just below"));
    expect(content(after.doc)).toEqual(content(expected));
    expect(content(reload(handle))).toEqual(content(expected));
  });
});

describe("editing commands", () => {
  /** Runs a command in an editor holding `start`, with the text between `from` and `to` selected. */
  function command(start: PMNode, from: number, to: number, run: (state: EditorState, dispatch: (tr: Transaction) => void) => void) {
    const { handle } = roundTrip(start);
    let state = editor(handle);
    state = state.apply(state.tr.setSelection(TextSelection.create(state.doc, from, to)));
    run(state, (tr) => (state = state.apply(tr)));
    return { state, back: reload(handle) };
  }

  it("wrapping a paragraph in a list round-trips", () => {
    const { state, back } = command(doc(p("harpoon"), p("after")), 2, 2, (st, dispatch) => wrapInList(schema.nodes.bullet_list!)(st, dispatch));
    expect(content(back)).toEqual(content(doc(ul(li(p("harpoon"))), p("after"))));
    expect(content(state.doc)).toEqual(content(back));
  });

  it("wrapping several paragraphs in a list round-trips when the new items are explicit blocks", () => {
    // Plain wrapInList over several paragraphs stores ONE item holding them all (the
    // binding infers no marker for the new items), while the editor shows one item
    // each. Marking the new items as explicit blocks, as horizontalRule() does, keeps
    // both sides the same.
    const { state, back } = command(doc(p("harpoon"), p("rope"), p("oars")), 2, 18, (st, dispatch) =>
      wrapInList(schema.nodes.task_list!)(st, (tr) => {
        const fresh: number[] = [];
        tr.doc.descendants((node, pos) => void (node.type === schema.nodes.task_item && !node.attrs.isAmgBlock && fresh.push(pos)));
        for (const pos of fresh) tr.setNodeMarkup(pos, undefined, { ...tr.doc.nodeAt(pos)!.attrs, isAmgBlock: true });
        dispatch(tr);
      }),
    );
    expect(content(back)).toEqual(content(doc(tasks(todo(p("harpoon")), todo(p("rope")), todo(p("oars"))))));
    expect(content(state.doc)).toEqual(content(back));
  });
});

describe("blocks written by other clients", () => {
  function withBlock(type: string, attrs: Record<string, A.MaterializeValue>): PMNode {
    const handle = newDocument();
    handle.change((d) => {
      A.splitBlock(d, TEXT_PATH, 1, { type: new A.ImmutableString(type), parents: [], attrs });
      A.splice(d, TEXT_PATH, 2, 0, "Loomings");
    });
    return reload(handle);
  }

  it("a heading level outside 1–3 still renders as h1–h3", () => {
    const toDOM = schema.nodes.heading!.spec.toDOM!;
    for (const [level, tag] of [[5, "h3"], [0, "h1"], ["2", "h2"], ["<script>", "h1"]] as const) {
      const heading = withBlock("heading", { level }).lastChild!;
      expect(heading.type.name).toBe("heading");
      expect(heading.textContent).toBe("Loomings");
      expect((toDOM(heading) as unknown as [string])[0]).toBe(tag);
    }
  });

  it("a block type this version does not know keeps its text", () => {
    const unknown = withBlock("callout", { tone: "warning" }).lastChild!;
    expect(unknown.type).toBe(schemaAdapter.unknownBlock);
    expect(unknown.textContent).toBe("Loomings");
  });
});

describe("task items", () => {
  it("toggling checked with setNodeMarkup reaches Automerge and comes back", () => {
    const { handle, state: typed } = roundTrip(doc(tasks(todo(p("find the whale")), todo(p("go home")))));
    const state = editor(handle);
    // The first task item starts right inside the task list.
    const pos = 1;
    const item = state.doc.nodeAt(pos);
    expect(item?.type.name).toBe("task_item");
    expect(typed.doc.nodeAt(pos)?.attrs.checked).toBe(false);
    const after = state.apply(state.tr.setNodeMarkup(pos, undefined, { ...item!.attrs, checked: true }));

    const expected = doc(tasks(done(p("find the whale")), todo(p("go home"))));
    expect(content(after.doc)).toEqual(content(expected));
    expect(content(reload(handle))).toEqual(content(expected));
    const blocks = A.spans(handle.doc(), TEXT_PATH).filter((sp) => sp.type === "block");
    expect(blocks.map((b) => b.value.attrs)).toEqual([{ checked: true }, { checked: false }]);

    // And back again.
    const again = editor(handle);
    again.apply(again.tr.setNodeMarkup(pos, undefined, { ...again.doc.nodeAt(pos)!.attrs, checked: false }));
    expect(content(reload(handle))).toEqual(content(doc(tasks(todo(p("find the whale")), todo(p("go home"))))));
  });
});

describe("links from other clients are made safe", () => {
  function linkedDocument(value: string): DocHandle<WriterDocument> {
    const handle = newDocument();
    handle.change((d) => {
      // Index 0 is the paragraph's block marker.
      A.splice(d, TEXT_PATH, 1, 0, "click me please");
      A.mark(d, TEXT_PATH, { start: 1, end: 9, expand: "none" }, "link", value);
    });
    return handle;
  }

  function linkMarks(node: PMNode) {
    const marks: { href: unknown; text: string }[] = [];
    node.descendants((n) => {
      for (const m of n.marks) if (m.type === schema.marks.link) marks.push({ href: m.attrs.href, text: n.text ?? "" });
    });
    return marks;
  }

  it("a javascript: href written straight into Automerge reads as an empty href", () => {
    const back = reload(linkedDocument(JSON.stringify({ href: "javascript:alert(1)" })));
    expect(linkMarks(back)).toEqual([{ href: "", text: "click me" }]);
    expect(back.textContent).toBe("click me please");
  });

  it("an obfuscated scheme and a malformed value are neutralised too", () => {
    expect(linkMarks(reload(linkedDocument(JSON.stringify({ href: " java\tscript:alert(1)" }))))).toEqual([{ href: "", text: "click me" }]);
    expect(linkMarks(reload(linkedDocument("javascript:alert(1)")))).toEqual([{ href: "", text: "click me" }]);
  });

  it("a safe href from another client is kept", () => {
    expect(linkMarks(reload(linkedDocument(JSON.stringify({ href: "https://example.com/a?b=c" }))))).toEqual([
      { href: "https://example.com/a?b=c", text: "click me" },
    ]);
  });

  it("toDOM never renders a javascript: href, even for a mark built in memory", () => {
    const toDOM = schema.marks.link!.spec.toDOM!;
    const fromAutomerge = linkMarks(reload(linkedDocument(JSON.stringify({ href: "javascript:alert(1)" }))));
    for (const href of [fromAutomerge[0]!.href as string, "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>"]) {
      const out = toDOM(schema.marks.link!.create({ href }), true) as unknown as [string, Record<string, string>, number];
      expect(out[0]).toBe("a");
      expect(out[1].href).not.toMatch(/^\s*(javascript|data|vbscript):/i);
      expect(out[1].href).toBe("#");
    }
    const good = toDOM(schema.marks.link!.create({ href: "https://example.com/" }), true) as unknown as [string, Record<string, string>];
    expect(good[1]).toMatchObject({ href: "https://example.com/", rel: "noopener noreferrer nofollow" });
  });

  it("the editor never writes an unsafe href to Automerge", () => {
    const { handle } = roundTrip(doc(p(a("javascript:alert(1)", "evil"), " ", a("example.com", "bare"))));
    const values = A.marks(handle.doc(), TEXT_PATH)
      .filter((m) => m.name === "link")
      .map((m) => JSON.parse(String(m.value)) as { href: string });
    expect(values.map((v) => v.href)).toEqual(["", "https://example.com/"]);
  });

  it("pasted HTML with an unsafe link keeps the text and loses the link", () => {
    const rule = schema.marks.link!.spec.parseDOM![0]!;
    type Element = Parameters<NonNullable<typeof rule.getAttrs>>[0];
    const element = (href: string) => ({ getAttribute: (name: string) => (name === "href" ? href : null), style: { fontWeight: "" } }) as unknown as Element;
    expect(rule.getAttrs!(element("javascript:alert(1)"))).toBe(false);
    expect(rule.getAttrs!(element("example.com"))).toEqual({ href: "https://example.com/", title: null });
  });
});

/** A DocHandle over a plain Automerge document, for replicas outside any Repo. */
class Replica {
  constructor(private current: A.Doc<WriterDocument>) {}
  doc(): A.Doc<WriterDocument> {
    return this.current;
  }
  change(fn: (d: WriterDocument) => void): void {
    this.current = A.change(this.current, fn);
  }
  on(): void {}
  off(): void {}
  merge(other: Replica): void {
    this.current = A.merge(this.current, other.current);
  }
  pmDoc(): PMNode {
    return init(this, TEXT_PATH, { schemaAdapter }).pmDoc;
  }
  /** Applies `edit` through an editor bound to this replica, as a writer would. */
  edit(edit: (state: EditorState) => EditorState["tr"]): void {
    const { pmDoc, plugin } = init(this, TEXT_PATH, { schemaAdapter });
    const state = EditorState.create({ schema, doc: pmDoc, plugins: [plugin] });
    state.apply(edit(state));
  }
}

describe("concurrent edits", () => {
  it("two replicas bolding overlapping ranges converge on the same document", () => {
    const base = A.change(A.init<WriterDocument>({ actor: "aa".repeat(16) }), (d) => {
      initDocument(d, "T", 1);
      A.splice(d, TEXT_PATH, 1, 0, "Call me Ishmael today");
    });
    const alice = new Replica(A.clone(base, { actor: "a1".repeat(16) }));
    const bob = new Replica(A.clone(base, { actor: "b0".repeat(16) }));
    expect(content(alice.pmDoc())).toEqual(content(doc(p("Call me Ishmael today"))));

    // Positions in ProseMirror: 1 is the start of the paragraph's text.
    alice.edit((st) => st.tr.addMark(1, 1 + "Call me Ish".length, schema.marks.strong!.create()));
    bob.edit((st) => st.tr.addMark(1 + "Call ".length, 1 + "Call me Ishmael".length, schema.marks.strong!.create()));
    expect(content(alice.pmDoc())).toEqual(content(doc(p(strong("Call me Ish"), "mael today"))));
    expect(content(bob.pmDoc())).toEqual(content(doc(p("Call ", strong("me Ishmael"), " today"))));

    alice.merge(bob);
    bob.merge(alice);
    expect(A.getHeads(alice.doc()).sort()).toEqual(A.getHeads(bob.doc()).sort());
    expect(content(alice.pmDoc())).toEqual(content(bob.pmDoc()));
    expect(content(alice.pmDoc())).toEqual(content(doc(p(strong("Call me Ishmael"), " today"))));
  });

  it("concurrent bold and italic on overlapping ranges keep both marks", () => {
    const base = A.change(A.init<WriterDocument>({ actor: "aa".repeat(16) }), (d) => {
      initDocument(d, "T", 1);
      A.splice(d, TEXT_PATH, 1, 0, "abcdef");
    });
    const alice = new Replica(A.clone(base, { actor: "a1".repeat(16) }));
    const bob = new Replica(A.clone(base, { actor: "b0".repeat(16) }));
    alice.edit((st) => st.tr.addMark(1, 5, schema.marks.strong!.create()));
    bob.edit((st) => st.tr.addMark(3, 7, schema.marks.em!.create()));
    alice.merge(bob);
    bob.merge(alice);
    const expected = doc(p(strong("ab"), strong(em("cd")), em("ef")));
    expect(content(alice.pmDoc())).toEqual(content(expected));
    expect(content(bob.pmDoc())).toEqual(content(expected));
  });
});
