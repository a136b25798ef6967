/**
 * Rich-text edits as a writer makes them, for property tests: each edit opens the
 * document the way an editor window does (the binding's view of Automerge), runs the
 * editor's own command (src/renderer/src/editor/commands.ts and ProseMirror's base
 * keymap) and lets the editor's sync plugin (writerSyncPlugin) write it to Automerge.
 * So the block and mark operations that reach Automerge are exactly the editor's.
 *
 * Pure of Node and of the test runner: used in-process by the property tests and inside
 * host processes (host-child.ts).
 */
import type { DocHandle } from "@automerge/automerge-repo";
import { init } from "@automerge/prosemirror";
import { next as A } from "@automerge/automerge";
import { baseKeymap, chainCommands } from "prosemirror-commands";
import { EditorState, TextSelection, type Command, type Transaction } from "prosemirror-state";
import type { Node as PMNode } from "prosemirror-model";
import { schema, schemaAdapter } from "../../../src/shared/editor/schema";
import { TEXT_PATH, type WriterDocument } from "../../../src/shared/document";
import { writerSyncPlugin } from "../../../src/renderer/src/editor/sync";
import {
  insertHardBreak,
  liftAnyListItem,
  setBlock,
  setLink,
  sinkAnyListItem,
  splitAnyListItem,
  toggleBlockquote,
  toggleInlineMark,
  toggleList,
  type BlockKind,
  type ListKind,
  type MarkName,
} from "../../../src/renderer/src/editor/commands";

/**
 * One edit. `at` picks a caret position among the document's text positions (modulo
 * their number), `length` how many positions further the selection ends (within the
 * same text block), so that any numbers make a valid edit on any document.
 */
export type RichEdit =
  | { kind: "type"; at: number; text: string; mark: MarkName | null }
  | { kind: "delete"; at: number; length: number }
  | { kind: "mark"; at: number; length: number; mark: MarkName | "link" }
  | { kind: "enter"; at: number }
  | { kind: "backspace"; at: number }
  | { kind: "block"; at: number; block: BlockKind }
  | { kind: "list"; at: number; length: number; list: ListKind }
  | { kind: "indent"; at: number; lift: boolean }
  | { kind: "quote"; at: number }
  | { kind: "linebreak"; at: number };

/** What became of an edit: it changed the document, it did nothing there, or the binding threw. */
export type EditOutcome = { outcome: "changed" | "unchanged" } | { outcome: "threw"; error: string };

const enter: Command = chainCommands(splitAnyListItem, baseKeymap.Enter!);
const backspace: Command = baseKeymap.Backspace!;

/** Every position inside a text block where a caret can be, in document order. */
function caretPositions(doc: PMNode): number[] {
  const out: number[] = [];
  doc.descendants((node, pos) => {
    if (node.isTextblock && !node.type.spec.atom) for (let i = 0; i <= node.content.size; i++) out.push(pos + 1 + i);
    return !node.isTextblock;
  });
  return out;
}

/** An editor as edits need it: its state, and a way to dispatch a transaction. */
export interface EditTarget {
  readonly state: EditorState;
  dispatch(tr: Transaction): void;
}

/** Applies `edit` to the document in `handle` through the editor's commands and sync plugin, in a window opened for it. */
export function applyRichEdit(handle: DocHandle<WriterDocument>, edit: RichEdit): EditOutcome {
  const before = handle.heads().join(",");
  try {
    const { plugin } = writerSyncPlugin({ adapter: schemaAdapter, handle: handle as DocHandle<unknown>, path: TEXT_PATH });
    const target = {
      state: EditorState.create({ schema, doc: init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc, plugins: [plugin] }),
      dispatch(tr: Transaction) {
        target.state = target.state.apply(tr);
      },
    };
    editOn(target, edit);
  } catch (error) {
    return { outcome: "threw", error: (error as Error).message };
  }
  return { outcome: handle.heads().join(",") === before ? "unchanged" : "changed" };
}

/** Applies `edit` in an open editor (its sync plugin writes it to Automerge). */
export function editOn(target: EditTarget, edit: RichEdit): void {
  const positions = caretPositions(target.state.doc);
  if (positions.length === 0) return;
  const from = positions[edit.at % positions.length]!;
  const $from = target.state.doc.resolve(from);
  const length = "length" in edit ? edit.length : 0;
  const to = Math.min(from + length, $from.end());
  target.dispatch(target.state.tr.setSelection(TextSelection.create(target.state.doc, from, to)));
  const run = (command: Command) => command(target.state, (tr) => target.dispatch(tr));
  switch (edit.kind) {
    case "type": {
      const mark = edit.mark ? schema.marks[edit.mark]! : undefined;
      let tr = target.state.tr;
      if (mark && $from.parent.type.allowsMarkType(mark)) tr = tr.setStoredMarks(mark.create().addToSet(target.state.storedMarks ?? $from.marks()));
      target.dispatch(tr.insertText(edit.text));
      break;
    }
    case "delete":
      if (to > from) target.dispatch(target.state.tr.deleteSelection());
      break;
    case "mark":
      run(edit.mark === "link" ? setLink("https://example.org/" + String(edit.at % 7)) : toggleInlineMark(edit.mark));
      break;
    case "enter":
      run(enter);
      break;
    case "backspace":
      run(backspace);
      break;
    case "block":
      run(setBlock(edit.block));
      break;
    case "list":
      run(toggleList(edit.list));
      break;
    case "indent":
      run(edit.lift ? liftAnyListItem : sinkAnyListItem);
      break;
    case "quote":
      run(toggleBlockquote());
      break;
    case "linebreak":
      run(insertHardBreak);
      break;
  }
}

/**
 * The document's rich text as Automerge holds it (blocks with their attributes, text
 * with its marks), for comparing replicas: JSON with keys sorted, since the order in
 * which a replica learnt a block's keys is no part of its content.
 */
export function richSpans(doc: WriterDocument): string {
  return JSON.stringify(A.spans(doc, TEXT_PATH), (_key, value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : value,
  );
}

/** The document as an editor window would open it. */
export function editorView(handle: DocHandle<WriterDocument>): string {
  return init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc.toString();
}
