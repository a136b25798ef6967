/**
 * Where the renderer finds its host. In Electron: the preload's IPC call and a
 * MessagePort for sync. In the browser shell: POST /api and a loopback WebSocket. The
 * rest of the renderer does not know which one it got.
 */
import type { NetworkAdapterInterface } from "@automerge/automerge-repo/slim";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { leafPeer } from "../../shared/sync/leafPeer";
import { readyWhenPeered } from "../../shared/sync/readyWhenPeered";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { beforeHostMessage } from "./editor/heldEdits";
import { shellHeaders, shellToken } from "./shellCredential";
import { IMPORT_BACKUP_PATH, IPC_SYNC_PORT, type HostMethod, type HostRequest, type HostResponse, type HostTransport } from "../../shared/api";

class ElectronTransport implements HostTransport {
  async call<M extends HostMethod>(request: Extract<HostRequest, { method: M }>): Promise<HostResponse<M>> {
    return (await window.writerHost!.call(request)) as HostResponse<M>;
  }
}

class HttpTransport implements HostTransport {
  async call<M extends HostMethod>(request: Extract<HostRequest, { method: M }>): Promise<HostResponse<M>> {
    try {
      const res = await fetch(request.method === "importBackup" ? IMPORT_BACKUP_PATH : "/api", { method: "POST", headers: shellHeaders(), body: JSON.stringify(request) });
      if (res.status === 401) return { ok: false, error: { code: "invalid-request", message: "Not signed in: open the URL that `npm run web` printed." } };
      return (await res.json()) as HostResponse<M>;
    } catch {
      return { ok: false, error: { code: "internal", message: "The Writer host is not reachable. Is `npm run web` still running?" } };
    }
  }
}

export const isElectron = typeof window.writerHost !== "undefined";

export function hostTransport(): HostTransport {
  return isElectron ? new ElectronTransport() : new HttpTransport();
}

/** The sync channel to the host. In Electron it waits for main to hand over the port. */
export async function hostNetworkAdapter(): Promise<NetworkAdapterInterface> {
  // Not ready before the host has answered: see readyWhenPeered.
  // A window is a leaf: it does not hand others' ephemeral messages back to the host.
  return yieldToInput(readyWhenPeered(leafPeer(await connectToHost())));
}

type PostTask = (task: () => void, options: { priority: "background" }) => Promise<unknown>;
const postTask = (globalThis as { scheduler?: { postTask?: PostTask } }).scheduler?.postTask?.bind((globalThis as { scheduler?: unknown }).scheduler);

/**
 * Messages from the host (its answers to our changes, collaborators' edits) are handled
 * in background tasks, in the order they came: a keystroke's handling and its frame go
 * first, and an answer that lands in between does not delay the paint (bench/typing
 * measures it in its p99). The wait is a few milliseconds at most while the writer types.
 */
function yieldToInput(adapter: NetworkAdapterInterface): NetworkAdapterInterface {
  const emit = adapter.emit.bind(adapter) as (event: string, ...args: unknown[]) => boolean;
  const queue: unknown[] = [];
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    for (const message of queue.splice(0)) {
      // Typing held for a burst's change goes into Automerge before anything about its document.
      beforeHostMessage(message);
      emit("message", message);
    }
  };
  (adapter as { emit: (event: string, ...args: unknown[]) => boolean }).emit = (event, ...args) => {
    if (event !== "message") return emit(event, ...args);
    queue.push(args[0]);
    if (!scheduled) {
      scheduled = true;
      if (postTask) void postTask(drain, { priority: "background" });
      else setTimeout(drain, 0);
    }
    return true;
  };
  return adapter;
}

async function connectToHost(): Promise<NetworkAdapterInterface> {
  if (!isElectron) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // Reconnects by itself (every second) when the host restarts.
    // A WebSocket cannot carry a header: the token goes in the query of a URL that only
    // this page makes and only this host receives.
    return new WebSocketClientAdapter(`${scheme}://${location.host}/sync?token=${encodeURIComponent(shellToken() ?? "")}`, 1000);
  }
  const port = await new Promise<MessagePort>((resolve) => {
    const onMessage = (event: MessageEvent) => {
      if (event.source === window && event.data === IPC_SYNC_PORT && event.ports[0]) {
        window.removeEventListener("message", onMessage);
        resolve(event.ports[0]);
      }
    };
    window.addEventListener("message", onMessage);
  });
  return new MessageChannelNetworkAdapter(port);
}
