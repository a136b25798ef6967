/**
 * The Electron shell: windows, IPC wiring and the host's life cycle. Everything else
 * is the host (src/host), which runs without Electron; keep this file thin.
 */
import path from "node:path";
import { app, BrowserWindow, dialog, ipcMain, Menu, MessageChannelMain, protocol, shell, type MessagePortMain } from "electron";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { Host } from "../host/Host";
import { relayQuestion } from "./relayConfirm";
import { DirectoryLockedError } from "../node/storage";
import { IPC_CHANNEL, IPC_SYNC_PORT } from "../shared/api";
import { IPC_COMMAND, IPC_COMMAND_READY, IPC_PRINT_PDF } from "../shared/ipc";
import type { DesktopCommand } from "../shared/desktopCommands";
import { aboutMessage, menuTemplate } from "./menu";
import { DEEP_LINK_SCHEME, deepLinkInArgs, parseDeepLink } from "./deepLink";
import { APP_ENTRY, APP_SCHEME, serveAppAsset } from "./appProtocol";
import { linkToOpenOutside, windowOptions } from "./window";
import { quitQuestion } from "./quit";
import { backupInArgs, readBackupCommand } from "./openFile";
import { dockMenu, jumpList, recentDocuments } from "./recent";
import { PDF_OPTIONS, pdfFileName } from "./pdf";
import { writeFileAtomic } from "../node/atomicFile";
import { loadWindowState, trackWindowState } from "./windowState";
import { safeStorageCipher } from "./secrets";
import { isOwnRendererFrame } from "./sender";
import { grantPermissionRequest, passPermissionCheck } from "./permissions";
import { PortGuard } from "./PortGuard";
import fs from "node:fs/promises";
import { policyFiles, UPDATE_CHECK_INTERVAL_MS, updatePolicy, updateQuestion } from "./updates";

let host: Host | undefined;
let quitting = false;
/** A writer:// link that came before the window could take it (at launch; macOS's open-url). */
let linkAtLaunch: string | null = deepLinkInArgs(process.argv);

/** automerge-repo's MessageChannel adapter speaks the DOM MessagePort API; Electron's main-process port is an EventEmitter. */
type DomMessagePort = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];

function domPort(port: MessagePortMain, hostPeerId: string): DomMessagePort {
  // Every message from the page is checked before automerge-repo sees it (PortGuard).
  const guard = new PortGuard(hostPeerId);
  return {
    postMessage: (message: unknown) => port.postMessage(message),
    addEventListener: (type: string, listener: (e: { data: unknown }) => void) => {
      if (type === "message")
        port.on("message", (e) => {
          const checked = guard.check(e.data);
          if ("refusal" in checked) {
            console.warn(`renderer sync port closed: ${checked.refusal}`);
            port.close();
            return;
          }
          listener({ data: checked.message });
        });
      else if (type === "close") port.on("close", () => listener({ data: undefined }));
    },
    removeEventListener: () => undefined,
    start: () => port.start(),
    close: () => port.close(),
  } as unknown as DomMessagePort;
}

async function createWindow(h: Host): Promise<void> {
  const stateFile = path.join(app.getPath("userData"), "window-state.json");
  const state = await loadWindowState(stateFile);
  const win = new BrowserWindow(windowOptions(path.join(__dirname, "../preload/index.cjs"), state.bounds));
  if (state.maximized) win.maximize();
  trackWindowState(win, stateFile);

  // The renderer never navigates and never opens windows; safe links open in the browser.
  win.webContents.on("will-navigate", (event) => event.preventDefault());
  // Electron grants permission requests by default; the page needs none (permissions.ts).
  win.webContents.session.setPermissionRequestHandler((_contents, permission, callback) => callback(grantPermissionRequest(permission)));
  win.webContents.session.setPermissionCheckHandler((_contents, permission) => passPermissionCheck(permission));
  win.webContents.setWindowOpenHandler(({ url }) => {
    const href = linkToOpenOutside(url);
    if (href) void shell.openExternal(href);
    return { action: "deny" };
  });

  win.webContents.on("did-finish-load", () => {
    const { port1, port2 } = new MessageChannelMain();
    h.connect(new MessageChannelNetworkAdapter(domPort(port1, h.repo.peerId)));
    win.webContents.postMessage(IPC_SYNC_PORT, null, [port2]);
  });
  win.once("ready-to-show", () => win.show());

  await win.loadURL(process.env.ELECTRON_RENDERER_URL || APP_ENTRY);
}

/** A message box over `win` (by default the writer's window), or on its own when there is none. */
function askWriter(box: Electron.MessageBoxOptions, win: BrowserWindow | null | undefined = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0]): Promise<Electron.MessageBoxReturnValue> {
  return win ? dialog.showMessageBox(win, box) : dialog.showMessageBox(box);
}

/** The window the writer is looking at, brought forward. */
function frontWindow(): BrowserWindow | undefined {
  const win = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  if (win?.isMinimized()) win.restore();
  win?.focus();
  return win;
}

/** Pages listening for commands (they say so on IPC_COMMAND_READY, and again after a reload). */
const listening = new WeakSet<Electron.WebContents>();
/** Commands for a page that does not listen yet (a file Writer was started with). */
const queued: DesktopCommand[] = [];

function sendCommand(command: DesktopCommand): void {
  const win = frontWindow();
  if (win && listening.has(win.webContents)) win.webContents.send(IPC_COMMAND, command);
  else queued.push(command);
}

/** A backup the system opened with Writer: read here, imported by the page (openFile.ts). */
function openBackupFile(file: string): void {
  void readBackupCommand(file, { size: async (f) => (await fs.stat(f)).size, read: (f) => fs.readFile(f) }).then((command) => {
    if ("refused" in command) {
      void askWriter({ type: "warning", message: "Writer cannot open this file.", detail: command.refused, buttons: ["OK"] }, frontWindow());
    } else sendCommand(command);
  });
}

/** A writer:// link from the system: checked here, then opened by the page (or said why not). */
function openDeepLink(raw: string): void {
  const link = parseDeepLink(raw);
  if ("refused" in link) {
    void askWriter({ type: "warning", message: "Writer cannot open this link.", detail: link.refused, buttons: ["OK"] }, frontWindow());
    return;
  }
  sendCommand({ command: "open-document", url: link.open });
}

// app://writer/ serves the page (appProtocol.ts): a standard, secure scheme, so that the page
// has an origin of its own, modules and fetch work, and nothing else shares it.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

// macOS hands files over by event too, also at launch: they wait for the page.
app.on("open-file", (event, file) => {
  event.preventDefault();
  openBackupFile(file);
});

// macOS hands links over by event, also at launch (before the app is ready).
app.on("open-url", (event, url) => {
  event.preventDefault();
  if (host && BrowserWindow.getAllWindows().length > 0) openDeepLink(url);
  else linkAtLaunch = url;
});

async function start(): Promise<void> {
  // One Writer per data directory: a second launch hands its writer:// link to this one.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  if (app.isPackaged) app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME);
  await app.whenReady();
  // The page and its assets, from the build beside this file, each answer with the CSP header.
  const rendererRoot = path.join(__dirname, "../renderer");
  protocol.handle(APP_SCHEME, (request) => serveAppAsset(request, rendererRoot, (file) => fs.readFile(file)));
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        platform: process.platform,
        development: !app.isPackaged,
        send: (command) => sendCommand({ command }),
        about: () => void dialog.showMessageBox(aboutMessage(app.getVersion(), process.versions)),
      }),
    ),
  );
  try {
    host = await Host.open({
      dataDir: path.join(app.getPath("userData"), "library"),
      secretCipher: safeStorageCipher(),
      // Built beside this file (electron.vite.config.ts): long documents load there.
      documentWorkers: { worker: new URL("./documentWorker.js", import.meta.url) },
      // Development builds fail loudly when the editor drifts from the document.
      integrityChecks: app.isPackaged ? undefined : "strict",
      // Relays are added only once the writer says so here, outside the page.
      confirmRelay: async (change) => {
        const answer = await askWriter(relayQuestion(change), BrowserWindow.getFocusedWindow());
        return answer.response === 1;
      },
    });
  } catch (error) {
    const message = error instanceof DirectoryLockedError ? error.message : `Writer could not open your documents: ${String((error as Error).message ?? error)}`;
    dialog.showErrorBox("Writer cannot start", message);
    app.exit(1);
    return;
  }
  const h = host;
  const rendererUrl = process.env.ELECTRON_RENDERER_URL || APP_ENTRY;
  ipcMain.handle(IPC_CHANNEL, (event, payload: unknown) => {
    // Only our own page, in a window's top frame, may call the host; the payload itself is validated by the host.
    if (!isOwnRendererFrame(event.senderFrame, rendererUrl)) return { ok: false, error: { code: "invalid-request", message: "Unknown sender" } };
    return h.handle(payload);
  });
  // "Export as PDF": the writer picks the file; main prints the page into it.
  ipcMain.handle(IPC_PRINT_PDF, async (event, payload: unknown) => {
    const name = pdfFileName(payload);
    const win = BrowserWindow.fromWebContents(event.sender);
    if (!isOwnRendererFrame(event.senderFrame, rendererUrl) || name === null || !win) return { ok: false, message: "That request to save a PDF was refused." };
    const { canceled, filePath } = await dialog.showSaveDialog(win, { defaultPath: path.join(app.getPath("documents"), name), filters: [{ name: "PDF", extensions: ["pdf"] }] });
    if (canceled || !filePath) return { ok: true, saved: null };
    try {
      await writeFileAtomic(filePath, await event.sender.printToPDF(PDF_OPTIONS), 0o644);
      return { ok: true, saved: path.basename(filePath) };
    } catch (error) {
      return { ok: false, message: `The PDF could not be saved: ${(error as Error).message}` };
    }
  });
  // The page says when it listens; what came before is sent then.
  ipcMain.on(IPC_COMMAND_READY, (event) => {
    if (!isOwnRendererFrame(event.senderFrame, rendererUrl)) return;
    const contents = event.sender;
    if (!listening.has(contents)) contents.once("did-start-loading", () => listening.delete(contents));
    listening.add(contents);
    for (const command of queued.splice(0)) contents.send(IPC_COMMAND, command);
  });
  const fileAtLaunch = backupInArgs(process.argv);
  if (fileAtLaunch) openBackupFile(fileAtLaunch);
  // A link Writer was started with opens as the document it reopens: the window loads it first.
  if (linkAtLaunch) {
    const link = parseDeepLink(linkAtLaunch);
    linkAtLaunch = null;
    if ("open" in link) await h.handle({ method: "openSharedDocument", url: link.open }).then(() => h.handle({ method: "setLastOpened", url: link.open }));
    else dialog.showErrorBox("Writer cannot open this link", link.refused);
  }
  const updates = await updateDecision();
  await createWindow(h);
  showRecentDocuments(h);
  setInterval(() => showRecentDocuments(h), RECENT_EVERY_MS).unref();
  if (updates) void startUpdates().catch((error: unknown) => console.warn(`updates: ${(error as Error).message}`));
  app.on("second-instance", (_event, argv) => {
    const link = deepLinkInArgs(argv);
    const file = backupInArgs(argv);
    if (link) openDeepLink(link);
    else if (file) openBackupFile(file);
    else frontWindow();
  });
  app.on("activate", () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow(h);
  });
}

/** How often the Dock menu and the jump list follow the library. */
const RECENT_EVERY_MS = 30_000;
let recentShown = "";

/** Recent documents in the macOS Dock menu and the Windows jump list (recent.ts). */
function showRecentDocuments(h: Host): void {
  if (process.platform !== "darwin" && process.platform !== "win32") return;
  const recent = recentDocuments(h.library.entries());
  const key = JSON.stringify(recent.map((e) => [e.url, e.title]));
  if (key === recentShown) return;
  recentShown = key;
  if (process.platform === "win32") app.setJumpList(jumpList(recent, process.execPath));
  else app.dock?.setMenu(Menu.buildFromTemplate(dockMenu(recent, (url) => sendCommand({ command: "open-document", url }))));
}

/** Whether this copy looks for new releases (updates.ts), said in the log either way. */
async function updateDecision(): Promise<boolean> {
  const files = policyFiles(process.platform, app.getPath("exe"), process.env);
  const read = await Promise.all(files.map(async (file) => ({ file, text: await fs.readFile(file, "utf8").catch(() => null) })));
  const decision = updatePolicy({ packaged: app.isPackaged, env: process.env, policies: read.filter((p): p is { file: string; text: string } => p.text !== null) });
  console.info(`updates: ${decision.enabled ? "on" : decision.why}`);
  return decision.enabled;
}

/** New releases: downloaded in the background, installed when the writer says so or at quit. */
async function startUpdates(): Promise<void> {
  // CommonJS: its exports are on the default import when loaded from this ES module.
  const updater = await import("electron-updater");
  const autoUpdater = (updater as unknown as { default?: typeof updater }).default?.autoUpdater ?? updater.autoUpdater;
  autoUpdater.autoDownload = true;
  autoUpdater.autoInstallOnAppQuit = true;
  autoUpdater.on("error", (error) => console.warn(`updates: ${error.message}`));
  autoUpdater.on("update-downloaded", (info) => {
    void askWriter(updateQuestion(info.version)).then(async (answer) => {
      if (answer.response !== 0) return;
      // Every change on disk first; then the installer replaces the app and starts it again.
      quitting = true;
      await host?.close().catch((error: unknown) => console.warn(`closing before the update: ${(error as Error).message}`));
      autoUpdater.quitAndInstall();
    });
  });
  const check = () => void autoUpdater.checkForUpdates().catch((error: unknown) => console.warn(`updates: ${(error as Error).message}`));
  check();
  setInterval(check, UPDATE_CHECK_INTERVAL_MS).unref();
}

app.on("window-all-closed", () => {
  if (process.platform !== "darwin") app.quit();
});

// Flush every change to disk before the process goes away; if the disk is refusing them,
// ask first (quit.ts).
app.on("before-quit", (event) => {
  if (quitting || !host) return;
  event.preventDefault();
  quitting = true;
  const h = host;
  void (async () => {
    const question = quitQuestion(h.status());
    if (question) {
      const answer = await askWriter(question);
      if (answer.response === question.cancelId) {
        quitting = false;
        return;
      }
    }
    await h.close().catch((error: unknown) => console.error(`closing: ${(error as Error).message}`));
    app.exit(0);
  })();
});

void start();
