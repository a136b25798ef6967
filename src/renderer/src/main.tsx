import { createRoot } from "react-dom/client";
import { initializeBase64Wasm, isValidAutomergeUrl, Repo, type PeerId } from "@automerge/automerge-repo/slim";
import { App } from "./App";
import { HostClient } from "./hostClient";
import { hostNetworkAdapter, hostTransport } from "./platform";
import { RESYNC_AFTER_MS } from "../../shared/sync/resync";
import { flushAllHeldEdits } from "./editor/heldEdits";
import "./styles.css";

async function start(): Promise<void> {
  performance.mark("writer:script");
  const host = new HostClient(hostTransport());
  const root = createRoot(document.getElementById("root")!);
  // The wasm is a chunk of its own (its base64 is most of the bundle's bytes), loaded as
  // a module import beside this one: the same way under file:// (Electron) and http,
  // and no longer in the way of this script's start. The first paint (early.ts) does
  // not wait for any of it.
  const { automergeWasmBase64 } = await import("@automerge/automerge/automerge.wasm.base64");
  await initializeBase64Wasm(automergeWasmBase64);
  // Opening benches (bench/long-document) print these steps of the way to first paint.
  performance.mark("writer:wasm-ready");
  const repo = new Repo({
    network: [await hostNetworkAdapter()],
    peerId: `renderer-${crypto.randomUUID()}` as PeerId,
    // The renderer keeps nothing on disk; the host does, as soon as it hears of a change.
    // 0: every keystroke goes to the host at once, in a background task after its frame
    // (patches/). A throttle would batch nothing at typing speed and run its round as an
    // ordinary timer task, between a keystroke and its paint (bench/typing: p99 20-23 ms
    // with 50 ms, 15 ms with 0). Keystrokes reach other writers by the broadcast fast path
    // (src/shared/sync/changeBroadcast.ts, fastPath.ts) while a relay is connected.
    syncDebounceRate: 0,
    resyncAfterMs: RESYNC_AFTER_MS,
  });
  // Typing held for a burst's change (editor/sync.ts) is committed when the window is
  // hidden or goes away; the sync to the host follows in the same task.
  window.addEventListener("pagehide", flushAllHeldEdits);
  window.addEventListener("beforeunload", flushAllHeldEdits);
  document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && flushAllHeldEdits());
  // The reopened document is asked for now, while the app asks for its library and lays
  // itself out; EditorPane's find then gets the same handle.
  const reopening = window.writerReopening;
  if (reopening && isValidAutomergeUrl(reopening)) void repo.find(reopening).catch(() => undefined);
  root.render(<App repo={repo} host={host} />);
}

start().catch((error: unknown) => {
  document.body.textContent = `Writer could not start: ${(error as Error).message}`;
});
