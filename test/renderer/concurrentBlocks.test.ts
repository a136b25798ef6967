import "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { next as A } from "@automerge/automerge";
import { Repo, type DocHandle } from "@automerge/automerge-repo";
import { init } from "@automerge/prosemirror";
import patchesToTr from "@automerge/prosemirror/dist/patchesToTr.js";
import { EditorState, TextSelection, type Command } from "prosemirror-state";
import { schema as s, schemaAdapter } from "../../src/shared/editor/schema";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { writerSyncPlugin } from "../../src/renderer/src/editor/sync";
import { setBlock } from "../../src/renderer/src/editor/commands";

/** An editor on `handle` with the caret at the end of the first block, as a window has it. */
function editor(handle: DocHandle<WriterDocument>): EditorState {
  const { plugin } = writerSyncPlugin({ adapter: schemaAdapter, handle: handle as DocHandle<unknown>, path: TEXT_PATH });
  const state = EditorState.create({ schema: s, doc: init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc, plugins: [plugin] });
  return state.apply(state.tr.setSelection(TextSelection.create(state.doc, state.doc.firstChild!.nodeSize - 1)));
}

function run(state: EditorState, command: Command): EditorState {
  let next = state;
  expect(command(state, (tr) => (next = state.apply(tr)))).toBe(true);
  return next;
}

/** Two writers on one document: Ada and Bob, each with their own copy. */
function twoWriters(): { ada: DocHandle<WriterDocument>; bob: DocHandle<WriterDocument> } {
  const repo = new Repo({ network: [] });
  const ada = repo.create<WriterDocument>();
  ada.change((d) => initDocument(d, "T", 1));
  const typed = editor(ada);
  typed.apply(typed.tr.insertText("code"));
  return { ada, bob: repo.clone(ada) };
}

/**
 * Merges Bob's document into Ada's while Ada has it open: her editor receives Bob's
 * change as patches (the binding's view applies them as this transaction; no sync
 * plugin here, which would write them back). Returns her editor's state afterwards.
 */
function mergeIntoOpenEditor(ada: DocHandle<WriterDocument>, bob: DocHandle<WriterDocument>): EditorState {
  const adasEditor = EditorState.create({ schema: s, doc: init(ada as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc });
  const before = ada.doc();
  const headsBefore = A.getHeads(before);
  ada.merge(bob);
  const after = ada.doc();
  const patches = A.diff(after, headsBefore, A.getHeads(after));
  return adasEditor.apply(patchesToTr({ adapter: schemaAdapter, path: TEXT_PATH, before, after, patches, state: adasEditor }));
}

// Found by the P1 property test (test/faults/property.test.ts): a merge of two
// writers' edits that the schema does not allow made the document impossible to open.
describe("edits that only clash once merged", () => {
  it("text made bold in a paragraph that another writer turned into a code block opens, and arrives live, without the bold", () => {
    const { ada, bob } = twoWriters();
    run(editor(ada), setBlock("code"));
    const bobs = editor(bob);
    bobs.apply(bobs.tr.setStoredMarks([s.marks.strong!.create()]).insertText(" bold"));

    const live = mergeIntoOpenEditor(ada, bob);

    const expected = 'doc(code_block("code bold"))';
    expect(live.doc.toString()).toBe(expected);
    // And a window opened afterwards (a reload, another device) shows the same.
    expect(init(ada as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc.toString()).toBe(expected);
    // The bold is still in Automerge: the writer who turns the block back gets it back.
    expect(A.spans(ada.doc(), TEXT_PATH).some((span) => span.type === "text" && span.marks?.strong === true)).toBe(true);
  });

  it("a line break typed in a paragraph that another writer turned into a code block opens, and arrives live", () => {
    const { ada, bob } = twoWriters();
    run(editor(ada), setBlock("code"));
    const bobs = editor(bob);
    bobs.apply(bobs.tr.replaceSelectionWith(s.nodes.hard_break!.create()).insertText("next"));

    const live = mergeIntoOpenEditor(ada, bob);

    const expected = 'doc(code_block("code", hard_break, "next"))';
    expect(live.doc.toString()).toBe(expected);
    expect(init(ada as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc.toString()).toBe(expected);
  });
});
