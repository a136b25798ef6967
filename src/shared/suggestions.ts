/**
 * Suggestions (track changes) read from a ProseMirror document: the open ones, listed
 * for the panel and the Word export, and the document as it would be if every one of
 * them were accepted, for the plain exports and the counts.
 *
 * A suggestion is every mark with one ID: an insertion, a deletion, a format change, or
 * a deletion and an insertion sharing their ID (a replacement). The marks themselves
 * are described in shared/editor/schema.ts; their values come from other writers'
 * documents, so everything read here is checked, never trusted.
 *
 * Pure code: runs in Node, the renderer and tests alike.
 */
import { Fragment, type Mark, type Node as PMNode } from "prosemirror-model";

export type SuggestionKind = "insertion" | "deletion" | "replacement" | "format";

/** The names of the three suggestion marks. */
const SUGGESTION_MARKS = ["insertion", "deletion", "format_change"] as const;
export type SuggestionMarkName = (typeof SUGGESTION_MARKS)[number];

/** One stretch of text under one suggestion mark (ProseMirror positions). */
export interface SuggestionRange {
  from: number;
  to: number;
  mark: SuggestionMarkName;
  text: string;
}

export interface Suggestion {
  id: string;
  kind: SuggestionKind;
  /** The author's display name as it was when they suggested ("" when unknown). */
  author: string;
  /** The author's writer ID, null when unknown. */
  writer: string | null;
  /** When it was made (ms since the epoch; 0 when unknown). */
  at: number;
  /** The text proposed for insertion (inserted ranges, in order, joined by a space when apart). */
  inserted: string;
  /** The text proposed for deletion. */
  deleted: string;
  /** For a format change: the formats it adds and removes. */
  added: string[];
  removed: string[];
  /** Everything it covers, from its first range to its last. */
  from: number;
  to: number;
  ranges: SuggestionRange[];
}

/** Whether a mark is one of the suggestion marks. */
export function isSuggestionMark(mark: Mark): boolean {
  return (SUGGESTION_MARKS as readonly string[]).includes(mark.type.name);
}

/** Who a suggestion mark says made it, checked. */
export function suggestionAttrs(mark: Mark): { id: string; author: string; writer: string | null; at: number } {
  const a = mark.attrs as Record<string, unknown>;
  return {
    id: typeof a.id === "string" ? a.id : "",
    author: typeof a.author === "string" ? a.author : "",
    writer: typeof a.writer === "string" ? a.writer : null,
    at: typeof a.at === "number" && Number.isFinite(a.at) ? a.at : 0,
  };
}

/**
 * A suggestion's key: its ID, or for a mark without one (a malformed value from
 * elsewhere) its author and time, so that it can still be decided.
 */
export function suggestionKey(mark: Mark): string {
  const a = suggestionAttrs(mark);
  return a.id !== "" ? a.id : `anonymous:${a.writer ?? a.author}:${a.at}`;
}

/** Every open suggestion in `doc`, in document order, one entry per ID. */
export function listSuggestions(doc: PMNode): Suggestion[] {
  const byId = new Map<string, Suggestion>();
  doc.descendants((node, pos) => {
    if (!node.isInline) return true;
    for (const mark of node.marks) {
      if (!isSuggestionMark(mark)) continue;
      const name = mark.type.name as SuggestionMarkName;
      const key = suggestionKey(mark);
      const a = suggestionAttrs(mark);
      let s = byId.get(key);
      if (!s) {
        s = { id: key, kind: kindOf(name), author: a.author, writer: a.writer, at: a.at, inserted: "", deleted: "", added: [], removed: [], from: pos, to: pos + node.nodeSize, ranges: [] };
        byId.set(key, s);
      }
      const text = node.isText ? node.text! : "\n";
      const last = s.ranges[s.ranges.length - 1];
      if (last && last.mark === name && last.to === pos) {
        last.to = pos + node.nodeSize;
        last.text += text;
      } else s.ranges.push({ from: pos, to: pos + node.nodeSize, mark: name, text });
      s.to = Math.max(s.to, pos + node.nodeSize);
      s.at = Math.max(s.at, a.at);
      const kind = kindOf(name);
      if (kind !== s.kind && kind !== "format" && s.kind !== "format") s.kind = "replacement";
      if (name === "format_change") {
        const attrs = mark.attrs as Record<string, unknown>;
        for (const f of formatList(attrs.added)) if (!s.added.includes(f)) s.added.push(f);
        for (const f of formatList(attrs.removed)) if (!s.removed.includes(f)) s.removed.push(f);
      }
    }
    return false;
  });
  const list = [...byId.values()];
  for (const s of list) {
    s.inserted = joinRanges(s.ranges.filter((r) => r.mark === "insertion"));
    s.deleted = joinRanges(s.ranges.filter((r) => r.mark === "deletion"));
    if (s.kind === "format") s.inserted = joinRanges(s.ranges);
  }
  return list.sort((x, y) => x.from - y.from || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

function kindOf(name: SuggestionMarkName): SuggestionKind {
  return name === "insertion" ? "insertion" : name === "deletion" ? "deletion" : "format";
}

const FORMATS = new Set(["strong", "em", "underline", "strike", "code"]);

/** A format change's list of format names, checked. */
export function formatList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === "string" && FORMATS.has(x)) : [];
}

function joinRanges(ranges: SuggestionRange[]): string {
  let out = "";
  let end = -1;
  for (const r of ranges) {
    out += end >= 0 && r.from !== end ? " " + r.text : r.text;
    end = r.to;
  }
  return out;
}

/**
 * The document as it would be if every open suggestion were accepted: suggested
 * deletions gone, suggested insertions and format changes plain text. What the plain
 * exports and the counts show.
 */
export function acceptedView(doc: PMNode): PMNode {
  return accepted(doc);
}

/** One pass over the tree; nodes without suggestions are the same objects (an export of a novel rebuilds only what it must). */
function accepted(node: PMNode): PMNode {
  if (node.isLeaf) return node;
  const children: PMNode[] = [];
  let changed = false;
  node.forEach((child) => {
    if (child.isInline) {
      if (child.marks.some((m) => m.type.name === "deletion")) changed = true;
      else if (child.marks.some(isSuggestionMark)) {
        changed = true;
        children.push(child.mark(child.marks.filter((m) => !isSuggestionMark(m))));
      } else children.push(child);
      return;
    }
    const next = accepted(child);
    if (next !== child) changed = true;
    children.push(next);
  });
  // Fragment.from joins the text nodes that now have the same marks.
  return changed ? node.copy(Fragment.from(children)) : node;
}

/**
 * A text block's text as it would be with every suggestion accepted (suggested
 * deletions left out), as `textBetween(0, size, "\n", " ")` gives it: for the counts.
 */
export function acceptedText(block: PMNode): string {
  let struck = false;
  block.forEach((node) => (struck ||= node.marks.some((m) => m.type.name === "deletion")));
  if (!struck) return block.textBetween(0, block.content.size, "\n", " ");
  let text = "";
  block.forEach((node) => {
    if (node.marks.some((m) => m.type.name === "deletion")) return;
    text += node.isText ? node.text! : node.isLeaf ? " " : node.textBetween(0, node.content.size, "\n", " ");
  });
  return text;
}

/** The suggestion keys in each text block, kept by node: ProseMirror reuses every block a transaction does not touch. */
const keysByBlock = new WeakMap<PMNode, readonly string[]>();

/**
 * How many open suggestions `doc` holds: what the toolbar shows while the writer types,
 * so only edited blocks are looked at again.
 */
export function countSuggestions(doc: PMNode): number {
  const all = new Set<string>();
  doc.descendants((node) => {
    if (!node.isTextblock) return true;
    let keys = keysByBlock.get(node);
    if (!keys) {
      const found = new Set<string>();
      node.forEach((child) => {
        for (const mark of child.marks) if (isSuggestionMark(mark)) found.add(suggestionKey(mark));
      });
      keys = [...found];
      keysByBlock.set(node, keys);
    }
    for (const k of keys) all.add(k);
    return false;
  });
  return all.size;
}
