/**
 * Recent documents where the system keeps them: the macOS Dock's menu and the Windows
 * taskbar's jump list (Linux desktops have no common place). Each entry opens its
 * document through a writer:// link, so it works whether Writer is running or not (a
 * second launch hands the link over). Plain functions, tested in Node
 * (test/unit/main/recent.test.ts); src/main/index.ts sets them from the library.
 */
import type { JumpListCategory, MenuItemConstructorOptions } from "electron";
import { activeEntries, UNTITLED, type LibraryEntry } from "../shared/library";
import { DEEP_LINK_SCHEME } from "./deepLink";

/** As many as fit without scrolling in both places. */
const RECENT_COUNT = 8;

/** The most recently edited documents, not in the trash. */
export function recentDocuments(entries: Record<string, LibraryEntry>): LibraryEntry[] {
  return activeEntries({ schemaVersion: 1, documents: entries }).slice(0, RECENT_COUNT);
}

/** A title as a menu shows it: one line, not too long, and never empty. */
function label(title: string): string {
  const line = title.replace(/\s+/g, " ").trim() || UNTITLED;
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}

/** The Windows jump list: recent documents, each a task that starts Writer with its link. */
export function jumpList(recent: LibraryEntry[], executable: string): JumpListCategory[] {
  if (recent.length === 0) return [];
  return [
    {
      type: "custom",
      name: "Recent documents",
      items: recent.map((e) => ({
        type: "task" as const,
        title: label(e.title),
        description: e.snippet ? label(e.snippet) : label(e.title),
        program: executable,
        args: `${DEEP_LINK_SCHEME}://open/${e.url}`,
        iconPath: executable,
        iconIndex: 0,
      })),
    },
  ];
}

/** The macOS Dock menu: recent documents, each opening in the running Writer. */
export function dockMenu(recent: LibraryEntry[], open: (url: string) => void): MenuItemConstructorOptions[] {
  return recent.map((e) => ({ label: label(e.title), click: () => open(e.url) }));
}
