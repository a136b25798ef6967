import type { Locator, Page } from "playwright-core";

/**
 * What the page draws over the document, by selector: widgets to remove (other writers'
 * carets with their names, text shown as deleted since the relay was away) and marks to
 * unwrap (other writers' selections, the highlights of what they added or restyled).
 */
const PAGE_ONLY = { remove: ".remote-caret, .hl-removed", unwrap: ".remote-selection, .hl-theirs, .hl-restyled" };

/** The open document: title, toolbar, text and status bar. */
export class EditorPage {
  readonly title: Locator;
  readonly text: Locator;
  readonly toolbar: Locator;

  constructor(readonly page: Page) {
    this.title = page.getByRole("textbox", { name: "Title" });
    this.text = page.locator(".editor-mount .ProseMirror");
    this.toolbar = page.getByRole("toolbar", { name: "Formatting" });
  }

  async waitReady(): Promise<void> {
    await this.page.locator(".editor-mount[data-ready=true]").waitFor();
  }

  async setTitle(title: string): Promise<void> {
    await this.title.fill(title);
    await this.title.press("Enter");
  }

  /** Puts the caret at the very end of the text. */
  async focusEnd(): Promise<void> {
    await this.text.focus();
    await this.page.keyboard.press("Control+End");
    // The editor learns of the caret's move from selectionchange, which a busy browser
    // sends late: a key pressed before it arrives acts on the old selection (a rule drawn
    // over the words selected before, instead of at the end).
    await this.settleSelection();
  }

  /** Selects from the start of the first text to the end of the last (not the node selection Ctrl+A makes). */
  async selectAllText(): Promise<void> {
    await this.text.evaluate((root) => {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      const first = walker.nextNode();
      let last = first;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) last = node;
      if (!first || !last) throw new Error("the document has no text");
      (root as HTMLElement).focus();
      window.getSelection()!.setBaseAndExtent(first, 0, last, last.textContent!.length);
    });
    await this.settleSelection();
  }

  /**
   * ProseMirror picks up a DOM selection change from the browser's (asynchronous)
   * selectionchange event, however late the browser sends it under load: hand it one at
   * once (its handler reads the selection then and there), and wait until the page has
   * rendered what that changed (two frames on, React has committed).
   */
  private async settleSelection(): Promise<void> {
    await this.page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          document.dispatchEvent(new Event("selectionchange"));
          requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
        }),
    );
  }

  /** Puts the caret just after the first occurrence of `word` in the text, as a writer's click there would. */
  async caretAfter(word: string): Promise<void> {
    await this.text.evaluate((root, w) => {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent!.indexOf(w);
        if (at >= 0) {
          (root as HTMLElement).focus();
          window.getSelection()!.collapse(node, at + w.length);
          return;
        }
      }
      throw new Error(`"${w}" is not in the document`);
    }, word);
    await this.settleSelection();
  }

  /** Selects the first occurrence of `word` in the text, as a writer's double-click would. */
  async select(word: string): Promise<void> {
    await this.text.evaluate((root, w) => {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent!.indexOf(w);
        if (at >= 0) {
          (root as HTMLElement).focus();
          window.getSelection()!.setBaseAndExtent(node, at, node, at + w.length);
          return;
        }
      }
      throw new Error(`"${w}" is not in the document`);
    }, word);
    await this.settleSelection();
  }

  async type(text: string, delay = 0): Promise<void> {
    await this.page.keyboard.type(text, { delay });
  }

  /**
   * Enters `text` as one input event, as a paste or an input method does: one
   * transaction, so one undo step whatever the machine's load. Typed key by key, a pause
   * of over 500 ms between two keys (prosemirror-history's newGroupDelay) starts a new
   * undo step, which a busy machine can cause; use this where a test counts undo steps.
   */
  async insert(text: string): Promise<void> {
    await this.page.keyboard.insertText(text);
  }

  async press(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  async clickTool(label: string): Promise<void> {
    await this.toolbar.getByRole("button", { name: label, exact: true }).click();
  }

  async isToolActive(label: string): Promise<boolean> {
    return (await this.toolbar.getByRole("button", { name: label, exact: true }).getAttribute("aria-pressed")) === "true";
  }

  async setTextStyle(style: "Body" | "Heading 1" | "Heading 2" | "Heading 3" | "Code block"): Promise<void> {
    await this.toolbar.getByRole("combobox", { name: "Text style" }).selectOption({ label: style });
  }

  /** Adds a link to the current selection through the toolbar's link field. */
  async addLink(href: string): Promise<string | null> {
    await this.clickTool("Link");
    const field = this.page.getByRole("textbox", { name: "Link address" });
    await field.fill(href);
    await field.press("Enter");
    const error = this.page.locator(".link-editor .field-error");
    return (await error.count()) > 0 ? error.innerText() : null;
  }

  /**
   * The document's HTML as rendered, without the binding's, the task view's and other
   * writers' (presence) noise, and without the highlights of what others changed while
   * the relay was away (history/offlineReturn.ts): those show in one window only, until
   * dismissed, and are not the document.
   */
  async html(): Promise<string> {
    return this.text.evaluate((el, pageOnly) => {
      const copy = el.cloneNode(true) as HTMLElement;
      copy.querySelectorAll(pageOnly.remove).forEach((n) => n.remove());
      copy.querySelectorAll(pageOnly.unwrap).forEach((n) => n.replaceWith(...Array.from(n.childNodes)));
      copy.normalize();
      copy.querySelectorAll("[style]").forEach((n) => n.removeAttribute("style"));
      copy.querySelectorAll("br.ProseMirror-trailingBreak, img.ProseMirror-separator").forEach((n) => n.remove());
      return copy.innerHTML;
    }, PAGE_ONLY);
  }

  /** The text, one line per top-level block, without what the page adds to it (other writers' carets, text shown as deleted: see `html`). */
  async ownText(): Promise<string> {
    return this.text.evaluate((el, pageOnly) => {
      const copy = el.cloneNode(true) as HTMLElement;
      copy.querySelectorAll(pageOnly.remove).forEach((n) => n.remove());
      return Array.from(copy.children, (block) => block.textContent).join("\n");
    }, PAGE_ONLY);
  }

  async counts(): Promise<string> {
    return this.page.getByTestId("counts").innerText();
  }

  async saveState(): Promise<string> {
    return this.page.getByTestId("save-state").innerText();
  }

  /** Pastes clipboard data as a real paste event (Chromium's clipboard is not shared in headless runs). */
  async paste(data: { html?: string; text?: string }): Promise<void> {
    await this.text.evaluate((el, d) => {
      const transfer = new DataTransfer();
      if (d.html !== undefined) transfer.setData("text/html", d.html);
      if (d.text !== undefined) transfer.setData("text/plain", d.text);
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: transfer, bubbles: true, cancelable: true }));
    }, data);
  }

  async documentAction(name: "Duplicate" | "Move to trash"): Promise<void> {
    await this.toolbar.getByRole("button", { name: "Document actions" }).click();
    await this.page.getByRole("menuitem", { name }).click();
  }

  /** Exports through the document menu; resolves with the downloaded file's name and bytes. */
  async export(item: "Export as Word (.docx)" | "Export as Markdown" | "Export as HTML" | "Export as HTML with comments" | "Export as plain text" | "Download a backup (with history)"): Promise<{ name: string; bytes: Buffer }> {
    await this.toolbar.getByRole("button", { name: "Document actions" }).click();
    const [download] = await Promise.all([this.page.waitForEvent("download"), this.page.getByRole("menuitem", { name: item, exact: true }).click()]);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { name: download.suggestedFilename(), bytes: Buffer.concat(chunks) };
  }
}
