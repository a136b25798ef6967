/**
 * HTML in and out, for import and export: every block and mark the editor has.
 *
 * Out: ProseMirror's DOMSerializer with the schema's marks, and plain semantic HTML for the
 * nodes whose editor view is not (a rule is `<hr>`, a task item carries a disabled
 * checkbox, a code block is `<pre><code>`), wrapped in a standalone page.
 * In: ProseMirror's DOMParser with the schema's parse rules, the same ones paste uses, on
 * an inert `<template>` (no script runs, no image loads); links keep only safe addresses.
 *
 * Both take the DOM `Document` to work with, so that they run in the renderer and, in the
 * tests, on happy-dom.
 */
import { DOMParser as PMDOMParser, DOMSerializer, type DOMOutputSpec, type Node as PMNode } from "prosemirror-model";
import { schema } from "../../../shared/editor/schema";
import { takeOutWhatWriterCannotHold, type LeftOut } from "./leftOut";

const editorSerializer = DOMSerializer.fromSchema(schema);

const exportSerializer = new DOMSerializer(
  {
    ...editorSerializer.nodes,
    horizontal_rule: (): DOMOutputSpec => ["hr"],
    code_block: (): DOMOutputSpec => ["pre", ["code", 0]],
    task_list: (): DOMOutputSpec => ["ul", { "data-type": "task-list" }, 0],
    // The box is drawn by the page's style: an element beside the content would need a
    // wrapper around it, and a reader would take that for a block of its own.
    task_item: (node): DOMOutputSpec => ["li", { "data-checked": node.attrs.checked ? "true" : "false" }, 0],
    unknownBlock: (): DOMOutputSpec => ["div", 0],
  },
  {
    ...editorSerializer.marks,
    link: (mark): DOMOutputSpec => ["a", mark.attrs.title ? { href: String(mark.attrs.href), title: String(mark.attrs.title) } : { href: String(mark.attrs.href) }, 0],
  },
);

/** The document's content as HTML (no page around it). */
function toHTMLFragment(doc: PMNode, document: Document): string {
  const container = document.createElement("div");
  container.appendChild(exportSerializer.serializeFragment(doc.content, { document }));
  return container.innerHTML;
}

function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A standalone HTML page: the title as `<h1>` of the page's header, then the document. */
export function toHTMLPage(title: string, doc: PMNode, document: Document): string {
  const name = escapeHTML(title || "Untitled");
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>${name}</title>
<meta name="generator" content="Writer">
<style>
body { max-width: 40em; margin: 3em auto; padding: 0 1em; font: 18px/1.7 Georgia, "DejaVu Serif", serif; color: #222; }
header h1 { font-size: 2.2em; line-height: 1.15; }
pre { background: #f4f1ea; padding: 0.8em 1em; overflow-x: auto; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.88em; }
blockquote { margin-left: 0; padding-left: 1em; border-left: 3px solid #ddd; font-style: italic; }
ul[data-type="task-list"] { list-style: none; padding-left: 0.2em; }
ul[data-type="task-list"] li::before { content: "\\2610"; float: left; margin-left: -1.3em; }
ul[data-type="task-list"] li[data-checked="true"]::before { content: "\\2611"; }
ul[data-type="task-list"] li { margin-left: 1.3em; }
</style>
</head>
<body>
<header><h1 data-writer-title="true">${name}</h1></header>
<main>
${toHTMLFragment(doc, document)}
</main>
</body>
</html>
`;
}

/**
 * A Writer document from HTML (a whole page or a fragment), and the page's title if it
 * has one (a Writer page's header, else `<title>`), which is not part of the text.
 */
export function fromHTML(html: string, document: Document): { title: string | null; doc: PMNode; left: LeftOut } {
  const template = document.createElement("template");
  template.innerHTML = html;
  const root = template.content;
  let title: string | null = null;
  const header = root.querySelector("[data-writer-title]");
  if (header) {
    title = header.textContent?.trim() || null;
    header.closest("header")?.remove();
    header.remove();
  }
  const pageTitle = root.querySelector("title");
  if (title === null && pageTitle?.textContent?.trim()) title = pageTitle.textContent.trim();
  for (const el of root.querySelectorAll("title, meta, style, script, link, head, input")) el.remove();
  const main = root.querySelector("main") ?? root;
  const left = takeOutWhatWriterCannotHold(main, document);
  const doc = PMDOMParser.fromSchema(schema).parse(main, { preserveWhitespace: false });
  return { title, doc, left };
}
