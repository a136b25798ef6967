// window-thread.ts's entry: worker threads do not get tsx's loader from `--import tsx`.
import { register } from "tsx/esm/api";

register();
await import("./window-thread.ts");
