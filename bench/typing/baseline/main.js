/* global document */
/**
 * The floor for the typing bench: a plain ProseMirror editor with no sync, holding the
 * same text (one paragraph per line) in Writer's schema, with Writer's input rules,
 * keymaps and history, styled by Writer's CSS. Bundled by Vite from run.ts.
 *
 * Plain JavaScript on purpose: this file runs in the browser and imports renderer
 * modules, while `tsc -b` checks everything under bench/ with Node's typings only
 * (tsconfig.node.json), where neither the DOM nor src/renderer may appear.
 */
import { EditorState } from "prosemirror-state";
import { EditorView } from "prosemirror-view";
import { keymap } from "prosemirror-keymap";
import { baseKeymap } from "prosemirror-commands";
import { history } from "prosemirror-history";
import { dropCursor } from "prosemirror-dropcursor";
import { gapCursor } from "prosemirror-gapcursor";
import { schema } from "../../../src/shared/editor/schema";
import { writerInputRules } from "../../../src/renderer/src/editor/inputrules";
import { writerKeymap } from "../../../src/renderer/src/editor/setup";
import "../../../src/renderer/src/styles.css";

async function start() {
  const response = await fetch("./text.txt", { cache: "no-store" });
  if (!response.ok) throw new Error(`text.txt: HTTP ${response.status}`);
  const text = await response.text();
  const paragraph = schema.nodes.paragraph;
  const doc = schema.nodes.doc.create(
    null,
    text.split("\n").map((line) => paragraph.create(null, line.length > 0 ? schema.text(line) : null)),
  );
  const mount = document.querySelector(".editor-mount");
  const view = new EditorView(mount, {
    state: EditorState.create({
      schema,
      doc,
      // Writer's plugins minus the Automerge sync plugin and the empty-document placeholder.
      plugins: [writerInputRules(), writerKeymap(() => undefined), keymap(baseKeymap), history(), dropCursor(), gapCursor()],
    }),
    // The same attributes as Writer's editor (spellcheck included: it costs the same in both).
    attributes: { class: "prose", spellcheck: "true", "aria-label": "Document text", role: "textbox", "aria-multiline": "true" },
    dispatchTransaction(tr) {
      view.updateState(view.state.apply(tr));
    },
  });
  // The counterpart of Writer's "writer:editor-ready": the document is on screen and editable.
  mount.dataset.ready = "true";
  performance.mark("baseline:editor-ready");
  view.focus();
}

start().catch((error) => {
  document.body.textContent = `baseline could not start: ${error.message}`;
});
