import { describe, expect, it } from "vitest";
import { EditorState } from "prosemirror-state";
import { horizontalRule, schema as s } from "../../src/shared/editor/schema";
import { countText } from "../../src/shared/counts";
import { countDocument } from "../../src/renderer/src/editor/counts";

const p = (...text: string[]) => s.node("paragraph", null, text.map((t) => s.text(t)));

describe("counting a document block by block", () => {
  it("agrees with counting its whole text, before and after an edit", () => {
    const doc = s.node("doc", null, [
      s.node("heading", { level: 1 }, [s.text("A title")]),
      p("Don't stop — well-known words, 42 of them."),
      horizontalRule(),
      s.node("paragraph", null, [s.text("line"), s.node("hard_break"), s.text("break")]),
      s.node("bullet_list", null, [s.node("list_item", null, [p("one item")])]),
      s.node("code_block", null, [s.text("let x = 1")]),
    ]);
    const whole = (d: typeof doc) => countText(d.textBetween(0, d.content.size, "\n", " "));
    expect(countDocument(doc)).toEqual(whole(doc));
    let state = EditorState.create({ schema: s, doc });
    state = state.apply(state.tr.insertText(" more words here", 9));
    expect(countDocument(state.doc)).toEqual(whole(state.doc));
    expect(countDocument(state.doc).words).toBe(whole(doc).words + 3);
  });
});
