import type { Locator, Page } from "playwright-core";

/** The comments margin, composer and panel beside the editor (components/CommentsMargin.tsx, CommentsPanel.tsx). */
export class CommentsPage {
  readonly margin: Locator;
  readonly panel: Locator;
  readonly composer: Locator;

  constructor(readonly page: Page) {
    this.margin = page.locator(".comments-margin");
    this.panel = page.getByRole("complementary", { name: "All comments" });
    this.composer = this.margin.getByRole("textbox", { name: "New comment" });
  }

  /** The thread card whose text holds `text`: in the margin, or in the panel when it is open. */
  thread(text: string): Locator {
    return this.page.locator(".comment-card:not(.comment-composer)").filter({ hasText: text });
  }

  cards(): Locator {
    return this.margin.locator(".comment-card");
  }

  /** Ctrl+Alt+M on the current selection, then the comment, posted with Enter. */
  async comment(text: string): Promise<void> {
    await this.page.keyboard.press("Control+Alt+m");
    await this.composer.waitFor();
    await this.composer.fill(text);
    await this.composer.press("Enter");
  }

  async reply(thread: string, text: string): Promise<void> {
    const card = this.thread(thread);
    await card.click({ position: { x: 8, y: 8 } });
    const box = card.getByRole("textbox", { name: "Reply" });
    await box.fill(text);
    await box.press("Enter");
  }

  /** The commented words in the text, one entry per highlighted piece (another writer's caret inside one splits it in two). */
  async highlighted(root: Locator, active = false): Promise<string[]> {
    return root.locator(active ? ".comment-hl-active" : ".comment-hl").allTextContents();
  }

  async openPanel(): Promise<void> {
    if ((await this.panel.count()) === 0) await this.page.getByRole("button", { name: "All comments" }).click();
    await this.panel.waitFor();
  }

  /** Chooses the thread holding `text` in the panel's list (a summary, or the open thread itself). */
  async choose(text: string): Promise<void> {
    await this.panel.locator("[data-thread]").filter({ hasText: text }).first().click({ position: { x: 6, y: 6 } });
  }

  async tab(name: "Open" | "Resolved"): Promise<Locator> {
    const tab = this.panel.getByRole("tab", { name: new RegExp(`^${name} \\(`) });
    await tab.click();
    return tab;
  }
}
