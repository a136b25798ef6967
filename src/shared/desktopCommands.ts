/**
 * What the desktop app's menu and the system (writer:// links) ask the page to do. Main
 * sends one of these on IPC_COMMAND; the page checks it (parseDesktopCommand) before it
 * acts, as it checks everything that crosses into it.
 */
import { isValidAutomergeUrl } from "@automerge/automerge-repo/slim";

export const MENU_COMMANDS = [
  "new-document",
  "open-link",
  "import",
  "export-markdown",
  "export-html",
  "export-text",
  "export-backup",
  "print",
  "find",
  "replace",
  "shortcuts",
] as const;

export type MenuCommand = (typeof MENU_COMMANDS)[number];

export type DesktopCommand = { command: MenuCommand } | { command: "open-document"; url: string };

/** The command in `payload`, or null for anything that is not exactly one. */
export function parseDesktopCommand(payload: unknown): DesktopCommand | null {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return null;
  const { command, url, ...rest } = payload as { command?: unknown; url?: unknown };
  if (Object.keys(rest).length > 0) return null;
  if (command === "open-document") return typeof url === "string" && url.length < 100 && isValidAutomergeUrl(url) ? { command, url } : null;
  if (url !== undefined) return null;
  return (MENU_COMMANDS as readonly unknown[]).includes(command) ? { command: command as MenuCommand } : null;
}
