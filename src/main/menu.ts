/**
 * The application menu, as Electron's template: the platform's usual menus and
 * accelerators, with Writer's own items sent to the page as commands
 * (shared/desktopCommands.ts). A plain function, tested without Electron
 * (test/unit/main/menu.test.ts); src/main/index.ts builds the menu from it.
 */
import type { MenuItemConstructorOptions } from "electron";
import type { MenuCommand } from "../shared/desktopCommands";

export interface MenuOptions {
  platform: NodeJS.Platform;
  /** Development builds get Reload and the developer tools. */
  development: boolean;
  /** Runs a command in the focused window's page. */
  send(command: MenuCommand): void;
  /** Shows the version (macOS has its own About panel). */
  about(): void;
}

export function menuTemplate({ platform, development, send, about }: MenuOptions): MenuItemConstructorOptions[] {
  const mac = platform === "darwin";
  const item = (label: string, command: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({ label, ...(accelerator ? { accelerator } : {}), click: () => send(command) });
  const separator: MenuItemConstructorOptions = { type: "separator" };
  const appMenu: MenuItemConstructorOptions[] = mac
    ? [
        {
          label: "Writer",
          submenu: [{ role: "about" }, separator, { role: "services" }, separator, { role: "hide" }, { role: "hideOthers" }, { role: "unhide" }, separator, { role: "quit" }],
        },
      ]
    : [];
  return [
    ...appMenu,
    {
      label: "&File",
      submenu: [
        item("New Document", "new-document", "CmdOrCtrl+N"),
        item("Open a Link…", "open-link", "CmdOrCtrl+O"),
        separator,
        item("Import…", "import"),
        {
          label: "Export",
          submenu: [item("Word (.docx)…", "export-docx"), item("Markdown…", "export-markdown"), item("HTML…", "export-html"), item("HTML with Comments…", "export-html-comments"), item("Plain Text…", "export-text"), item("Backup with History…", "export-backup")],
        },
        separator,
        item(mac ? "Print / Save as PDF…" : "Print / PDF…", "print", "CmdOrCtrl+P"),
        ...(mac ? [] : [separator, { role: "quit" } as MenuItemConstructorOptions]),
      ],
    },
    {
      label: "&Edit",
      submenu: [
        { role: "undo" },
        { role: "redo" },
        separator,
        { role: "cut" },
        { role: "copy" },
        { role: "paste" },
        { role: "selectAll" },
        separator,
        item("Find…", "find", "CmdOrCtrl+F"),
        item("Replace…", "replace", mac ? "Cmd+Alt+F" : "Ctrl+H"),
      ],
    },
    {
      label: "&View",
      submenu: [
        { role: "resetZoom" },
        { role: "zoomIn" },
        { role: "zoomOut" },
        separator,
        { role: "togglefullscreen" },
        ...(development ? [separator, { role: "reload" } as MenuItemConstructorOptions, { role: "toggleDevTools" } as MenuItemConstructorOptions] : []),
      ],
    },
    { label: "&Window", submenu: mac ? [{ role: "minimize" }, { role: "zoom" }, separator, { role: "front" }] : [{ role: "minimize" }, { role: "close" }] },
    {
      label: "&Help",
      role: "help",
      submenu: [item("Keyboard Shortcuts", "shortcuts", "CmdOrCtrl+/"), ...(mac ? [] : [separator, { label: "About Writer", click: about }])],
    },
  ];
}

/** The About box's words (Windows and Linux). */
export function aboutMessage(version: string, versions: { electron?: string; chrome?: string; node?: string }): { type: "info"; title: string; message: string; detail: string; buttons: string[]; noLink: true } {
  return {
    type: "info",
    title: "About Writer",
    message: `Writer ${version}`,
    detail: `A local-first collaborative editor for writers.\nElectron ${versions.electron ?? "?"} · Chromium ${versions.chrome ?? "?"} · Node ${versions.node ?? "?"}`,
    buttons: ["OK"],
    noLink: true,
  };
}
