/**
 * A stand-in for the `electron` module, for loading the built main process in plain Node
 * (test/e2e/desktopMain.test.ts): the real binary cannot run on the machines the project
 * is developed on. It records what the app asks for (windows and their options, IPC
 * handlers, the menu, the app:// protocol, the writer:// scheme), then plays the part of
 * the page: it asks the app:// handler for the page and calls the host through the IPC
 * handler, as its own page and as a stranger. It writes what it saw to STAND_IN_REPORT
 * and quits the app the way Electron does (before-quit), so the host closes as it would.
 */
import { EventEmitter } from "node:events";
import fs from "node:fs";
import path from "node:path";

const userData = process.env.STAND_IN_USER_DATA;
const report = {
  windows: [],
  ipcHandlers: [],
  privilegedSchemes: [],
  protocolHandlers: [],
  menu: null,
  defaultProtocolClients: [],
  singleInstanceLocks: 0,
  errors: [],
  probes: {},
  sent: [],
  exitCode: null,
};
const handlers = new Map();
const listeners = new Map();
const protocolHandlers = new Map();

class App extends EventEmitter {
  isPackaged = process.env.STAND_IN_PACKAGED === "1";
  getPath(name) {
    if (name === "exe") return process.execPath;
    return path.join(userData, name);
  }
  getVersion() {
    return "0.0.0-stand-in";
  }
  whenReady() {
    return Promise.resolve();
  }
  requestSingleInstanceLock() {
    report.singleInstanceLocks++;
    return true;
  }
  setAsDefaultProtocolClient(scheme) {
    report.defaultProtocolClients.push(scheme);
    return true;
  }
  quit() {
    this.emit("before-quit", { preventDefault() {} });
  }
  exit(code) {
    report.exitCode = code;
    fs.writeFileSync(process.env.STAND_IN_REPORT, JSON.stringify(report, null, 2));
    process.exit(code);
  }
}
export const app = new App();

class WebContents extends EventEmitter {
  session = { setPermissionRequestHandler() {}, setPermissionCheckHandler() {} };
  setWindowOpenHandler(handler) {
    this.windowOpenHandler = handler;
  }
  postMessage() {}
  send(channel, payload) {
    report.sent.push({ channel, command: payload?.command ?? null, name: payload?.name ?? null, bytes: payload?.bytes?.length ?? null });
  }
}

export class BrowserWindow extends EventEmitter {
  static #all = [];
  static getAllWindows() {
    return [...BrowserWindow.#all];
  }
  static getFocusedWindow() {
    return BrowserWindow.#all[0] ?? null;
  }
  static fromWebContents(contents) {
    return BrowserWindow.#all.find((w) => w.webContents === contents) ?? null;
  }
  constructor(options) {
    super();
    this.options = options;
    this.webContents = new WebContents();
    this.record = { options, url: null };
    report.windows.push(this.record);
    BrowserWindow.#all.push(this);
  }
  async loadURL(url) {
    this.record.url = url;
    setTimeout(() => void playThePage(this), 0);
  }
  async loadFile(file) {
    this.record.url = `file-load:${file}`;
  }
  maximize() {}
  isMaximized() {
    return false;
  }
  isMinimized() {
    return false;
  }
  isDestroyed() {
    return false;
  }
  getNormalBounds() {
    return { x: 0, y: 0, width: 1000, height: 700 };
  }
  restore() {}
  focus() {}
  show() {}
}

export const ipcMain = {
  handle(channel, handler) {
    report.ipcHandlers.push(channel);
    handlers.set(channel, handler);
  },
  on(channel, listener) {
    listeners.set(channel, listener);
  },
};
export const Menu = {
  buildFromTemplate(template) {
    return { template };
  },
  setApplicationMenu(menu) {
    const describe = (items) => items.map((i) => ({ label: i.label ?? null, role: i.role ?? null, accelerator: i.accelerator ?? null, submenu: Array.isArray(i.submenu) ? describe(i.submenu) : null }));
    report.menu = describe(menu.template);
  },
};
export const protocol = {
  registerSchemesAsPrivileged(schemes) {
    report.privilegedSchemes.push(...schemes);
  },
  handle(scheme, handler) {
    report.protocolHandlers.push(scheme);
    protocolHandlers.set(scheme, handler);
  },
};
export const dialog = {
  async showMessageBox() {
    return { response: 0 };
  },
  showErrorBox(title, message) {
    report.errors.push(`${title}: ${message}`);
  },
  async showSaveDialog() {
    return { canceled: true };
  },
};
export const shell = { async openExternal() {} };
export const screen = { getAllDisplays: () => [{ bounds: { x: 0, y: 0, width: 1920, height: 1080 } }] };
export const safeStorage = {
  isEncryptionAvailable: () => false,
  getSelectedStorageBackend: () => "basic_text",
  encryptString: (s) => Buffer.from(s),
  decryptString: (b) => b.toString(),
};
export class MessageChannelMain {
  constructor() {
    this.port1 = new EventEmitter();
    this.port2 = new EventEmitter();
  }
}
export default { app, BrowserWindow, ipcMain, Menu, protocol, dialog, shell, screen, safeStorage, MessageChannelMain };

/** What the page would do first: load itself through app://, and call the host. */
async function playThePage(win) {
  try {
    const entry = win.record.url;
    const serve = protocolHandlers.get(new URL(entry).protocol.replace(":", ""));
    if (serve) {
      const page = await serve({ url: entry });
      report.probes.page = { status: page.status, csp: page.headers.get("content-security-policy"), type: page.headers.get("content-type"), hasRoot: (await page.text()).includes('id="root"') };
      // The Automerge wasm the page's scripts name, fetched as they fetch it: its type must
      // be application/wasm, or the page cannot compile it while it downloads. (The file
      // Vite emitted, with its hash; Automerge's glue also names a default file, which is
      // used only when it is given no module, and the app always gives it one.)
      const html = await (await serve({ url: entry })).text();
      const scripts = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+\.js)"/g)].map((m) => new URL(m[1], entry).href);
      const wasmNames = new Set();
      for (const script of scripts) for (const m of (await (await serve({ url: script })).text()).matchAll(/new URL\(`([^`]+-[\w-]{8}\.wasm)`,import\.meta\.url\)/g)) wasmNames.add(new URL(m[1], script).href);
      report.probes.wasm = await Promise.all([...wasmNames].map(async (url) => {
        const wasm = await serve({ url });
        const bytes = new Uint8Array(await wasm.arrayBuffer());
        return { status: wasm.status, type: wasm.headers.get("content-type"), magic: [...bytes.slice(0, 4)] };
      }));
      const escape = await serve({ url: entry.replace("index.html", "../../package.json") });
      report.probes.escape = { status: escape.status };
    }
    const call = handlers.get("writer:host");
    if (call) {
      const own = { senderFrame: { url: entry, parent: null }, sender: win.webContents };
      const stranger = { senderFrame: { url: "https://evil.example/", parent: null }, sender: win.webContents };
      const boot = await call(own, { method: "bootstrap" });
      report.probes.bootstrap = { ok: boot.ok, hasLibrary: typeof boot.value?.libraryUrl === "string", lastOpened: boot.value?.lastOpened ?? null };
      report.probes.invalid = await call(own, { method: "deleteEverything" });
      report.probes.stranger = await call(stranger, { method: "bootstrap" });
    }
    // The page starts listening for commands (the preload says so): a stranger first, then the page.
    const ready = listeners.get("writer:command-ready");
    if (ready) {
      ready({ senderFrame: { url: "https://evil.example/", parent: null }, sender: win.webContents });
      report.probes.sentToStranger = report.sent.length;
      ready({ senderFrame: { url: entry, parent: null }, sender: win.webContents });
    }
  } catch (error) {
    report.errors.push(`stand-in: ${error.stack ?? error}`);
  }
  app.quit();
}
