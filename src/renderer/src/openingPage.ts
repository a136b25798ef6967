/**
 * The page a document shows while it opens: its render cache drawn as plain HTML, and
 * typing accepted on it at once. Used by early.ts (before the app's script has run) and
 * by CachedPage (until the document has loaded), so it has no dependency beyond the DOM.
 *
 * What the writer types here is not ProseMirror's: the browser edits the page itself,
 * and each edit is noted as an Automerge splice of the cached text (positions counted as
 * Automerge counts them: one per block marker, one per character). When the document has
 * loaded, the splices are applied to it as one change made at the cache's heads
 * (openingTyping.ts), so a document that moved on since the cache was written merges them
 * as it merges any concurrent edit. Only edits within one paragraph are taken here
 * (typing, deleting, spelling corrections, an input method's text); anything else
 * (Enter, formatting, paste, undo) waits for the editor, which is a moment away.
 */

/** What the opening page says above the text. */
export const OPENING_NOTE = "Opening… you can type already; the rest of the editor follows in a moment.";

/** One edit of the cached text, in Automerge's positions, relative to the edits before it. */
export interface CachedTextSplice {
  index: number;
  remove: number;
  insert: string;
}

/** What was typed on the page, for the document once it has loaded. */
export interface TypedOnCache {
  /** The document's heads the cache was drawn from: the splices are relative to them. */
  heads: string[];
  splices: CachedTextSplice[];
  /** The caret, in the same positions after the splices; null when it was not in the text. */
  caret: number | null;
  /** The writer was in the text: the editor takes the focus and the caret there. */
  focused: boolean;
}

type Span = { type: "block"; value: { type?: unknown; parents?: unknown; attrs?: { level?: unknown } } } | { type: "text"; value: string; marks?: Record<string, unknown> };

/** One block's element: headings, code and rules as such, list items and quotes by class. */
function blockElement(block: Extract<Span, { type: "block" }>["value"]): HTMLElement {
  const type = typeof block.type === "string" ? block.type : "paragraph";
  const parents = Array.isArray(block.parents) ? block.parents.map(String) : [];
  let el: HTMLElement;
  if (type === "heading") el = document.createElement(`h${Math.min(3, Math.max(1, Number(block.attrs?.level) || 1))}`);
  else if (type === "code-block") el = document.createElement("pre");
  else if (type === "horizontal-rule") el = document.createElement("hr");
  else el = document.createElement("p");
  if (type.endsWith("list-item") || type === "task-item") el.className = "early-item";
  if (parents.includes("blockquote")) el.classList.add("early-quote");
  // A block marker takes one position in Automerge's text.
  el.dataset.block = "";
  return el;
}

/**
 * About two screens of text: drawn at once, the rest after the first frame. Laying out a
 * novel's text took the first paint 175 ms on a 2-core machine (bench/long-document).
 */
const FIRST_DRAW_CHARS = 4000;

/**
 * Automerge marks the opening page draws, as the editor draws them: suggestions too, so
 * that text proposed for deletion is struck through from the first paint.
 */
const PAINTED_MARKS = [
  ["strong", "strong", ""],
  ["em", "em", ""],
  ["code", "code", ""],
  ["strike", "s", ""],
  ["underline", "u", ""],
  ["suggest-insert", "ins", "suggestion-insert"],
  ["suggest-delete", "del", "suggestion-delete"],
] as const;

/**
 * The cached text as plain HTML: text is set as text, never as markup, and links are not
 * links. The first FIRST_DRAW_CHARS characters are drawn now; `rest` draws the others
 * (after them, so positions in what is drawn stay right), or is null when there are none.
 */
function drawProse(spans: readonly unknown[]): { prose: HTMLElement; rest: (() => void) | null } {
  const prose = document.createElement("div");
  prose.className = "prose opening-prose";
  const list = spans as Span[];
  let current: HTMLElement | null = null;
  let next = 0;
  /** Characters of list[next] (a text span) already drawn. */
  let offset = 0;
  const draw = (budget: number) => {
    for (; next < list.length && budget > 0; next++) {
      const span = list[next];
      if (span?.type === "block") {
        current = blockElement(span.value ?? {});
        prose.append(current);
        budget -= 1;
      } else if (span?.type === "text" && typeof span.value === "string") {
        // Text before the first block marker: a paragraph that takes no position of its own.
        if (!current || current.tagName === "HR") prose.append((current = document.createElement("p")));
        const part = span.value.slice(offset, offset + budget);
        budget -= part.length;
        offset += part.length;
        const marks = span.marks ?? {};
        let node: Node = document.createTextNode(part);
        for (const [name, tag, className] of PAINTED_MARKS) {
          if (marks[name]) {
            const wrap = document.createElement(tag);
            if (className) wrap.className = className;
            wrap.append(node);
            node = wrap;
          }
        }
        current.append(node);
        // The span's remainder, if any, is drawn next time.
        if (offset < span.value.length) return;
      }
      offset = 0;
    }
  };
  draw(FIRST_DRAW_CHARS);
  // No text at all (not even a block marker): a paragraph to type in, at position 0.
  if (prose.childElementCount === 0) prose.append(document.createElement("p"));
  return { prose, rest: next < list.length ? () => draw(Infinity) : null };
}

/** Edits a paragraph can take on the opening page (beforeinput's inputType). */
const TEXT_EDITS = new Set([
  "insertText",
  "insertReplacementText",
  "deleteContentBackward",
  "deleteContentForward",
  "deleteWordBackward",
  "deleteWordForward",
  "deleteSoftLineBackward",
  "deleteSoftLineForward",
  "deleteHardLineBackward",
  "deleteHardLineForward",
]);

/**
 * Typing on a drawn page: made editable when drawn, every edit noted; `take` ends that
 * and hands over what was typed. The element can move between containers (the app
 * replaces early.ts's page with its own) and keeps the writer's caret across the move.
 */
export class TypingOnCache {
  readonly element: HTMLElement;
  readonly #heads: string[];
  readonly #splices: CachedTextSplice[] = [];
  #caret: number | null = null;
  #focused = false;
  #composing: { index: number; remove: number } | null = null;
  #taken = false;

  constructor(spans: readonly unknown[], heads: string[]) {
    const { prose, rest } = drawProse(spans);
    this.element = prose;
    this.#heads = heads;
    // The rest of the text once the first part is on screen (a task after the next frame).
    if (rest) requestAnimationFrame(() => setTimeout(rest, 0));
    const el = this.element;
    el.contentEditable = "true";
    // Not checked while it opens: the editor checks the text a moment later, and marks
    // drawn here would vanish and come back when it does.
    el.spellcheck = false;
    el.setAttribute("role", "textbox");
    el.setAttribute("aria-multiline", "true");
    el.setAttribute("aria-label", "Document text (opening)");
    for (const [type, listener] of this.#listeners()) el.addEventListener(type, listener);
    document.addEventListener("selectionchange", this.#selectionChange);
  }

  /** The page's own listeners: added when it is drawn, removed when it is taken. */
  #listeners(): [string, EventListener][] {
    return [
      ["beforeinput", this.#beforeInput as EventListener],
      ["compositionstart", this.#compositionStart],
      ["compositionend", this.#compositionEnd as EventListener],
      ["focusin", this.#focusIn],
      ["focusout", this.#focusOut],
      // Paste, drop and cut wait for the editor.
      ["drop", this.#refuse],
      ["paste", this.#refuse],
      ["cut", this.#refuse],
    ];
  }

  /** Puts the page into `container`, with the focus and caret it had wherever it was. */
  mountIn(container: HTMLElement): void {
    if (this.#taken) return;
    container.append(this.element);
    if (this.#focused) this.#restoreCaret();
  }

  /** Ends typing here; what was typed goes to the document (openingTyping.ts). */
  take(): TypedOnCache {
    if (!this.#taken) {
      this.#taken = true;
      // The caret as it is now, if the page is still on screen (it may have been taken off already).
      if (this.element.isConnected) this.#noteCaret();
      const el = this.element;
      el.contentEditable = "false";
      for (const [type, listener] of this.#listeners()) el.removeEventListener(type, listener);
      document.removeEventListener("selectionchange", this.#selectionChange);
    }
    return { heads: this.#heads, splices: [...this.#splices], caret: this.#caret, focused: this.#focused };
  }

  readonly #refuse = (event: Event) => event.preventDefault();

  readonly #beforeInput = (event: InputEvent) => {
    if (event.inputType === "insertCompositionText") return; // noted at compositionend
    const range = event.getTargetRanges()[0] ?? this.#selectionRange();
    const at = range && this.#rangeIndices(range);
    if (!TEXT_EDITS.has(event.inputType) || !at) {
      event.preventDefault();
      return;
    }
    const insert = event.data ?? event.dataTransfer?.getData("text/plain") ?? "";
    if (/[\r\n]/.test(insert) || (insert === "" && at.start === at.end)) {
      event.preventDefault();
      return;
    }
    this.#splices.push({ index: at.start, remove: at.end - at.start, insert });
    this.#caret = at.start + insert.length;
  };

  readonly #compositionStart = () => {
    const range = this.#selectionRange();
    const at = range && this.#rangeIndices(range);
    this.#composing = at ? { index: at.start, remove: at.end - at.start } : null;
  };

  readonly #compositionEnd = (event: CompositionEvent) => {
    const at = this.#composing;
    this.#composing = null;
    if (!at || !event.data) return;
    this.#splices.push({ index: at.index, remove: at.remove, insert: event.data.replace(/[\r\n]/g, " ") });
    this.#caret = at.index + event.data.length;
  };

  readonly #focusIn = () => {
    this.#focused = true;
  };

  readonly #focusOut = () => {
    // Judged once the event is over: a page the app takes off the screen (to show it
    // elsewhere) loses the focus too, and is given it back where it goes next; only a
    // writer who went elsewhere on the page has left the text.
    setTimeout(() => {
      if (this.element.isConnected && !this.element.contains(document.activeElement)) this.#focused = false;
    }, 0);
  };

  readonly #selectionChange = () => {
    if (this.element.isConnected && this.#focused) this.#noteCaret();
  };

  #noteCaret(): void {
    const range = this.#selectionRange();
    const at = range && this.#rangeIndices(range);
    if (at) this.#caret = at.end;
  }

  #selectionRange(): StaticRange | Range | null {
    const selection = document.getSelection();
    if (!selection || selection.rangeCount === 0) return null;
    const range = selection.getRangeAt(0);
    return this.element.contains(range.startContainer) && this.element.contains(range.endContainer) ? range : null;
  }

  /** Automerge positions of a range within one block; null for a range across blocks or outside the text. */
  #rangeIndices(range: StaticRange | Range): { start: number; end: number } | null {
    const start = this.#indexOf(range.startContainer, range.startOffset);
    const end = this.#indexOf(range.endContainer, range.endOffset);
    if (!start || !end || start.block !== end.block) return null;
    return { start: start.index, end: end.index };
  }

  #indexOf(node: Node, offset: number): { index: number; block: Element } | null {
    let index = 0;
    for (const block of Array.from(this.element.children)) {
      if (block instanceof HTMLElement && block.dataset.block !== undefined) index += 1;
      if (block === node || block.contains(node)) {
        const before = document.createRange();
        before.setStart(block, 0);
        try {
          before.setEnd(node, offset);
        } catch {
          return null;
        }
        return { index: index + before.toString().length, block };
      }
      index += block.textContent?.length ?? 0;
    }
    return null;
  }

  #restoreCaret(): void {
    this.element.focus({ preventScroll: true });
    if (this.#caret === null) return;
    let left = this.#caret;
    for (const block of Array.from(this.element.children)) {
      if (block instanceof HTMLElement && block.dataset.block !== undefined) left -= 1;
      const length = block.textContent?.length ?? 0;
      if (left <= length) {
        const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
        for (let text = walker.nextNode(); text; text = walker.nextNode()) {
          const n = (text as Text).length;
          if (left <= n) {
            document.getSelection()?.collapse(text, Math.max(0, left));
            return;
          }
          left -= n;
        }
        document.getSelection()?.collapse(block, 0);
        return;
      }
      left -= length;
    }
  }
}
