/**
 * Plain text in and out. Out: blocks apart by a blank line, line breaks as line breaks,
 * list items as "- " lines (tasks "- [ ] ", numbered "1. "). In: a paragraph per run of
 * lines between blank lines, its single line breaks kept as line breaks.
 */
import type { Node as PMNode } from "prosemirror-model";
import { schema } from "../editor/schema";

function inlineText(block: PMNode): string {
  let out = "";
  block.forEach((child) => (out += child.isText ? (child.text ?? "") : child.type.name === "hard_break" ? "\n" : ""));
  return out;
}

function blocks(node: PMNode, indent: string, out: string[]): void {
  node.forEach((child) => {
    const name = child.type.name;
    if (name === "horizontal_rule") out.push(`${indent}* * *`);
    else if (child.isTextblock) out.push(indent + inlineText(child).replace(/\n/g, `\n${indent}`));
    else if (name === "bullet_list" || name === "ordered_list" || name === "task_list") {
      const items: string[] = [];
      child.forEach((item, _offset, i) => {
        const marker = name === "ordered_list" ? `${i + 1}. ` : name === "task_list" ? (item.attrs.checked ? "- [x] " : "- [ ] ") : "- ";
        const inner: string[] = [];
        blocks(item, " ".repeat(marker.length), inner);
        items.push(indent + marker + inner.join("\n").trimStart());
      });
      out.push(items.join("\n"));
    } else blocks(child, indent, out);
  });
}

/** The document as plain text. */
export function toPlainText(doc: PMNode): string {
  const out: string[] = [];
  blocks(doc, "", out);
  return out.join("\n\n") + "\n";
}

/** A document of paragraphs from plain text. */
export function fromPlainText(text: string): PMNode {
  const paragraphs = text
    .replace(/\r\n?/g, "\n")
    .split(/\n(?:[ \t]*\n)+/)
    .map((chunk) => chunk.replace(/^\n+|\n+$/g, ""))
    .filter((chunk) => chunk.trim().length > 0)
    .map((chunk) => {
      const content: PMNode[] = [];
      chunk.split("\n").forEach((line, i) => {
        if (i > 0) content.push(schema.nodes.hard_break!.create());
        if (line) content.push(schema.text(line));
      });
      return schema.nodes.paragraph!.create(null, content);
    });
  return schema.nodes.doc!.create(null, paragraphs.length > 0 ? paragraphs : [schema.nodes.paragraph!.create()]);
}
