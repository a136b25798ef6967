// The document worker's entry: worker threads do not get tsx's loader from `--import tsx`
// (tsx registers it in the main thread only), so it is registered here, for this thread,
// before the TypeScript worker is imported.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
