import { createRoot } from "react-dom/client";
import { initializeWasm, isValidAutomergeUrl, Repo, type PeerId } from "@automerge/automerge-repo/slim";
import { App } from "./App";
import { HostClient } from "./hostClient";
import { hostNetworkAdapter, hostTransport } from "./platform";
import { RESYNC_AFTER_MS } from "../../shared/sync/resync";
import { flushAllHeldEdits } from "./editor/heldEdits";
import { openSaved } from "./savedDocument";
import { compileAutomergeWasm } from "./automergeWasm";
import "./styles.css";

/** How long the reopened document's load waits for the library to arrive first. */
const LIBRARY_FIRST_MS = 300;

async function start(): Promise<void> {
  performance.mark("writer:script");
  const host = new HostClient(hostTransport());
  const root = createRoot(document.getElementById("root")!);
  // The wasm is a file of its own (automergeWasm.ts), fetched the same way from app://
  // (Electron) and http (the browser shell). early.ts, which runs first, compiles it
  // while this script is still loading (sooner than it could be here); if that failed, it
  // is done here. The first paint does not wait for any of it.
  const compiled = (await window.writerWasm?.catch(() => undefined)) ?? (await compileAutomergeWasm());
  performance.mark("writer:wasm-module");
  // A compiled module is what wasm-bindgen's init accepts beside bytes and URLs (it then
  // only instantiates); Automerge's own type leaves it out.
  await initializeWasm(compiled as unknown as Uint8Array);
  // Opening benches (bench/long-document) print these steps of the way to first paint.
  performance.mark("writer:wasm-ready");
  const repo = new Repo({
    network: [await hostNetworkAdapter()],
    peerId: `renderer-${crypto.randomUUID()}` as PeerId,
    // The renderer keeps nothing on disk; the host does, as soon as it hears of a change.
    // 0: every keystroke goes to the host at once, in a background task after its frame
    // (patches/). A throttle would batch nothing at typing speed and run its round as an
    // ordinary timer task, between a keystroke and its paint, which then waits for it
    // (bench/typing has the figures). Keystrokes reach other writers by the broadcast
    // fast path (src/shared/sync/changeBroadcast.ts, fastPath.ts) while a relay is
    // connected.
    syncDebounceRate: 0,
    resyncAfterMs: RESYNC_AFTER_MS,
  });
  // Typing held for a burst's change (editor/sync.ts) is committed when the window is
  // hidden or goes away; the sync to the host follows in the same task.
  window.addEventListener("pagehide", flushAllHeldEdits);
  window.addEventListener("beforeunload", flushAllHeldEdits);
  document.addEventListener("visibilitychange", () => document.visibilityState === "hidden" && flushAllHeldEdits());
  // The reopened document is loaded now, from the host's saved copy that early.ts asked
  // for, while the app asks for its library and lays itself out; EditorPane's open then
  // waits for this one and finds the same handle.
  // The library is asked for first: it is small, and the host answers it at once, where
  // behind the long document's first sync it would wait for the host to load that.
  const libraryUrl = (await window.writerEarlyBoot?.catch(() => null))?.libraryUrl;
  const libraryFirst = libraryUrl && isValidAutomergeUrl(libraryUrl) ? repo.find(libraryUrl).catch(() => undefined) : undefined;
  const reopening = window.writerReopening;
  const early = window.writerEarlySaved;
  if (reopening && isValidAutomergeUrl(reopening)) {
    const saved = early?.url === reopening ? () => early.saved : () => host.call("savedDocument", { url: reopening });
    const fetchSaved = async () => {
      await Promise.race([libraryFirst, new Promise((resolve) => setTimeout(resolve, LIBRARY_FIRST_MS))]);
      return saved();
    };
    void openSaved(repo, reopening, fetchSaved);
  }
  root.render(<App repo={repo} host={host} />);
}

start().catch((error: unknown) => {
  document.body.textContent = `Writer could not start: ${(error as Error).message}`;
});
