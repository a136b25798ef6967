/**
 * The Automerge wasm, compiled from its own file (`.wasm`, served as application/wasm by
 * the browser shell and by the desktop's app:// scheme). Streaming compilation starts on
 * the first bytes and runs off the main thread; the page never parses the module as text.
 * (It used to be a base64 string in a script of its own: 4.8 MB of JavaScript to parse
 * and decode in every window, about 0.4 s more processor time per window opened.)
 */
import wasmUrl from "@automerge/automerge/automerge.wasm?url";

export async function compileAutomergeWasm(): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compileStreaming(fetch(wasmUrl));
  } catch {
    // A server that names another type (a proxy, an old shell) still serves the bytes.
    const response = await fetch(wasmUrl);
    if (!response.ok) throw new Error(`the Automerge wasm could not be loaded (${response.status} ${response.statusText})`);
    return WebAssembly.compile(await response.arrayBuffer());
  }
}
