// Lint by layer, after VS Code's process layering: each folder gets only the globals of
// the process it runs in, and may import only what that process can load.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const nodeBuiltins = [
  "fs", "fs/*", "path", "os", "child_process", "net", "http", "https", "crypto", "url",
  "worker_threads", "stream", "zlib", "node:*", "electron", "ws",
];

export default tseslint.config(
  { ignores: ["out/**", "dist/**", "node_modules/**", "coverage/**", "test-results/**", "bench/**/results/**", ".scratch/**"] },
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
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ["electron"], message: "The host runs without Electron; inject Electron facilities from src/main." },
          { group: ["**/renderer/**", "**/main/**", "**/preload/**", "react", "react-dom"], message: "Node code does not import UI or Electron layers." },
        ],
      }],
    },
  },
  {
    files: ["src/main/**/*.ts", "src/preload/**/*.ts", "test/**/*.{ts,mjs}", "bench/**/*.{ts,mjs,js}", "scripts/**/*.{ts,mjs,js}", "*.config.{ts,js}", ".ci/**/*.mjs"],
    languageOptions: { globals: { ...globals.node } },
  },
);
