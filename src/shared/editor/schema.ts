/**
 * The rich-text schema: what a writer can put in a document, and how each node and
 * mark maps onto Automerge's block markers and marks (the Peritext model).
 *
 * Built on `@automerge/prosemirror`'s SchemaAdapter rather than a fork of the binding,
 * as DESIGN.md asks. Pure code: no DOM access at import time, so it runs in Node too.
 */
import { SchemaAdapter, type MappedMarkSpec, type MappedSchemaSpec } from "@automerge/prosemirror";
import { Fragment, type DOMOutputSpec, type Mark, type Node as PMNode } from "prosemirror-model";
import { safeHref } from "../links";

/** The little of a DOM element that parse rules read (this module also type-checks without the DOM). */
interface DomElement {
  getAttribute(name: string): string | null;
  style: { fontWeight: string };
}

const inlineMarks = "strong em underline strike code link insertion deletion format_change";

/** The attributes every suggestion mark carries. */
const suggestionAttrs = {
  id: { default: "" },
  author: { default: "" },
  writer: { default: null },
  at: { default: 0 },
};

function suggestionMarkSpec(tag: "ins" | "del" | "span", markName: string): MappedMarkSpec {
  const className = markName === "suggest-insert" ? "suggestion-insert" : markName === "suggest-delete" ? "suggestion-delete" : "suggestion-format";
  return {
    attrs: suggestionAttrs,
    inclusive: false,
    // Pasted <ins>/<del> from elsewhere are not suggestions of anyone here.
    parseDOM: [],
    toDOM: (mark): DOMOutputSpec => [
      tag,
      { class: className, "data-suggestion": String(mark.attrs.id), title: suggestionTitle(mark) },
      0,
    ],
    automerge: {
      markName,
      parsers: {
        fromAutomerge: (value) => parseSuggestionValue(value),
        fromProsemirror: (mark: Mark) => JSON.stringify(suggestionValueOf(mark)),
      },
    },
  };
}

function suggestionTitle(mark: Mark): string {
  const who = String(mark.attrs.author || "Someone");
  const verb = mark.type.name === "insertion" ? "Suggested insertion" : mark.type.name === "deletion" ? "Suggested deletion" : "Suggested formatting";
  const at = Number(mark.attrs.at);
  // When, as the writer's own clock reads it (hovering a suggestion shows who and when).
  const when = Number.isFinite(at) && at > 0 ? `, ${new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}` : "";
  return `${verb} by ${who}${when}`;
}

/** A suggestion mark's attributes as stored in Automerge (only the fields this mark has). */
function suggestionValueOf(mark: Mark): Record<string, unknown> {
  const a = mark.attrs;
  const base = { id: String(a.id), author: String(a.author), writer: typeof a.writer === "string" ? a.writer : null, at: Number(a.at) || 0 };
  return mark.type.name === "format_change" ? { ...base, added: stringList(a.added), removed: stringList(a.removed) } : base;
}

/** Reads a suggestion mark's value from Automerge; a malformed one becomes an anonymous suggestion, never an exception. */
function parseSuggestionValue(value: unknown): Record<string, unknown> {
  let parsed: unknown = null;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = null;
    }
  }
  const v = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
  return {
    id: typeof v.id === "string" ? v.id.slice(0, 64) : "",
    author: typeof v.author === "string" ? v.author.slice(0, 200) : "",
    writer: typeof v.writer === "string" ? v.writer.slice(0, 64) : null,
    at: typeof v.at === "number" && Number.isFinite(v.at) ? v.at : 0,
    added: stringList(v.added),
    removed: stringList(v.removed),
  };
}

const FORMAT_MARKS = new Set(["strong", "em", "underline", "strike", "code"]);

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === "string" && FORMAT_MARKS.has(x)) : [];
}

// Marks say `inclusive: true` explicitly although it is ProseMirror's default: the
// binding (0.2.0) decides Automerge's expand setting from `spec.inclusive` alone, and
// would create bold, italic... that do not grow when the writer types at their end,
// while the editor shows the new text formatted (found by test/renderer/sync.test.ts).
const spec: MappedSchemaSpec = {
  nodes: {
    doc: { content: "block+" },
    paragraph: {
      automerge: { block: "paragraph" },
      content: "inline*",
      group: "block",
      parseDOM: [{ tag: "p" }],
      toDOM: (): DOMOutputSpec => ["p", 0],
    },
    unknownBlock: {
      automerge: { unknownBlock: true },
      group: "block",
      content: "block+",
      // Only Writer's own marker: `attrs` here would be what the rule sets, not a match,
      // and every pasted or imported <div> became an unknown block.
      parseDOM: [{ tag: 'div[data-unknown-block="true"]' }],
      toDOM: (): DOMOutputSpec => ["div", { "data-unknown-block": "true" }, 0],
    },
    heading: {
      automerge: {
        block: "heading",
        attrParsers: {
          fromAutomerge: (block) => ({ level: clampLevel(block.attrs.level) }),
          fromProsemirror: (node) => ({ level: clampLevel(node.attrs.level) }),
        },
      },
      attrs: { level: { default: 1 } },
      content: "inline*",
      group: "block",
      defining: true,
      parseDOM: [
        { tag: "h1", attrs: { level: 1 } },
        { tag: "h2", attrs: { level: 2 } },
        { tag: "h3", attrs: { level: 3 } },
        // Writers get three heading levels; deeper headings from pasted HTML become H3.
        { tag: "h4", attrs: { level: 3 } },
        { tag: "h5", attrs: { level: 3 } },
        { tag: "h6", attrs: { level: 3 } },
      ],
      toDOM: (node): DOMOutputSpec => ["h" + clampLevel(node.attrs.level), 0],
    },
    blockquote: {
      automerge: { block: "blockquote" },
      content: "block+",
      group: "block",
      defining: true,
      parseDOM: [{ tag: "blockquote" }],
      toDOM: (): DOMOutputSpec => ["blockquote", 0],
    },
    code_block: {
      automerge: { block: "code-block" },
      // A line break is allowed too: merges make it (one writer types Shift+Enter in a
      // paragraph another turns into a code block), and @automerge/prosemirror throws
      // ("Match cannot be null") on a document whose blocks hold what the schema
      // forbids, so that document could not be opened (found by the P1 property test).
      content: "(text | hard_break)*",
      // Suggestions only: a code block has no formatting of its own.
      marks: "insertion deletion",
      group: "block",
      code: true,
      defining: true,
      parseDOM: [{ tag: "pre", preserveWhitespace: "full" }],
      toDOM: (): DOMOutputSpec => ["pre", ["code", 0]],
    },
    horizontal_rule: {
      // @automerge/prosemirror 0.2.0 maps Automerge indexes to ProseMirror positions as
      // if every block had an opening and a closing token; a leaf <hr> (size 1) shifts
      // every position after it by one and later edits there throw. So the rule is an
      // atom textblock that is always empty (size 2), drawn as a rule, and created as
      // an explicit block (isAmgBlock) since it has no text to infer its marker from;
      // see horizontalRule().
      automerge: { block: "horizontal-rule" },
      group: "block",
      content: "text*",
      marks: "",
      atom: true,
      selectable: true,
      parseDOM: [{ tag: "hr", attrs: { isAmgBlock: true }, getContent: () => Fragment.empty }],
      toDOM: (): DOMOutputSpec => ["div", { class: "rule", contenteditable: "false" }, ["hr"], ["span", { class: "rule-content" }, 0]],
    },
    ordered_list: {
      group: "block",
      content: "list_item+",
      parseDOM: [{ tag: "ol" }],
      toDOM: (): DOMOutputSpec => ["ol", 0],
    },
    bullet_list: {
      group: "block",
      content: "list_item+",
      parseDOM: [{ tag: "ul:not([data-type=task-list])", priority: 40 }, { tag: "ul" }],
      toDOM: (): DOMOutputSpec => ["ul", 0],
    },
    list_item: {
      automerge: {
        block: { within: { ordered_list: "ordered-list-item", bullet_list: "unordered-list-item" } },
      },
      content: "paragraph block*",
      defining: true,
      parseDOM: [{ tag: "li" }],
      toDOM: (): DOMOutputSpec => ["li", 0],
    },
    task_list: {
      group: "block",
      content: "task_item+",
      parseDOM: [{ tag: "ul[data-type=task-list]", priority: 60 }],
      toDOM: (): DOMOutputSpec => ["ul", { "data-type": "task-list" }, 0],
    },
    task_item: {
      automerge: { block: { within: { task_list: "task-list-item" } } },
      attrs: { checked: { default: false } },
      content: "paragraph block*",
      defining: true,
      parseDOM: [
        {
          tag: "li[data-checked]",
          priority: 60,
          getAttrs: (dom) => ({ checked: (dom as unknown as DomElement).getAttribute("data-checked") === "true" }),
        },
      ],
      toDOM: (node): DOMOutputSpec => [
        "li",
        { "data-checked": node.attrs.checked ? "true" : "false", class: "task-item" },
        ["span", { class: "task-checkbox", contenteditable: "false" }],
        ["div", { class: "task-content" }, 0],
      ],
    },
    text: { group: "inline" },
    hard_break: {
      automerge: { block: "hard-break", isEmbed: true },
      inline: true,
      group: "inline",
      selectable: false,
      parseDOM: [{ tag: "br" }],
      toDOM: (): DOMOutputSpec => ["br"],
    },
  },
  marks: {
    link: {
      attrs: { href: {}, title: { default: null } },
      inclusive: false,
      parseDOM: [
        {
          tag: "a[href]",
          getAttrs: (dom) => {
            const href = safeHref((dom as unknown as DomElement).getAttribute("href") ?? "");
            // An unsafe link keeps its text and loses the link.
            return href === null ? false : { href, title: (dom as unknown as DomElement).getAttribute("title") };
          },
        },
      ],
      toDOM: (mark): DOMOutputSpec => {
        const href = safeHref(String(mark.attrs.href)) ?? "#";
        return ["a", { href, title: mark.attrs.title, rel: "noopener noreferrer nofollow", target: "_blank" }, 0];
      },
      automerge: {
        markName: "link",
        parsers: {
          fromAutomerge: (value) => parseLinkValue(value),
          fromProsemirror: (mark: Mark) => JSON.stringify({ href: safeHref(String(mark.attrs.href)) ?? "", title: mark.attrs.title ?? null }),
        },
      },
    },
    strong: {
      parseDOM: [
        { tag: "strong" },
        // Google Docs wraps pasted content in <b style="font-weight:normal">.
        { tag: "b", getAttrs: (node) => (node as unknown as DomElement).style.fontWeight !== "normal" && null },
        { style: "font-weight=400", clearMark: (m) => m.type.name === "strong" },
        { style: "font-weight", getAttrs: (value) => /^(bold(er)?|[5-9]\d{2,})$/.test(value as string) && null },
      ],
      toDOM: (): DOMOutputSpec => ["strong", 0],
      inclusive: true,
      automerge: { markName: "strong" },
    },
    em: {
      parseDOM: [
        { tag: "i" },
        { tag: "em" },
        { style: "font-style=italic" },
        { style: "font-style=normal", clearMark: (m) => m.type.name === "em" },
      ],
      toDOM: (): DOMOutputSpec => ["em", 0],
      inclusive: true,
      automerge: { markName: "em" },
    },
    underline: {
      parseDOM: [{ tag: "u" }, { style: "text-decoration=underline" }, { style: "text-decoration-line=underline" }],
      toDOM: (): DOMOutputSpec => ["u", 0],
      inclusive: true,
      automerge: { markName: "underline" },
    },
    strike: {
      parseDOM: [{ tag: "s" }, { tag: "del" }, { tag: "strike" }, { style: "text-decoration=line-through" }, { style: "text-decoration-line=line-through" }],
      toDOM: (): DOMOutputSpec => ["s", 0],
      inclusive: true,
      automerge: { markName: "strike" },
    },
    // Suggestions (track changes): who proposed inserting or deleting this text, or
    // changing its formatting; see shared/suggestions.ts. Not inclusive, so typing
    // just after a suggestion in Editing mode is plain text, and each one is stored in
    // Automerge as one mark whose value carries its ID, author and time, which merges
    // like any other mark.
    insertion: suggestionMarkSpec("ins", "suggest-insert"),
    deletion: suggestionMarkSpec("del", "suggest-delete"),
    format_change: {
      ...suggestionMarkSpec("span", "suggest-format"),
      attrs: { ...suggestionAttrs, added: { default: [] }, removed: { default: [] } },
    },
    code: {
      parseDOM: [{ tag: "code" }],
      toDOM: (): DOMOutputSpec => ["code", 0],
      inclusive: true,
      automerge: { markName: "code" },
    },
  },
};

// Marks allowed in every text block (code blocks set marks: "").
for (const name of ["paragraph", "heading"]) {
  const node = spec.nodes[name];
  if (node) node.marks = inlineMarks;
}

function clampLevel(level: unknown): 1 | 2 | 3 {
  const n = Number(level);
  return n === 2 ? 2 : n >= 3 ? 3 : 1;
}

function parseLinkValue(value: unknown): { href: string; title: string | null } {
  if (typeof value === "string") {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === "object") {
        const { href, title } = parsed as { href?: unknown; title?: unknown };
        return { href: safeHref(typeof href === "string" ? href : "") ?? "", title: typeof title === "string" ? title : null };
      }
    } catch {
      // A malformed link value from another client renders as a harmless empty link.
    }
  }
  return { href: "", title: null };
}

/** The adapter shared by every editor and by the converters. */
export const schemaAdapter = new SchemaAdapter(spec);

// `@automerge/prosemirror` 0.2.0 ignores attrParsers on "within" mappings, so a task
// item's `checked` would never reach Automerge. The mapping objects are public; give
// the task item its parsers here rather than forking the binding.
for (const mapping of schemaAdapter.nodeMappings) {
  if (mapping.blockName === "task-list-item") {
    mapping.attrParsers = {
      fromAutomerge: (block) => ({ checked: block.attrs.checked === true }),
      fromProsemirror: (node: PMNode) => ({ checked: node.attrs.checked === true }),
    };
  }
}

export const schema = schemaAdapter.schema;

/** A horizontal rule that survives the trip through Automerge (see the node spec). */
export function horizontalRule(): PMNode {
  return schema.nodes.horizontal_rule!.create({ isAmgBlock: true });
}
