/**
 * The preload exposes exactly two things to the sandboxed renderer: a call into the
 * host (validated there) and the MessagePort that carries sync. Nothing raw, no Node.
 */
import { contextBridge, ipcRenderer } from "electron";
import type { HostRequest } from "../shared/api";
import { IPC_CHANNEL, IPC_SYNC_PORT } from "../shared/ipc";

// The preload type-checks in the Node world (no DOM library); it needs only this much of the page.
declare const window: { postMessage(message: unknown, targetOrigin: string, transfer?: unknown[]): void; location: { origin: string } };

contextBridge.exposeInMainWorld("writerHost", {
  call: (request: HostRequest) => ipcRenderer.invoke(IPC_CHANNEL, request),
});

// MessagePorts cannot cross contextBridge; hand it to the page with window.postMessage.
ipcRenderer.on(IPC_SYNC_PORT, (event) => {
  window.postMessage(IPC_SYNC_PORT, window.location.origin === "null" ? "*" : window.location.origin, event.ports);
});
