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
    // 0: every keystroke goes at once. A throttle batches nothing at typing speed (each
    // key already gets its own message, about 2 ms of the page's time, bench/typing), but
    // holds back a keystroke that follows any sync, a remote change's included: with
    // 30 ms the renderer→host hop's p99 was 31–34 ms, with 0 it is 12–14 ms (bench/propagation).
    syncDebounceRate: 0,
  });
  const host = new HostClient(hostTransport());
  createRoot(document.getElementById("root")!).render(<App repo={repo} host={host} />);
}

start().catch((error: unknown) => {
  document.body.textContent = `Writer could not start: ${(error as Error).message}`;
});
