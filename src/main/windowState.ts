import fs from "node:fs/promises";
import { screen, type BrowserWindow } from "electron";

interface WindowState {
  bounds: { width: number; height: number; x?: number; y?: number };
  maximized: boolean;
}

const DEFAULT: WindowState = { bounds: { width: 1100, height: 760 }, maximized: false };

/** The window's last size and place, if it still fits on a connected display. */
export async function loadWindowState(file: string): Promise<WindowState> {
  try {
    const s = JSON.parse(await fs.readFile(file, "utf8")) as WindowState;
    const { width, height, x, y } = s.bounds;
    if (![width, height].every((n) => Number.isFinite(n) && n >= 300 && n <= 10000)) return DEFAULT;
    const visible = x === undefined || y === undefined || screen.getAllDisplays().some((d) => x >= d.bounds.x - 50 && y >= d.bounds.y - 50 && x < d.bounds.x + d.bounds.width && y < d.bounds.y + d.bounds.height);
    return { bounds: visible ? { width, height, x, y } : { width, height }, maximized: s.maximized === true };
  } catch {
    return DEFAULT;
  }
}

/** Saves size and place whenever the writer stops resizing or moving the window. */
export function trackWindowState(win: BrowserWindow, file: string): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const save = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (win.isDestroyed()) return;
      const state: WindowState = { bounds: win.getNormalBounds(), maximized: win.isMaximized() };
      void fs.writeFile(file, JSON.stringify(state)).catch(() => undefined);
    }, 300);
  };
  win.on("resize", save);
  win.on("move", save);
  win.on("close", () => {
    clearTimeout(timer);
    const state: WindowState = { bounds: win.getNormalBounds(), maximized: win.isMaximized() };
    void fs.writeFile(file, JSON.stringify(state)).catch(() => undefined);
  });
}
