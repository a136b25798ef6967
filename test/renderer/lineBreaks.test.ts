import "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { Repo, type DocHandle } from "@automerge/automerge-repo";
import { init } from "@automerge/prosemirror";
import { EditorState, TextSelection } from "prosemirror-state";
import { schema as s, schemaAdapter } from "../../src/shared/editor/schema";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { writerSyncPlugin } from "../../src/renderer/src/editor/sync";
import { insertHardBreak, toggleList, type ListKind } from "../../src/renderer/src/editor/commands";

function editor(handle: DocHandle<WriterDocument>): EditorState {
  const { plugin } = writerSyncPlugin({ adapter: schemaAdapter, handle: handle as DocHandle<unknown>, path: TEXT_PATH });
  return EditorState.create({ schema: s, doc: init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc, plugins: [plugin] });
}

// Found by the P1 property test once it typed line breaks: the binding applied a
// block's deletion to its spans twice (patches/README.md), and threw.
describe("a paragraph holding a line break", () => {
  it.each<[ListKind, string]>([
    ["bullet_list", 'doc(bullet_list(list_item(paragraph("a", hard_break, "b"))))'],
    ["ordered_list", 'doc(ordered_list(list_item(paragraph("a", hard_break, "b"))))'],
  ])("becomes a %s item, and the editor and Automerge agree", (list, expected) => {
    const repo = new Repo({ network: [] });
    const handle = repo.create<WriterDocument>();
    handle.change((d) => initDocument(d, "T", 1));
    let state = editor(handle);
    state = state.apply(state.tr.setSelection(TextSelection.create(state.doc, 1)).insertText("ab"));
    state = state.apply(state.tr.setSelection(TextSelection.create(state.doc, 2)));
    expect(insertHardBreak(state, (tr) => (state = state.apply(tr)))).toBe(true);
    state = state.apply(state.tr.setSelection(TextSelection.create(state.doc, 1, 3)));
    expect(toggleList(list)(state, (tr) => (state = state.apply(tr)))).toBe(true);
    expect(state.doc.toString()).toBe(expected);
    expect(init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc.toString()).toBe(expected);
  });
});
