// Experiment for bench/propagation (`--experiment immediate-sync`), never product code:
// measures what a change to the syncDebounceRate patch would gain. In the processes it
// is loaded into (`node --import`), automerge-repo's asyncThrottle runs a throttled
// function with delay 0 on the next turn of the event loop (setImmediate) instead of
// setTimeout(fn, 0 - elapsed), which Node clamps to at least 1 ms: one millisecond or
// more per hop. Calls made in one turn still make one sync; a call made while one runs
// waits for it, as before. Any delay above 0 keeps the original throttle.
import { register } from "node:module";

register("./immediate-sync-hook.mjs", import.meta.url);
