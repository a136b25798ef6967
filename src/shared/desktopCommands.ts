/**
 * What the desktop app's menu and the system (writer:// links) ask the page to do. Main
 * sends one of these on IPC_COMMAND; the page checks it (parseDesktopCommand) before it
 * acts, as it checks everything that crosses into it.
 */
import { isValidAutomergeUrl } from "@automerge/automerge-repo/slim";
import { BACKUP_MAX_BYTES } from "./api";

export const MENU_COMMANDS = [
  "new-document",
  "open-link",
  "import",
  "export-docx",
  "export-markdown",
  "export-html",
  "export-html-comments",
  "export-text",
  "export-backup",
  "print",
  "find",
  "replace",
  "shortcuts",
] as const;

export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** A file the system opened with Writer (a backup, by its file type): imported as if chosen in Import…. */
export interface OpenFileCommand {
  command: "open-file";
  name: string;
  bytes: Uint8Array;
}

export type DesktopCommand = { command: MenuCommand } | { command: "open-document"; url: string } | OpenFileCommand;

/** A file name Writer opens from the system: a name, not a path, of a backup. */
export const OPENABLE_FILE = /^[^/\\\0]{1,200}\.automerge$/i;

/** The command in `payload`, or null for anything that is not exactly one. */
export function parseDesktopCommand(payload: unknown): DesktopCommand | null {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) return null;
  if ((payload as { command?: unknown }).command === "open-file") {
    const { name, bytes, ...others } = payload as Partial<OpenFileCommand>;
    if (Object.keys(others).length !== 1) return null;
    if (typeof name !== "string" || !OPENABLE_FILE.test(name) || !(bytes instanceof Uint8Array) || bytes.length > BACKUP_MAX_BYTES) return null;
    return { command: "open-file", name, bytes };
  }
  const { command, url, ...rest } = payload as { command?: unknown; url?: unknown };
  if (Object.keys(rest).length > 0) return null;
  if (command === "open-document") return typeof url === "string" && url.length < 100 && isValidAutomergeUrl(url) ? { command, url } : null;
  if (url !== undefined) return null;
  return (MENU_COMMANDS as readonly unknown[]).includes(command) ? { command: command as MenuCommand } : null;
}
