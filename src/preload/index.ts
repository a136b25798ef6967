/**
 * The preload exposes exactly four things to the sandboxed renderer: a call into the
 * host (validated there), a request to save the page as a PDF (validated in main), the
 * menu's and writer:// links' commands (validated in the page), and the MessagePort that
 * carries sync. Nothing raw, no Node.
 */
import { contextBridge, ipcRenderer } from "electron";
import type { HostRequest } from "../shared/api";
import { IPC_CHANNEL, IPC_COMMAND, IPC_COMMAND_READY, IPC_PRINT_PDF, IPC_SYNC_PORT } from "../shared/ipc";

// The preload type-checks in the Node world (no DOM library); it needs only this much of the page.
declare const window: { postMessage(message: unknown, targetOrigin: string, transfer?: unknown[]): void; location: { origin: string } };

contextBridge.exposeInMainWorld("writerHost", {
  call: (request: HostRequest) => ipcRenderer.invoke(IPC_CHANNEL, request),
  // The title only names the file; main checks it and asks the writer where to save.
  printToPDF: (title: string) => ipcRenderer.invoke(IPC_PRINT_PDF, title),
  // Only the command's payload reaches the page, never the IPC event.
  onCommand: (listener: (payload: unknown) => void) => {
    const forward = (_event: unknown, payload: unknown) => listener(payload);
    ipcRenderer.on(IPC_COMMAND, forward);
    // Anything main kept for the page until it listened (a file Writer was started with) comes now.
    ipcRenderer.send(IPC_COMMAND_READY);
    return () => void ipcRenderer.removeListener(IPC_COMMAND, forward);
  },
});

// MessagePorts cannot cross contextBridge; hand it to the page with window.postMessage.
ipcRenderer.on(IPC_SYNC_PORT, (event) => {
  window.postMessage(IPC_SYNC_PORT, window.location.origin === "null" ? "*" : window.location.origin, event.ports);
});
