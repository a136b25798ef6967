/**
 * The longest this thread's event loop goes without running a 5 ms timer, from now until
 * `stop()`: how long everything else on the thread waited (host.ts,
 * open-through-relay.ts).
 */
export function stallMeter(): { stop(): number } {
  let stallMs = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(ticker);
      return Math.max(stallMs, performance.now() - last);
    },
  };
}
