/**
 * A tiny ProseMirror builder in the style of prosemirror-test-builder, over the app's
 * schema: `doc(h1("Title"), p("plain ", strong("bold")))`.
 */
import type { Attrs, Node as PMNode } from "prosemirror-model";
import { horizontalRule, schema } from "../../../src/shared/editor/schema";

/** A child is a node, a string (text) or what a mark builder returns (marked text). */
export type Child = PMNode | string | Child[];

function nodes(children: Child[]): PMNode[] {
  const out: PMNode[] = [];
  for (const c of children) {
    if (Array.isArray(c)) out.push(...nodes(c));
    else if (typeof c === "string") {
      if (c !== "") out.push(schema.text(c));
    } else out.push(c);
  }
  return out;
}

function nodeType(name: string) {
  const type = schema.nodes[name];
  if (!type) throw new Error(`no node type ${name}`);
  return type;
}

function block(name: string, attrs?: Attrs) {
  return (...children: Child[]): PMNode => nodeType(name).createChecked(attrs ?? null, nodes(children));
}

function mark(name: string, attrs?: Attrs) {
  return (...children: Child[]): PMNode[] => {
    const type = schema.marks[name];
    if (!type) throw new Error(`no mark type ${name}`);
    const m = type.create(attrs ?? null);
    return nodes(children).map((n) => n.mark(m.addToSet(n.marks)));
  };
}

export const doc = block("doc");
export const p = block("paragraph");
export const h1 = block("heading", { level: 1 });
export const h2 = block("heading", { level: 2 });
export const h3 = block("heading", { level: 3 });
export const blockquote = block("blockquote");
export const ul = block("bullet_list");
export const ol = block("ordered_list");
export const li = block("list_item");
export const tasks = block("task_list");
export const todo = block("task_item", { checked: false });
export const done = block("task_item", { checked: true });
export const pre = (code: string): PMNode => nodeType("code_block").create(null, code ? schema.text(code) : null);
export const hr = (): PMNode => horizontalRule();
export const br = (): PMNode => nodeType("hard_break").create();

export const strong = mark("strong");
export const em = mark("em");
export const u = mark("underline");
export const s = mark("strike");
export const code = mark("code");
export const a = (href: string, ...children: Child[]): PMNode[] => mark("link", { href, title: null })(...children);

/** The binding's bookkeeping attributes, which say nothing about the content. */
const bookkeeping = new Set(["isAmgBlock", "unknownAttrs"]);

/** A node as JSON without the binding's bookkeeping, for deep equality. */
export function content(node: PMNode): unknown {
  return JSON.parse(JSON.stringify(node.toJSON(), (key, value: unknown) => (bookkeeping.has(key) ? undefined : value)));
}
