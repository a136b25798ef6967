import type { Locator, Page } from "playwright-core";
import { EditorPage } from "./EditorPage";

/** The library sidebar: documents, search, trash. */
export class LibraryPage {
  readonly sidebar: Locator;
  constructor(readonly page: Page) {
    this.sidebar = page.locator(".sidebar");
  }

  /** Opens the app through its tokened URL and waits for the library. */
  async goto(url: string): Promise<void> {
    await this.page.goto(url);
    await this.sidebar.waitFor();
  }

  async newDocument(): Promise<EditorPage> {
    const before = await this.openDocument();
    await this.page.getByRole("button", { name: "New document" }).first().click();
    const editor = new EditorPage(this.page);
    // Wait for the new document's editor, not the one that was open before.
    await this.page.locator(`.editor-mount[data-ready=true]:not([data-document="${before ?? ""}"])`).waitFor();
    return editor;
  }

  /** The URL of the document in the editor, if one is open. */
  async openDocument(): Promise<string | null> {
    const mount = this.page.locator(".editor-mount");
    return (await mount.count()) > 0 ? mount.getAttribute("data-document") : null;
  }

  /** Titles in the list, top to bottom (most recently edited first). */
  async titles(): Promise<string[]> {
    return this.sidebar.locator(".doc-list .doc-title").allInnerTexts();
  }

  async open(title: string): Promise<EditorPage> {
    await this.sidebar.locator(".doc-item", { has: this.page.locator(".doc-title", { hasText: title }) }).first().click();
    const editor = new EditorPage(this.page);
    await editor.waitReady();
    await this.page.locator(".title-input").and(this.page.locator(`[value="${title}"]`)).waitFor();
    await editor.waitReady();
    return editor;
  }

  /**
   * Opens a document someone shared, through "Open a link…", and waits for its editor
   * (without pressing "Try again": the pane asks again by itself).
   */
  async openLink(url: string, timeoutMs = 90_000): Promise<EditorPage> {
    await this.sidebar.getByRole("button", { name: "Open a link…" }).click();
    const dialog = this.page.getByRole("dialog", { name: "Open a shared document" });
    await dialog.getByRole("textbox", { name: "Link" }).fill(url);
    await dialog.getByRole("button", { name: "Open", exact: true }).click();
    await dialog.waitFor({ state: "detached" });
    // A document still on its way from the relay says "not here yet" and is asked for
    // again by itself (EditorPane): a writer waits, and so does this.
    await this.page.locator(`.editor-mount[data-ready=true][data-document="${url}"]`).waitFor({ timeout: timeoutMs });
    return new EditorPage(this.page);
  }

  /** Imports a file through the sidebar's Import… (the hidden file input behind it); resolves once it is open. */
  async importFile(name: string, bytes: Buffer): Promise<EditorPage> {
    // (getAttribute on no editor at all would wait out its 30 s timeout.)
    const before = await this.openDocument();
    await this.page.getByTestId("import-file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: bytes });
    await this.page.waitForFunction((prev) => {
      const mount = document.querySelector(".editor-mount[data-ready=true]");
      return mount !== null && mount.getAttribute("data-document") !== prev;
    }, before);
    const editor = new EditorPage(this.page);
    await editor.waitReady();
    return editor;
  }

  /**
   * Imports a backup of a document the library already has: waits for the question,
   * answers it, and returns the dialog's text (what the writer was told).
   */
  async importKnownBackup(name: string, bytes: Buffer, choice: "Merge" | "Keep both" | "Cancel"): Promise<string> {
    await this.page.getByTestId("import-file").setInputFiles({ name, mimeType: "application/octet-stream", buffer: bytes });
    const dialog = this.page.getByRole("dialog", { name: "This document is already in your library" });
    await dialog.waitFor();
    const said = await dialog.innerText();
    await dialog.getByRole("button", { name: choice, exact: true }).click();
    await dialog.waitFor({ state: "detached" });
    return said;
  }

  async search(query: string): Promise<void> {
    await this.sidebar.getByRole("searchbox", { name: "Search documents" }).fill(query);
  }

  /** Titles of the search results, once the host answered. */
  async searchResults(): Promise<string[]> {
    await this.sidebar.locator("nav[aria-label='Search results']").waitFor();
    return this.sidebar.locator(".doc-list .doc-title").allInnerTexts();
  }

  async showTrash(): Promise<void> {
    await this.sidebar.getByRole("button", { name: /^Trash/ }).click();
    await this.sidebar.locator("nav[aria-label='Trash']").waitFor();
  }

  async backToDocuments(): Promise<void> {
    await this.sidebar.getByRole("button", { name: "← Back to documents" }).click();
  }

  async restore(title: string): Promise<void> {
    await this.sidebar.locator(".doc-item", { hasText: title }).getByRole("button", { name: "Restore" }).click();
  }

  async emptyTrash(): Promise<void> {
    await this.sidebar.getByRole("button", { name: "Empty trash…" }).click();
    await this.sidebar.getByRole("button", { name: "Empty trash", exact: true }).click();
  }
}
