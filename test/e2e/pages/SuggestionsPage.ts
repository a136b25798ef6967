import type { Locator, Page } from "playwright-core";

/** The Editing / Suggesting switch, suggestions in the text, and the list of them. */
export class SuggestionsPage {
  readonly panel: Locator;
  readonly items: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByRole("complementary", { name: "Suggestions" });
    this.items = this.panel.locator(".suggestions-item");
  }

  async mode(name: "Editing" | "Suggesting"): Promise<void> {
    await this.page.locator(".suggesting-switch").getByRole("button", { name, exact: true }).click();
  }

  /** "Editing" or "Suggesting", as the switch shows it. */
  async currentMode(): Promise<string> {
    return this.page.locator(".suggesting-switch button[aria-pressed=true]").innerText();
  }

  async openList(): Promise<void> {
    if (await this.panel.isVisible()) return;
    await this.page.locator(".suggestions-count").click();
    await this.panel.waitFor();
  }

  /** Suggested insertions and deletions as drawn in the text. */
  async inserted(): Promise<string[]> {
    return this.page.locator(".editor-mount ins.suggestion-insert").allInnerTexts();
  }

  async deleted(): Promise<string[]> {
    return this.page.locator(".editor-mount del.suggestion-delete").allInnerTexts();
  }

  /** What the text's suggestions say when hovered (their title). */
  async titles(): Promise<string[]> {
    return this.page.locator(".editor-mount [data-suggestion]").evaluateAll((els) => els.map((e) => e.getAttribute("title") ?? ""));
  }

  /** Each listed suggestion as "author: what". */
  async listed(): Promise<string[]> {
    return this.items.evaluateAll((els) => els.map((e) => `${e.querySelector(".suggestion-author")?.textContent ?? ""}: ${e.querySelector(".suggestions-item-text")?.textContent ?? ""}`));
  }

  item(text: string): Locator {
    return this.items.filter({ hasText: text });
  }

  async accept(text: string): Promise<void> {
    await this.item(text).getByRole("button", { name: /^Accept/ }).click();
  }

  async reject(text: string): Promise<void> {
    await this.item(text).getByRole("button", { name: /^Reject/ }).click();
  }
}
