// The host's document worker's entry when the host runs from source (the browser shell,
// the tests): worker threads do not get tsx's loader from `--import tsx`, so it is
// registered here, for this thread, before the TypeScript worker is imported. The
// desktop app's build runs documentWorker.js directly (electron.vite.config.ts).
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
