import { describe, expect, it } from "vitest";
import type { MenuItemConstructorOptions } from "electron";
import { aboutMessage, menuTemplate } from "../../../src/main/menu";
import { MENU_COMMANDS, parseDesktopCommand, type MenuCommand } from "../../../src/shared/desktopCommands";

/** The application menu has the platform's usual entries, and Writer's own reach the page. */
function build(platform: NodeJS.Platform, development = false) {
  const sent: MenuCommand[] = [];
  let abouts = 0;
  const template = menuTemplate({ platform, development, send: (c) => sent.push(c), about: () => abouts++ });
  return { template, sent, abouts: () => abouts };
}

const items = (menu: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] => menu.flatMap((m) => [m, ...(Array.isArray(m.submenu) ? items(m.submenu) : [])]);
const labels = (menu: MenuItemConstructorOptions[]) => menu.map((m) => m.label ?? m.role ?? m.type);
const submenu = (menu: MenuItemConstructorOptions[], label: string) => menu.find((m) => m.label?.replace("&", "") === label)!.submenu as MenuItemConstructorOptions[];

describe("the application menu", () => {
  for (const platform of ["linux", "win32", "darwin"] as const) {
    it(`on ${platform}: File, Edit, View, Window and Help, each of Writer's items sending its command`, () => {
      const { template, sent } = build(platform);
      const top = labels(template).map((l) => String(l).replace("&", ""));
      expect(top).toEqual([...(platform === "darwin" ? ["Writer"] : []), "File", "Edit", "View", "Window", "Help"]);
      for (const entry of items(template)) entry.click?.(undefined as never, undefined as never, undefined as never);
      // Every command the page knows is in the menu, once.
      expect([...sent].sort()).toEqual([...MENU_COMMANDS].sort());
      for (const command of sent) expect(parseDesktopCommand({ command })).toEqual({ command });
    });
  }

  it("has the usual accelerators, Replace as each platform has it, and zoom, full screen and the edit roles", () => {
    const accelerator = (template: MenuItemConstructorOptions[], label: string) => items(template).find((m) => m.label === label)?.accelerator;
    const linux = build("linux").template;
    expect(accelerator(linux, "New Document")).toBe("CmdOrCtrl+N");
    expect(accelerator(linux, "Open a Link…")).toBe("CmdOrCtrl+O");
    expect(accelerator(linux, "Print / PDF…")).toBe("CmdOrCtrl+P");
    expect(accelerator(linux, "Find…")).toBe("CmdOrCtrl+F");
    expect(accelerator(linux, "Replace…")).toBe("Ctrl+H");
    expect(accelerator(build("darwin").template, "Replace…")).toBe("Cmd+Alt+F");
    const roles = items(linux).map((m) => m.role).filter(Boolean);
    for (const role of ["undo", "redo", "cut", "copy", "paste", "selectAll", "resetZoom", "zoomIn", "zoomOut", "togglefullscreen", "minimize", "quit"]) expect(roles).toContain(role);
    expect(labels(submenu(linux, "File"))).toContain("Export");
    expect(labels(submenu(submenu(linux, "File"), "Export"))).toEqual(["Word (.docx)…", "Markdown…", "HTML…", "HTML with Comments…", "Plain Text…", "Backup with History…"]);
  });

  it("has About in Help on Windows and Linux, and macOS's own in the app menu", () => {
    const linux = build("linux");
    submenu(linux.template, "Help").find((m) => m.label === "About Writer")!.click!(undefined as never, undefined as never, undefined as never);
    expect(linux.abouts()).toBe(1);
    const mac = build("darwin").template;
    expect(submenu(mac, "Help").some((m) => m.label === "About Writer")).toBe(false);
    expect(labels(submenu(mac, "Writer"))).toContain("about");
    expect(aboutMessage("0.1.0", { electron: "45.5.0" }).message).toBe("Writer 0.1.0");
  });

  it("gives the developer tools to development builds only", () => {
    expect(items(build("linux").template).some((m) => m.role === "toggleDevTools")).toBe(false);
    expect(items(build("linux", true).template).some((m) => m.role === "toggleDevTools")).toBe(true);
  });
});

describe("commands from main, as the page checks them", () => {
  it("takes exactly a known command, or a valid document link to open", () => {
    expect(parseDesktopCommand({ command: "find" })).toEqual({ command: "find" });
    expect(parseDesktopCommand({ command: "open-document", url: "automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu" })).toEqual({ command: "open-document", url: "automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu" });
    for (const bad of [null, "find", ["find"], {}, { command: "rm -rf" }, { command: "find", extra: 1 }, { command: "find", url: "x" }, { command: "open-document" }, { command: "open-document", url: "automerge:notarealid" }, { command: "__proto__" }]) expect(parseDesktopCommand(bad)).toBeNull();
  });
});
