import { createRoot } from "react-dom/client";
import { initializeBase64Wasm, Repo, type PeerId } from "@automerge/automerge-repo/slim";
import { automergeWasmBase64 } from "@automerge/automerge/automerge.wasm.base64";
import { App } from "./App";
import { HostClient } from "./hostClient";
import { hostNetworkAdapter, hostTransport } from "./platform";
import "./styles.css";

async function start(): Promise<void> {
  // The wasm ships inside the bundle: the same code loads under file:// (Electron) and http.
  await initializeBase64Wasm(automergeWasmBase64);
  const repo = new Repo({
    network: [await hostNetworkAdapter()],
    peerId: `renderer-${crypto.randomUUID()}` as PeerId,
    // The renderer keeps nothing on disk; the host does, as soon as it hears of a change.
    // 30 ms batches a fast typist's keystrokes into fewer messages (each costs the page
    // about 2 ms, bench/typing) and, with the host's 20 ms save debounce, still puts
    // every change on disk well within a tenth of a second.
    syncDebounceRate: 30,
  });
  const host = new HostClient(hostTransport());
  createRoot(document.getElementById("root")!).render(<App repo={repo} host={host} />);
}

start().catch((error: unknown) => {
  document.body.textContent = `Writer could not start: ${(error as Error).message}`;
});
