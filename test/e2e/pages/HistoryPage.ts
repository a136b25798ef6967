import type { Locator, Page } from "playwright-core";

/** The version history panel and the read-only view of a past version. */
export class HistoryPage {
  readonly panel: Locator;
  readonly version: Locator;
  /** The past version's text (its ProseMirror element). */
  readonly versionText: Locator;

  constructor(readonly page: Page) {
    this.panel = page.getByRole("complementary", { name: "Version history" });
    this.version = page.getByTestId("version-view");
    this.versionText = this.version.locator(".ProseMirror");
  }

  async open(): Promise<void> {
    if ((await this.panel.count()) === 0) await this.page.getByRole("button", { name: "Version history" }).click();
    await this.panel.waitFor();
  }

  /** Each session's row, as "who · when · n edits" lines, newest first. */
  async sessions(): Promise<string[]> {
    return (await this.panel.getByTestId("history-session").allInnerTexts()).map((t) => t.replace(/\s*\n\s*/g, " | "));
  }

  async nameCurrent(name: string): Promise<void> {
    await this.panel.getByRole("button", { name: "Name the current version…" }).click();
    await this.panel.getByRole("textbox", { name: "Name for the current version" }).fill(name);
    await this.panel.getByRole("button", { name: "Name", exact: true }).click();
  }

  /** Opens a listed entry (a session or a named version) whose text contains `text`. */
  async choose(text: string): Promise<void> {
    await this.panel.getByRole("listitem").filter({ hasText: text }).first().click();
    await this.versionText.waitFor();
  }

  async restore(): Promise<void> {
    await this.version.getByRole("button", { name: "Restore this version" }).click();
    await this.version.waitFor({ state: "detached" });
  }

  /** The past version's text without the struck-through text added since. */
  async versionOwnText(): Promise<string> {
    return this.versionText.evaluate((el) => {
      const copy = el.cloneNode(true) as HTMLElement;
      copy.querySelectorAll(".hl-removed").forEach((d) => d.remove());
      return copy.innerText;
    });
  }
}
