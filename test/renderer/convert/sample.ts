/** A document with every block and mark the editor has, for the converters' round trips. */
import type { Mark, Node as PMNode } from "prosemirror-model";
import { horizontalRule, schema } from "../../../src/shared/editor/schema";

const n = schema.nodes;
const m = schema.marks;

export function text(value: string, ...marks: Mark[]): PMNode {
  return schema.text(value, marks);
}

export function p(...content: (PMNode | string)[]): PMNode {
  return n.paragraph!.create(null, content.map((c) => (typeof c === "string" ? text(c) : c)));
}

export function everything(): PMNode {
  return n.doc!.create(null, [
    n.heading!.create({ level: 1 }, text("Chapter one")),
    n.heading!.create({ level: 2 }, text("The storm")),
    n.heading!.create({ level: 3 }, text("Night")),
    p(
      "Plain, ",
      text("bold", m.strong!.create()),
      ", ",
      text("italic", m.em!.create()),
      ", ",
      text("underlined", m.underline!.create()),
      ", ",
      text("struck", m.strike!.create()),
      ", ",
      text("code()", m.code!.create()),
      ", ",
      text("a link", m.link!.create({ href: "https://example.com/a?b=c", title: null })),
      " and ",
      text("all at once", m.strong!.create(), m.em!.create()),
      ".",
    ),
    p("A line", n.hard_break!.create(), "and the next, with *stars*, _underscores_, `ticks`, <tags> & [brackets]."),
    n.blockquote!.create(null, [p("Quoted ", text("words", m.em!.create()), ".")]),
    n.code_block!.create(null, text("const a = `b`;\n  indented()\n")),
    horizontalRule(),
    n.bullet_list!.create(null, [n.list_item!.create(null, p("first")), n.list_item!.create(null, [p("second"), n.bullet_list!.create(null, n.list_item!.create(null, p("nested")))])]),
    n.ordered_list!.create(null, [n.list_item!.create(null, p("one")), n.list_item!.create(null, p("two"))]),
    n.task_list!.create(null, [n.task_item!.create({ checked: false }, p("to do")), n.task_item!.create({ checked: true }, p("done"))]),
    p("The end."),
  ]);
}
