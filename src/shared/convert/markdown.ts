/**
 * Markdown in and out, for import and export: every block and mark the editor has.
 *
 * prosemirror-markdown does the work (markdown-it parses, its serializer escapes); this
 * file maps Writer's schema onto it. Markdown has no underline and no task lists, so:
 *
 * - underline is written as inline HTML, `<u>…</u>`, and read back from it (the only
 *   HTML that is read: markdown-it's `html` option stays off, so any other HTML in an
 *   imported file arrives as the text it is, never as markup);
 * - a task list is a bullet list whose items start with `[ ] ` or `[x] ` (GitHub's form);
 * - strikethrough is `~~…~~`, a line break inside a paragraph `\` at the end of the line.
 *
 * Links keep only safe addresses (`safeHref`): `[x](javascript:…)` imports as plain text.
 */
import MarkdownIt from "markdown-it";
import type Token from "markdown-it/lib/token.mjs";
import { MarkdownParser, MarkdownSerializer, defaultMarkdownSerializer, type ParseSpec } from "prosemirror-markdown";
import { Fragment, type Mark, type Node as PMNode } from "prosemirror-model";
import { safeHref } from "../links";
import { horizontalRule, schema } from "../editor/schema";

// ---- Reading -------------------------------------------------------------------------

/** markdown-it as CommonMark plus strikethrough; no raw HTML (see the top of the file). */
function markdownIt(): MarkdownIt {
  const md = new MarkdownIt("commonmark", { html: false, linkify: false });
  md.enable("strikethrough");
  md.validateLink = (url) => safeHref(url) !== null;
  // `<u>` and `</u>`, and nothing else, become underline tokens.
  md.inline.ruler.before("text", "underline_tag", (state, silent) => {
    const rest = state.src.slice(state.pos, state.pos + 4);
    const open = rest.startsWith("<u>");
    const close = rest.startsWith("</u>");
    if (!open && !close) return false;
    if (!silent) state.push(open ? "u_open" : "u_close", "u", open ? 1 : -1);
    state.pos += open ? 3 : 4;
    return true;
  });
  // GitHub task lists: a bullet item whose text starts with "[ ] " or "[x] ".
  md.core.ruler.after("inline", "task_lists", (state) => {
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i]!.type !== "bullet_list_open") continue;
      const items = listItems(tokens, i);
      if (items.length === 0 || !items.every((item) => taskMarker(tokens, item) !== null)) continue;
      tokens[i]!.type = "task_list_open";
      tokens[closingIndex(tokens, i)]!.type = "task_list_close";
      for (const item of items) {
        const checked = taskMarker(tokens, item)!;
        tokens[item]!.type = "task_item_open";
        tokens[item]!.attrSet("checked", checked ? "true" : "false");
        tokens[closingIndex(tokens, item)]!.type = "task_item_close";
        const inline = tokens[item + 2]!;
        const first = inline.children![0]!;
        first.content = first.content.slice(4);
        inline.content = inline.content.slice(4);
      }
    }
  });
  return md;
}

/** Index of the token that closes the one at `open` (same nesting level). */
function closingIndex(tokens: Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    depth += tokens[i]!.nesting;
    if (depth === 0) return i;
  }
  return tokens.length - 1;
}

/** Indexes of a list's own item openers. */
function listItems(tokens: Token[], listOpen: number): number[] {
  const items: number[] = [];
  const end = closingIndex(tokens, listOpen);
  for (let i = listOpen + 1; i < end; i = closingIndex(tokens, i) + 1) if (tokens[i]!.type === "list_item_open") items.push(i);
  return items;
}

/** For an item that starts with "[ ] " / "[x] ": whether it is checked; otherwise null. */
function taskMarker(tokens: Token[], item: number): boolean | null {
  const para = tokens[item + 1];
  const inline = tokens[item + 2];
  if (para?.type !== "paragraph_open" || inline?.type !== "inline") return null;
  const first = inline.children?.[0];
  if (first?.type !== "text") return null;
  const m = /^\[( |x|X)\] /.exec(first.content);
  return m ? m[1] !== " " : null;
}

const tokens: Record<string, ParseSpec> = {
  paragraph: { block: "paragraph" },
  heading: { block: "heading", getAttrs: (tok) => ({ level: Math.min(3, Number(tok.tag.slice(1))) }) },
  blockquote: { block: "blockquote" },
  code_block: { block: "code_block", noCloseToken: true },
  fence: { block: "code_block", noCloseToken: true },
  hr: { node: "horizontal_rule" },
  bullet_list: { block: "bullet_list" },
  ordered_list: { block: "ordered_list" },
  list_item: { block: "list_item" },
  task_list: { block: "task_list" },
  task_item: { block: "task_item", getAttrs: (tok) => ({ checked: tok.attrGet("checked") === "true" }) },
  hardbreak: { node: "hard_break" },
  image: { ignore: true, noCloseToken: true },
  html_block: { ignore: true, noCloseToken: true },
  html_inline: { ignore: true, noCloseToken: true },
  em: { mark: "em" },
  strong: { mark: "strong" },
  s: { mark: "strike" },
  u: { mark: "underline" },
  link: { mark: "link", getAttrs: (tok) => ({ href: safeHref(tok.attrGet("href") ?? "") ?? "", title: tok.attrGet("title") || null }) },
  code_inline: { mark: "code", noCloseToken: true },
};

let parser: MarkdownParser | undefined;

/** A Writer document (ProseMirror, Writer's schema) from Markdown text. */
export function fromMarkdown(markdown: string): PMNode {
  parser ??= new MarkdownParser(schema, markdownIt(), tokens);
  return withRules(parser.parse(markdown.replace(/\r\n?/g, "\n")));
}

/** The schema's rule is an empty textblock flagged for Automerge; the parser made a bare node. */
function withRules(node: PMNode): PMNode {
  if (node.type.name === "horizontal_rule") return horizontalRule();
  if (node.isTextblock || node.isLeaf) return node;
  const children: PMNode[] = [];
  node.forEach((child) => children.push(withRules(child)));
  return node.copy(Fragment.from(children));
}

// ---- Writing -------------------------------------------------------------------------

const base = defaultMarkdownSerializer;

const serializer = new MarkdownSerializer(
  {
    paragraph: base.nodes.paragraph!,
    heading: (state, node) => {
      state.write(`${"#".repeat(Math.min(3, Math.max(1, Number(node.attrs.level))))} `);
      state.renderInline(node, false);
      state.closeBlock(node);
    },
    blockquote: base.nodes.blockquote!,
    code_block: (state, node) => {
      // A fence longer than any run of backticks inside.
      const longest = Math.max(2, ...(node.textContent.match(/`+/g) ?? []).map((run) => run.length));
      const fence = "`".repeat(longest + 1);
      state.write(`${fence}\n`);
      let code = "";
      node.forEach((child) => (code += child.isText ? (child.text ?? "") : "\n"));
      state.text(code, false);
      // Always a line break before the fence: the reader drops one, so a trailing one survives.
      state.write("\n");
      state.write(fence);
      state.closeBlock(node);
    },
    horizontal_rule: (state, node) => {
      state.write("---");
      state.closeBlock(node);
    },
    bullet_list: base.nodes.bullet_list!,
    ordered_list: base.nodes.ordered_list!,
    list_item: base.nodes.list_item!,
    task_list: (state, node) => state.renderList(node, "  ", () => "- "),
    task_item: (state, node) => {
      state.write(node.attrs.checked ? "[x] " : "[ ] ");
      state.renderContent(node);
    },
    hard_break: base.nodes.hard_break!,
    text: base.nodes.text!,
    unknownBlock: (state, node) => state.renderContent(node),
  },
  {
    em: base.marks.em!,
    strong: base.marks.strong!,
    code: base.marks.code!,
    link: {
      open: "[",
      close: (_state, mark: Mark) => {
        const href = (safeHref(String(mark.attrs.href)) ?? "").replace(/[()"\\]/g, "\\$&");
        return mark.attrs.title ? `](${href} "${String(mark.attrs.title).replace(/"/g, '\\"')}")` : `](${href})`;
      },
      mixable: true,
    },
    underline: { open: "<u>", close: "</u>", mixable: true, expelEnclosingWhitespace: true },
    strike: { open: "~~", close: "~~", mixable: true, expelEnclosingWhitespace: true },
    // Suggestions have no Markdown; exports first settle them (shared/suggestions.ts
    // acceptedView), and these keep any that reach here from failing the whole export.
    insertion: { open: "", close: "", mixable: true },
    deletion: { open: "", close: "", mixable: true },
    format_change: { open: "", close: "", mixable: true },
  },
  { escapeExtraCharacters: /[~<]/g },
);

/** Markdown text of a Writer document (ProseMirror, Writer's schema). */
export function toMarkdown(doc: PMNode): string {
  return serializer.serialize(doc, { tightLists: true }) + "\n";
}
