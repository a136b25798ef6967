/** Editing commands behind the toolbar, the shortcuts and the menus. */
import { setBlockType, toggleMark, wrapIn, lift, chainCommands, exitCode } from "prosemirror-commands";
import { wrapInList, liftListItem, sinkListItem, splitListItem } from "prosemirror-schema-list";
import { TextSelection, type Command, type EditorState, type Transaction } from "prosemirror-state";
import type { MarkType, NodeType } from "prosemirror-model";
import { schema, horizontalRule } from "../../../shared/editor/schema";
import { safeHref } from "../../../shared/links";

const n = schema.nodes;
const m = schema.marks;

export type BlockKind = "paragraph" | "h1" | "h2" | "h3" | "code";
export type MarkName = "strong" | "em" | "underline" | "strike" | "code";
export type ListKind = "bullet_list" | "ordered_list" | "task_list";

export function toggleInlineMark(name: MarkName): Command {
  return toggleMark(m[name]!);
}

export function setBlock(kind: BlockKind): Command {
  switch (kind) {
    case "paragraph":
      return setBlockType(n.paragraph!);
    case "code":
      return setBlockType(n.code_block!);
    default:
      return setBlockType(n.heading!, { level: Number(kind.slice(1)) });
  }
}

/** Wraps the selection in a list, or lifts it out when it is already that list. */
export function toggleList(kind: ListKind): Command {
  return (state, dispatch) => {
    const itemType = kind === "task_list" ? n.task_item! : n.list_item!;
    if (activeList(state) === kind) return liftListItem(itemType)(state, dispatch);
    const { from, to } = state.selection;
    return wrapInList(n[kind]!)(state, dispatch && ((tr) => dispatch(markNewItems(tr, itemType, from, to))));
  };
}

/**
 * Wrapping paragraphs in a list: @automerge/prosemirror 0.2.0 writes one block marker
 * per explicit block (`isAmgBlock`). Paragraphs that came from Automerge are explicit;
 * wrapped as they are, the new items get no marker of their own and after a reload the
 * writer sees one item holding every paragraph (found by
 * test/unit/shared/schema.test.ts). So each new item becomes the explicit block and
 * its leading paragraph an implicit one, which is how the binding itself writes a list
 * item (one "unordered-list-item" marker, no "paragraph" marker).
 */
function markNewItems(tr: Transaction, itemType: NodeType, from: number, to: number): Transaction {
  const start = tr.mapping.map(from, -1);
  const end = tr.mapping.map(to, 1);
  const items: number[] = [];
  tr.doc.nodesBetween(start, end, (node, pos) => {
    if (node.type === itemType && !node.attrs.isAmgBlock) items.push(pos);
  });
  for (const pos of items) {
    const item = tr.doc.nodeAt(pos)!;
    tr.setNodeMarkup(pos, undefined, { ...item.attrs, isAmgBlock: true });
    const first = item.firstChild;
    if (first && first.type === n.paragraph && first.attrs.isAmgBlock) tr.setNodeMarkup(pos + 1, undefined, { ...first.attrs, isAmgBlock: false });
  }
  return tr;
}

export function toggleBlockquote(): Command {
  return (state, dispatch) => (isInside(state, n.blockquote!) ? lift(state, dispatch) : wrapIn(n.blockquote!)(state, dispatch));
}

export const insertHorizontalRule: Command = (state, dispatch) => {
  if (!dispatch) return true;
  const tr = state.tr.replaceSelectionWith(horizontalRule());
  // With no text after it (the end of the document), the rule itself ended up selected
  // and the next letter replaced it: the caret goes into a paragraph after the rule.
  if (!(tr.selection instanceof TextSelection)) {
    const at = tr.selection.to;
    if (!tr.doc.resolve(at).nodeAfter?.isTextblock) tr.insert(at, schema.nodes.paragraph!.create());
    tr.setSelection(TextSelection.create(tr.doc, at + 1));
  }
  dispatch(tr.scrollIntoView());
  return true;
};

export const insertHardBreak: Command = chainCommands(exitCode, (state, dispatch) => {
  if (dispatch) dispatch(state.tr.replaceSelectionWith(n.hard_break!.create()).scrollIntoView());
  return true;
});

/** Enter in any kind of list item. */
export const splitAnyListItem: Command = chainCommands(splitListItem(n.list_item!), splitTaskItem());
export const sinkAnyListItem: Command = chainCommands(sinkListItem(n.list_item!), sinkListItem(n.task_item!));
export const liftAnyListItem: Command = chainCommands(liftListItem(n.list_item!), liftListItem(n.task_item!));

function splitTaskItem(): Command {
  // A new task starts unchecked, whatever the one it was split from.
  return (state, dispatch) =>
    splitListItem(n.task_item!, { checked: false })(state, dispatch);
}

/**
 * Sets a link on the selection, or removes it when `href` is empty. Unsafe URLs
 * (`javascript:` and friends) are refused: returns false and changes nothing.
 */
export function setLink(href: string): Command {
  return (state, dispatch) => {
    const { from, to, empty } = state.selection;
    if (href.trim() === "") {
      if (dispatch) dispatch(state.tr.removeMark(from, to, m.link!));
      return true;
    }
    const safe = safeHref(href.trim());
    if (safe === null) return false;
    if (dispatch) {
      const mark = m.link!.create({ href: safe });
      if (empty) {
        dispatch(state.tr.insertText(safe, from).addMark(from, from + safe.length, mark));
      } else {
        dispatch(state.tr.removeMark(from, to, m.link!).addMark(from, to, mark));
      }
    }
    return true;
  };
}

// --- state queries for the toolbar's active states ---

export function markActive(state: EditorState, type: MarkType): boolean {
  const { from, $from, to, empty } = state.selection;
  if (empty) return !!type.isInSet(state.storedMarks || $from.marks());
  return state.doc.rangeHasMark(from, to, type);
}

export function linkAt(state: EditorState): string | null {
  const { $from } = state.selection;
  const mark = m.link!.isInSet($from.marks()) ?? m.link!.isInSet($from.nodeAfter?.marks ?? []);
  return mark ? String(mark.attrs.href) : null;
}

export function activeBlock(state: EditorState): BlockKind | null {
  const parent = state.selection.$from.parent;
  if (parent.type === n.code_block) return "code";
  if (parent.type === n.heading) return `h${parent.attrs.level as 1 | 2 | 3}`;
  if (parent.type === n.paragraph) return "paragraph";
  return null;
}

export function activeList(state: EditorState): ListKind | null {
  const { $from } = state.selection;
  for (let d = $from.depth; d > 0; d--) {
    const t = $from.node(d).type;
    if (t === n.bullet_list) return "bullet_list";
    if (t === n.ordered_list) return "ordered_list";
    if (t === n.task_list) return "task_list";
  }
  return null;
}

export function isInside(state: EditorState, type: NodeType): boolean {
  const { $from } = state.selection;
  for (let d = $from.depth; d > 0; d--) if ($from.node(d).type === type) return true;
  return false;
}
