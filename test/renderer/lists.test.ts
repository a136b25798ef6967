import "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { Repo, type DocHandle } from "@automerge/automerge-repo";
import { init } from "@automerge/prosemirror";
import { EditorState, TextSelection } from "prosemirror-state";
import { schema as s, schemaAdapter } from "../../src/shared/editor/schema";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { toggleList, type ListKind } from "../../src/renderer/src/editor/commands";

/** An editor state as a freshly opened window would have it (the binding's view of the doc). */
function open(handle: DocHandle<WriterDocument>): EditorState {
  const { pmDoc, plugin } = init(handle, TEXT_PATH, { schemaAdapter });
  return EditorState.create({ schema: s, doc: pmDoc, plugins: [plugin] });
}

function selectAll(state: EditorState): EditorState {
  return state.apply(state.tr.setSelection(TextSelection.create(state.doc, 1, state.doc.content.size - 1)));
}

function toggle(state: EditorState, kind: ListKind): EditorState {
  let next = state;
  expect(toggleList(kind)(state, (tr) => (next = state.apply(tr)))).toBe(true);
  return next;
}

describe("toggling lists over several paragraphs", () => {
  it.each(["bullet_list", "ordered_list", "task_list"] as const)("keeps one %s item per paragraph through reloads, both ways", (kind) => {
    const repo = new Repo({ network: [] });
    const handle = repo.create<WriterDocument>();
    handle.change((d) => initDocument(d, "T", 1));
    let state = open(handle);
    const paragraphs = ["harpoon", "rope", "oars"].map((t) => s.node("paragraph", null, [s.text(t)]));
    state = state.apply(state.tr.replaceWith(0, state.doc.content.size, paragraphs));
    const item = kind === "task_list" ? "task_item" : "list_item";
    const listed = `doc(${kind}(${item}(paragraph("harpoon")), ${item}(paragraph("rope")), ${item}(paragraph("oars"))))`;
    const plain = 'doc(paragraph("harpoon"), paragraph("rope"), paragraph("oars"))';

    // Twice round: the second time the paragraphs come from Automerge (explicit blocks),
    // which is where wrapping used to merge them into one item and lifting used to throw.
    for (let round = 0; round < 2; round++) {
      state = toggle(selectAll(open(handle)), kind);
      expect(state.doc.toString()).toBe(listed);
      expect(open(handle).doc.toString()).toBe(listed);
      state = toggle(selectAll(open(handle)), kind);
      expect(state.doc.toString()).toBe(plain);
      expect(open(handle).doc.toString()).toBe(plain);
    }
  });
});
