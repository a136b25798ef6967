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
    // The renderer keeps nothing on disk; the host does. Keystrokes reach the host (and
    // its disk), the relay and other writers at once by the broadcast fast path
    // (src/shared/sync/changeBroadcast.ts), so sync here is the backstop that checks
    // everything arrived: 50 ms lets it cover several keystrokes, and a writer's remote
    // keystrokes, in one round (bench/propagation: with 50 ms on every hop, 8 writers'
    // keystrokes arrive in 420–470 ms at the median on a saturated 2-core machine, with
    // 0 ms in 1.9 s and with deliveries still missing at the end).
    syncDebounceRate: 50,
  });
  const host = new HostClient(hostTransport());
  createRoot(document.getElementById("root")!).render(<App repo={repo} host={host} />);
}

start().catch((error: unknown) => {
  document.body.textContent = `Writer could not start: ${(error as Error).message}`;
});
