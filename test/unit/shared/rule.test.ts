import "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { Repo } from "@automerge/automerge-repo";
import { init } from "@automerge/prosemirror";
import { EditorState, TextSelection } from "prosemirror-state";
import { Fragment, Slice } from "prosemirror-model";
import { horizontalRule, schema as s, schemaAdapter } from "../../../src/shared/editor/schema";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../../src/shared/document";

// Regression: with the rule as a leaf node, every ProseMirror position after it was
// off by one in the binding, and the next edit after a rule threw "Invalid content
// for node doc" (found by the paste end-to-end test).
describe("editing after a horizontal rule", () => {
  it("types and pastes after a rule, and Automerge holds the same document", () => {
    const repo = new Repo({ network: [] });
    const handle = repo.create<WriterDocument>();
    handle.change((d) => initDocument(d, "T", 1));
    const { pmDoc, plugin } = init(handle, TEXT_PATH, { schemaAdapter });
    let state = EditorState.create({ schema: s, doc: pmDoc, plugins: [plugin] });
    state = state.apply(state.tr.replaceWith(0, state.doc.content.size, [horizontalRule(), s.node("heading", { level: 3 }, [s.text("deep")]), s.node("paragraph")]));
    state = state.apply(state.tr.setSelection(TextSelection.create(state.doc, state.doc.content.size - 1)));
    state = state.apply(state.tr.insertText("x"));
    const pasted = new Slice(Fragment.from([s.node("paragraph", null, [s.text("First")]), s.node("paragraph", null, [s.text("Second")])]), 1, 1);
    state = state.apply(state.tr.replaceSelection(pasted));

    expect(state.doc.toString()).toBe('doc(horizontal_rule, heading("deep"), paragraph("xFirst"), paragraph("Second"))');
    const reloaded = init(handle, TEXT_PATH, { schemaAdapter }).pmDoc;
    expect(reloaded.toString()).toBe(state.doc.toString());
  });
});
