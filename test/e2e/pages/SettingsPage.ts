import type { Locator, Page } from "playwright-core";

/** The Settings dialog: profile, relays, library link. */
export class SettingsPage {
  readonly dialog: Locator;

  constructor(readonly page: Page) {
    this.dialog = page.getByRole("dialog", { name: "Settings" });
  }

  async open(): Promise<void> {
    await this.page.locator(".sidebar").getByRole("button", { name: "Settings", exact: true }).click();
    await this.dialog.waitFor();
  }

  async addRelay(name: string, url: string, token: string): Promise<void> {
    const form = this.dialog.getByRole("form", { name: "Add a relay" });
    await form.getByRole("textbox", { name: "Address" }).fill(url);
    await form.getByRole("textbox", { name: "Name" }).fill(name);
    await form.getByLabel("Token", { exact: true }).fill(token);
    await form.getByRole("button", { name: "Add relay" }).click();
    await this.dialog.locator(".relay-name", { hasText: name }).waitFor();
  }

  /**
   * Opens Settings, adds a relay, waits until it says it syncs (or has everything) when
   * `waitForSync`, and closes: what a writer joining a team's relay does.
   */
  async joinRelay(name: string, url: string, token: string, options: { waitForSync?: boolean } = {}): Promise<void> {
    await this.open();
    await this.addRelay(name, url, token);
    if (options.waitForSync) {
      const status = this.dialog.getByTestId("settings-sync-status");
      await status
        .filter({ hasText: /All changes on|Syncing with/ })
        .waitFor({ timeout: 20_000 })
        .catch(async () => {
          throw new Error(`Settings never said it syncs with ${name}: ${await status.innerText()}`);
        });
    }
    await this.close();
  }

  /**
   * Sets the writer's name and colour through the host API (as the dialog does; the
   * dialog offers a fixed palette, tests want distinct colours) and reloads the page,
   * which reads the profile once at start.
   */
  async setProfile(name: string, color: string): Promise<void> {
    const answer = await this.page.evaluate(async (profile) => {
      const res = await fetch("/api", { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${sessionStorage.getItem("writer-shell-token") ?? ""}` }, body: JSON.stringify({ method: "setProfile", ...profile }) });
      return (await res.json()) as { ok: boolean };
    }, { name, color });
    if (!answer.ok) throw new Error(`setProfile refused ${name} ${color}`);
    await this.page.reload();
    await this.page.locator(".sidebar").waitFor();
  }

  /** The relays listed, in order. */
  async relays(): Promise<string[]> {
    return this.dialog.locator(".relay-name").allInnerTexts();
  }

  async close(): Promise<void> {
    await this.dialog.getByRole("button", { name: "Close settings" }).click();
    await this.dialog.waitFor({ state: "detached" });
  }
}
