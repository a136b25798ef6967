// Lint by layer, after VS Code's process layering: each folder gets only the globals of
// the process it runs in, and may import only what that process can load.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const nodeBuiltins = [
  "fs", "fs/*", "path", "os", "child_process", "net", "http", "https", "crypto", "url",
  "worker_threads", "stream", "zlib", "node:*", "electron", "ws",
];

const electronInNode = { group: ["electron"], message: "The host and the relay run without Electron; inject Electron facilities from src/main." };
const uiInNode = { group: ["**/renderer/**", "**/main/**", "**/preload/**", "react", "react-dom"], message: "Node code does not import UI or Electron layers." };

export default tseslint.config(
  {
    ignores: [
      "out/**", "dist/**", "sync-server/dist/**", "node_modules/**", "coverage/**", "test-results/**", "bench/**/results/**", ".scratch/**",
      // electron-vite bundles its config to electron.vite.config.ts.<time>-<random>.mjs
      // beside it for the length of a build, and `npm test` lints while it builds.
      "electron.vite.config.ts.*.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    // Pure shared code: runs in the renderer, the host and the relay alike.
    files: ["src/shared/**/*.ts"],
    languageOptions: { globals: { ...globals["shared-node-browser"] } },
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: nodeBuiltins, message: "src/shared must import neither Node nor Electron." },
          { group: ["**/host/**", "**/node/**", "**/main/**", "**/renderer/**", "react", "react-dom"], message: "src/shared depends on no process layer." },
        ],
      }],
    },
  },
  {
    // The sandboxed renderer: browser globals only, never Node, never the host.
    files: ["src/renderer/**/*.{ts,tsx}", "test/renderer/**/*.ts"],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: nodeBuiltins, message: "The renderer is sandboxed: no Node, no Electron." },
          { group: ["**/host/**", "**/node/**", "**/main/**", "**/preload/**"], message: "The renderer talks to the host only through the HostApi and the sync channel." },
        ],
      }],
    },
  },
  {
    // The host and Node-side shared code must stay runnable without Electron.
    files: ["src/host/**/*.ts", "src/node/**/*.ts", "sync-server/**/*.ts"],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "no-restricted-imports": ["error", { patterns: [electronInNode, uiInNode, { group: ["**/sync-server/**"], message: "The host does not import the relay; what both need lives in src/node." }] }],
    },
  },
  {
    // Node code both the host and the relay run: neither's own code.
    files: ["src/node/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [electronInNode, uiInNode, { group: ["**/host/**", "**/sync-server/**"], message: "src/node is shared by the host and the relay: it imports neither." }] }],
    },
  },
  {
    // The relay runs on servers with no desktop code at all.
    files: ["sync-server/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [electronInNode, uiInNode, { group: ["**/src/host/**"], message: "The relay does not import the desktop's host; what both need lives in src/node." }] }],
    },
  },
  {
    // Electron's main process: wires the host (src/host) to windows; never the UI or the relay.
    files: ["src/main/**/*.ts"],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["**/renderer/**", "**/preload/**", "react", "react-dom"], message: "The main process does not import the UI; windows load it." },
          { group: ["**/sync-server/**"], message: "The desktop app does not contain the relay." },
        ],
      }],
    },
  },
  {
    // The preload script: the one bridge between a window and the main process, in a
    // sandboxed renderer (only electron's renderer modules and the shared contract).
    files: ["src/preload/**/*.ts"],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: nodeBuiltins.filter((name) => name !== "electron"), message: "The preload runs sandboxed: Electron's renderer modules only, no Node." },
          { group: ["**/host/**", "**/node/**", "**/main/**", "**/renderer/**", "**/sync-server/**", "react", "react-dom"], message: "The preload passes messages; it imports only src/shared." },
        ],
      }],
    },
  },
  {
    files: ["test/**/*.{ts,mjs}", "bench/**/*.{ts,mjs,js}", "scripts/**/*.{ts,mjs,js}", "*.config.{ts,js}", ".ci/**/*.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
);
