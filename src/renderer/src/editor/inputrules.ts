/** Markdown-style shortcuts typed at the start of a line, and writer's typography. */
import { InputRule, inputRules, wrappingInputRule, textblockTypeInputRule, smartQuotes, ellipsis, emDash } from "prosemirror-inputrules";
import { TextSelection, type Plugin } from "prosemirror-state";
import { findWrapping } from "prosemirror-transform";
import { schema, horizontalRule } from "../../../shared/editor/schema";

const n = schema.nodes;

export function writerInputRules(): Plugin {
  return inputRules({
    rules: [
      ...smartQuotes,
      ellipsis,
      emDash,
      // "# ", "## ", "### " make headings.
      textblockTypeInputRule(/^(#{1,3})\s$/, n.heading!, (match) => ({ level: match[1]!.length })),
      // "> " starts a quote.
      wrappingInputRule(/^\s*>\s$/, n.blockquote!),
      // "[ ] " and "[x] " start a task list, checked or not (before the bullet rule).
      new InputRule(/^\s*\[([ xX]?)\]\s$/, (state, match, start, end) => {
        const checked = /x/i.test(match[1] ?? "");
        const tr = state.tr.delete(start, end);
        const range = tr.doc.resolve(start).blockRange();
        const wrapping = range && findWrapping(range, n.task_list!);
        if (!range || !wrapping) return null;
        return tr.wrap(range, wrapping.map((w) => (w.type === n.task_item ? { type: w.type, attrs: { checked } } : w)));
      }),
      // "* ", "- ", "+ " start a bullet list; "1. " a numbered one.
      wrappingInputRule(/^\s*([-+*])\s$/, n.bullet_list!),
      wrappingInputRule(/^(\d+)\.\s$/, n.ordered_list!),
      // "```" makes a code block.
      textblockTypeInputRule(/^```$/, n.code_block!),
      // "---" on its own line becomes a horizontal rule. The em-dash rule has already
      // turned the first two hyphens into "—" by the time the third is typed.
      new InputRule(/^(?:--|—)-$/, (state, match, start) => {
        const $start = state.doc.resolve(start);
        if ($start.parent.type !== n.paragraph || $start.parent.textContent !== match[0].slice(0, -1)) return null;
        const tr = state.tr.replaceWith($start.before(), $start.after(), [horizontalRule(), n.paragraph!.create()]);
        // Caret into the new paragraph after the rule: rule (1) + paragraph opening (1).
        return tr.setSelection(TextSelection.create(tr.doc, $start.before() + 2)).scrollIntoView();
      }),
    ],
  });
}
