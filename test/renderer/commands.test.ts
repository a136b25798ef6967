import { describe, expect, it } from "vitest";
import { EditorState, TextSelection } from "prosemirror-state";
import { schema as s } from "../../src/shared/editor/schema";
import { insertHorizontalRule } from "../../src/renderer/src/editor/commands";

describe("Ctrl+Enter draws a rule", () => {
  it("at the end of the document, the next letter goes after the rule, not in its place", () => {
    const doc = s.node("doc", null, [s.node("paragraph", null, [s.text("The end")])]);
    let state = EditorState.create({ schema: s, doc, selection: TextSelection.create(doc, 8) });
    expect(insertHorizontalRule(state, (tr) => (state = state.apply(tr)))).toBe(true);
    state = state.apply(state.tr.insertText("x"));
    expect(state.doc.child(0).textContent).toBe("The end");
    expect(state.doc.childCount).toBe(3);
    expect(state.doc.child(2).toString()).toBe('paragraph("x")');
  });

  it("in the middle of a paragraph, splits it and leaves the caret before the rest", () => {
    const doc = s.node("doc", null, [s.node("paragraph", null, [s.text("onetwo")])]);
    let state = EditorState.create({ schema: s, doc, selection: TextSelection.create(doc, 4) });
    insertHorizontalRule(state, (tr) => (state = state.apply(tr)));
    state = state.apply(state.tr.insertText("x"));
    expect(state.doc.childCount).toBe(3);
    expect(state.doc.child(0).textContent).toBe("one");
    expect(state.doc.child(2).textContent).toBe("xtwo");
  });
});
