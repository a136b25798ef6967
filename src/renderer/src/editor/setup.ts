/**
 * Builds a ProseMirror editor bound to an Automerge document through
 * `@automerge/prosemirror`: every transaction becomes an Automerge change on the
 * renderer's in-memory Repo, which syncs it to the host at once.
 */
import { EditorState, Plugin, type Transaction } from "prosemirror-state";
import { EditorView, Decoration, DecorationSet, type NodeViewConstructor } from "prosemirror-view";
import { keymap } from "prosemirror-keymap";
import { baseKeymap, chainCommands, exitCode } from "prosemirror-commands";
import { history, undo, redo } from "prosemirror-history";
import { dropCursor } from "prosemirror-dropcursor";
import { search } from "prosemirror-search";
import { remoteCursorsPlugin } from "../presence/cursors";
import { offlineReturnPlugin } from "../history/offlineReturn";
import { commentsPlugin } from "../comments/highlight";
import { gapCursor } from "prosemirror-gapcursor";
import { init } from "@automerge/prosemirror";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { schema, schemaAdapter } from "../../../shared/editor/schema";
import { TEXT_PATH, type WriterDocument } from "../../../shared/document";
import {
  insertHardBreak,
  insertHorizontalRule,
  liftAnyListItem,
  setBlock,
  sinkAnyListItem,
  splitAnyListItem,
  toggleBlockquote,
  toggleInlineMark,
  toggleList,
} from "./commands";
import { writerInputRules } from "./inputrules";
import { TYPING_GROUP, writerSyncPlugin, type Grouping, type SyncStats } from "./sync";
import { registerHeldEdits } from "./heldEdits";
import { integrityPlugin, type IntegrityMode, type Mismatch } from "./integrity";
import { describeLeftOut, takeOutWhatWriterCannotHold } from "../convert/leftOut";
import { suggestingPlugin, suggestTransaction } from "./suggesting";

export interface EditorCallbacks {
  /** Every new state, for toolbar active states and counts. */
  onState(state: EditorState): void;
  /** Mod-K: the writer asked to add or edit a link. */
  onLinkRequest(): void;
  /** Typing is being held for a burst's change (true), or has been committed (false). */
  onHeld?(held: boolean): void;
  /** How the editor checks that it shows the document (integrity.ts); "repair" by default. */
  integrity?: IntegrityMode;
  /** Told when the editor was found to differ from the document (and re-rendered from it). */
  onDrift?(mismatch: Mismatch): void;
  /** Something pasted was left out or changed (images, tables): a sentence for the writer. */
  onPasteNote?(message: string): void;
}

/** Shortcuts use ⌘ on Apple systems, Ctrl elsewhere. */
export const isMac = typeof navigator !== "undefined" && /Mac|iP(hone|ad)/.test(navigator.platform);

/** The shortcuts, documented in the toolbar's tooltips. */
export function writerKeymap(onLinkRequest: () => void): Plugin {
  return keymap({
    "Mod-z": undo,
    "Shift-Mod-z": redo,
    ...(isMac ? {} : { "Mod-y": redo }),
    "Mod-b": toggleInlineMark("strong"),
    "Mod-i": toggleInlineMark("em"),
    "Mod-u": toggleInlineMark("underline"),
    "Shift-Mod-x": toggleInlineMark("strike"),
    "Mod-e": toggleInlineMark("code"),
    "Mod-k": () => {
      onLinkRequest();
      return true;
    },
    "Mod-Alt-0": setBlock("paragraph"),
    "Mod-Alt-1": setBlock("h1"),
    "Mod-Alt-2": setBlock("h2"),
    "Mod-Alt-3": setBlock("h3"),
    "Shift-Mod-8": toggleList("bullet_list"),
    "Shift-Mod-7": toggleList("ordered_list"),
    "Shift-Mod-9": toggleList("task_list"),
    "Shift-Mod-b": toggleBlockquote(),
    "Shift-Mod-c": setBlock("code"),
    // In a code block Mod-Enter leaves it (a new paragraph below); elsewhere it draws a rule.
    "Mod-Enter": chainCommands(exitCode, insertHorizontalRule),
    "Shift-Enter": insertHardBreak,
    Enter: splitAnyListItem,
    Tab: sinkAnyListItem,
    "Shift-Tab": liftAnyListItem,
  });
}

/** "Start writing…" in an empty document. */
function placeholder(text: string): Plugin {
  return new Plugin({
    props: {
      decorations(state) {
        const doc = state.doc;
        const first = doc.firstChild;
        if (doc.childCount !== 1 || !first || !first.isTextblock || first.content.size > 0) return null;
        return DecorationSet.create(doc, [Decoration.node(0, first.nodeSize, { class: "is-empty", "data-placeholder": text })]);
      },
    },
  });
}

/** A task item with a real checkbox; ticking it is an ordinary (synced) edit. */
export const taskItemView: NodeViewConstructor = (node, view, getPos) => {
  const dom = document.createElement("li");
  dom.className = "task-item";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.contentEditable = "false";
  box.setAttribute("aria-label", "Done");
  const content = document.createElement("div");
  content.className = "task-content";
  dom.append(box, content);
  let current = node;
  const render = () => {
    box.checked = current.attrs.checked === true;
    dom.dataset.checked = String(box.checked);
  };
  render();
  box.addEventListener("mousedown", (e) => e.preventDefault());
  box.addEventListener("click", (e) => {
    e.preventDefault();
    const pos = getPos();
    if (pos === undefined || !view.editable) return;
    view.dispatch(view.state.tr.setNodeMarkup(pos, undefined, { ...current.attrs, checked: !current.attrs.checked }));
  });
  return {
    dom,
    contentDOM: content,
    update(updated) {
      if (updated.type !== current.type) return false;
      current = updated;
      render();
      return true;
    },
    stopEvent: (event) => event.target === box,
    ignoreMutation: (mutation) => mutation.target === box,
  };
};

/** The longest a due commit waits for the browser to be idle. */
const COMMIT_IDLE_WAIT_MS = 200;

/**
 * A burst's commit (a change of many splices, its marks read back, the sync to the host)
 * takes a few milliseconds on a long document: it runs when the browser is idle after a
 * frame, not in a timer task that a keystroke's frame could have to wait for
 * (bench/typing). It waits at most COMMIT_IDLE_WAIT_MS, taken from the hold bound so
 * that no typing is held longer than TYPING_GROUP says.
 */
function idleCommits(group: Grouping): Grouping {
  type Timer = { timeout?: ReturnType<typeof setTimeout>; idle?: number };
  return {
    ...group,
    maxHoldMs: group.maxHoldMs - COMMIT_IDLE_WAIT_MS,
    setTimer: (fn, ms) => {
      const timer: Timer = {};
      timer.timeout = setTimeout(() => {
        timer.idle = requestIdleCallback(fn, { timeout: COMMIT_IDLE_WAIT_MS });
      }, ms);
      return timer;
    },
    clearTimer: (t) => {
      const timer = t as Timer;
      clearTimeout(timer.timeout);
      if (timer.idle !== undefined) cancelIdleCallback(timer.idle);
    },
  };
}

export interface WriterEditor {
  view: EditorView;
  /** How many transactions took the typing fast path, and how many the binding's. */
  stats: SyncStats;
  /** The Automerge text index of a position in the current document, cheaply where it can (sync.ts). */
  amIndexOf(pos: number): number | null;
  /** Commits typing held for a burst's change: before reading or changing the document elsewhere. */
  flush(): void;
  /** How many keystrokes are held, not yet in the document. */
  held(): number;
  /** Groups typing into one change per burst (alone in the document) or commits every keystroke (others are here). */
  setGrouping(on: boolean): void;
  destroy(): void;
}

/** Mounts an editor for `handle` into `mount`. */
export function createEditor(mount: HTMLElement, handle: DocHandle<WriterDocument>, callbacks: EditorCallbacks): WriterEditor {
  const { pmDoc } = init(handle, TEXT_PATH, { schemaAdapter });
  /** The view, once made: the sync plugin's commit callback needs it (and comes first). */
  const made: { view?: EditorView } = {};
  const sync = writerSyncPlugin({
    adapter: schemaAdapter,
    handle: handle as DocHandle<unknown>,
    path: TEXT_PATH,
    grouping: idleCommits(TYPING_GROUP),
    onHeld: (held) => {
      callbacks.onHeld?.(held);
      // Held typing is in Automerge now: the editor and the document can be compared.
      if (!held && made.view) integrity.committed(made.view);
    },
  });
  const integrity = integrityPlugin({ handle: handle as DocHandle<unknown>, mode: callbacks.integrity ?? "repair", held: sync.held, onMismatch: callbacks.onDrift });
  const { plugin, stats, amIndexOf } = sync;
  const state = EditorState.create({
    schema,
    doc: pmDoc,
    plugins: [
      plugin,
      writerInputRules(),
      writerKeymap(callbacks.onLinkRequest),
      keymap(baseKeymap),
      history(),
      dropCursor(),
      gapCursor(),
      placeholder("Start writing…"),
      // Find and replace (components/FindBar.tsx): highlights the current query's matches.
      search(),
      // Other writers' cursors and selections (presence/usePresence.ts).
      remoteCursorsPlugin(),
      // What others changed while this window was offline (history/offlineReturn.ts).
      offlineReturnPlugin(),
      // Commented text (comments/highlight.ts).
      commentsPlugin(),
      // Editing or Suggesting, this window's mode (suggesting.ts; the rewrite is in dispatchTransaction).
      suggestingPlugin(),
      // Last: sees each transaction's result, after every other plugin's (integrity.ts).
      integrity.plugin,
    ],
  });
  const view: EditorView = new EditorView(mount, {
    state,
    nodeViews: { task_item: taskItemView },
    attributes: { class: "prose", spellcheck: "true", "aria-label": "Document text", role: "textbox", "aria-multiline": "true" },
    dispatchTransaction(tr: Transaction) {
      const next = view.state.apply(
        suggestTransaction(view.state, tr, {
          onRefused: (error) => {
            console.error("suggesting: an edit could not be made a suggestion", error);
            callbacks.onPasteNote?.("That edit could not be made a suggestion, so it was not made. Switch to Editing to make it.");
          },
        }),
      );
      view.updateState(next);
      callbacks.onState(next);
    },
    // Images and tables are not in the schema yet: what ProseMirror would drop without a
    // word, or run together ("cell Acell B"), is taken out or laid out as rows, and the
    // writer is told (convert/leftOut.ts).
    transformPastedHTML(html) {
      const template = document.createElement("template");
      template.innerHTML = html;
      const note = describeLeftOut(takeOutWhatWriterCannotHold(template.content, document), "Pasted");
      if (!note) return html;
      callbacks.onPasteNote?.(note);
      return template.innerHTML;
    },
    handlePaste(_view, event) {
      const data = event.clipboardData;
      if (!data || data.types.includes("text/html") || data.types.includes("text/plain")) return false;
      const images = Array.from(data.files).filter((f) => f.type.startsWith("image/")).length;
      if (images === 0) return false;
      callbacks.onPasteNote?.(images === 1 ? "The image was not pasted: Writer cannot hold images yet." : `The ${images} images were not pasted: Writer cannot hold images yet.`);
      return true;
    },
    // Links open outside the app (Electron's window-open handler checks them again).
    handleClickOn(_view, _pos, _node, _nodePos, event) {
      const a = (event.target as HTMLElement).closest("a");
      if (a && (event.metaKey || event.ctrlKey)) {
        window.open(a.href, "_blank", "noopener,noreferrer");
        return true;
      }
      return false;
    },
  });
  made.view = view;
  callbacks.onState(view.state);
  // Held typing is committed before anything from the host about this document is
  // applied (heldEdits.ts), and when the writer leaves the text.
  const unregister = registerHeldEdits(handle.documentId, sync.flush);
  view.dom.addEventListener("blur", sync.flush);
  return {
    view,
    stats,
    amIndexOf: (pos) => amIndexOf(view.state.doc, pos),
    flush: sync.flush,
    held: sync.held,
    setGrouping: sync.setGrouping,
    destroy: () => {
      sync.flush();
      unregister();
      view.dom.removeEventListener("blur", sync.flush);
      view.destroy();
    },
  };
}
