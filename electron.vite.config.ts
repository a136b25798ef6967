import { resolve } from "node:path";
import { defineConfig } from "electron-vite";
import react from "@vitejs/plugin-react";
import type { Plugin } from "vite";

/**
 * The first paint (src/renderer/src/early.ts) is an entry of its own, loaded before the
 * app's bundle: Vite would merge a second module script of index.html into the first,
 * and the early paint would then wait for the whole app to be parsed.
 */
function earlyPaintFirst(): Plugin {
  return {
    name: "writer-early-paint-first",
    transformIndexHtml: {
      order: "post",
      handler(html, ctx) {
        const chunks = Object.values(ctx.bundle ?? {});
        const early = chunks.find((c) => c.type === "chunk" && c.isEntry && c.name === "early");
        if (!early) return html;
        return html.replace('<script type="module"', `<script type="module" crossorigin src="./${early.fileName}"></script>\n    <script type="module"`);
      },
    },
  };
}

export default defineConfig({
  main: {
    build: {
      // The host's document worker (src/host/workers/worker.ts) is a thread of its own,
      // started from its file: an entry of its own, beside index.js.
      rollupOptions: { input: { index: resolve(__dirname, "src/main/index.ts"), documentWorker: resolve(__dirname, "src/host/workers/worker.ts") } },
      // Native and wasm-carrying packages stay in node_modules, loaded by Node at run time.
      externalizeDeps: true,
    },
  },
  preload: {
    build: {
      // Sandboxed preloads must be CommonJS.
      rollupOptions: {
        input: { index: resolve(__dirname, "src/preload/index.ts") },
        output: { format: "cjs", entryFileNames: "[name].cjs" },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, "src/renderer"),
    plugins: [react(), earlyPaintFirst()],
    build: {
      rollupOptions: { input: { index: resolve(__dirname, "src/renderer/index.html"), early: resolve(__dirname, "src/renderer/src/early.ts") } },
      // The app's script (ProseMirror, React, Automerge's JavaScript) is about 1.4 MB; the
      // Automerge wasm is a file of its own (automergeWasm.ts), fetched from app:// or http.
      chunkSizeWarningLimit: 2048,
      // electron-vite leaves the renderer unminified; minified, the app's large script is
      // parsed sooner, and the window is editable sooner (measured in bench/long-document).
      minify: true,
    },
  },
});
