import type WebSocket from "ws";

/** When to ping a quiet connection, and when to give it up. */
export interface LivenessTimes {
  /** A ping goes out once nothing has been heard for this long. */
  pingAfterMs: number;
  /** The connection is dead once nothing has been heard for this long. */
  deadAfterMs: number;
}

/**
 * What one end of a WebSocket has heard of the other: any frame, or the answer to a ping.
 * Silence is what decides, not a missed pong: a busy connection is never pinged, and a
 * quiet one is pinged once it has been quiet for `pingAfterMs`.
 */
export class Liveness {
  readonly #times: LivenessTimes;
  #lastHeard: number;
  #pingSentAt: number | undefined;

  constructor(times: LivenessTimes, now = Date.now()) {
    if (!(times.pingAfterMs > 0 && times.deadAfterMs > times.pingAfterMs)) throw new RangeError("deadAfterMs must be longer than pingAfterMs, and both positive");
    this.#times = times;
    this.#lastHeard = now;
  }

  /** Something arrived from the other end. */
  heard(now = Date.now()): void {
    this.#lastHeard = now;
    this.#pingSentAt = undefined;
  }

  /** How long nothing has been heard. */
  silentMs(now = Date.now()): number {
    return now - this.#lastHeard;
  }

  /** How long a ping has gone unanswered (0 when none is outstanding). */
  unansweredMs(now = Date.now()): number {
    return this.#pingSentAt === undefined ? 0 : now - this.#pingSentAt;
  }

  /** Notes a ping sent now, unless one is already outstanding. */
  pinged(now = Date.now()): void {
    this.#pingSentAt ??= now;
  }

  /** What to do now: give up, ping, or nothing. */
  check(now = Date.now()): "dead" | "ping" | "alive" {
    const silent = now - this.#lastHeard;
    if (silent >= this.#times.deadAfterMs) return "dead";
    if (silent >= this.#times.pingAfterMs && this.#pingSentAt === undefined) return "ping";
    return "alive";
  }
}

/**
 * Watches one WebSocket: pings it when it has been quiet, and calls `onDead` once it has
 * been silent for `deadAfterMs`. Returns the function that stops watching.
 *
 * The verdict is taken in a `setImmediate` after the timer: when this process's own
 * event loop stalled (a long GC, a laptop waking up), timers run before the I/O that
 * arrived meanwhile, and the other end's frames must be read before its silence is
 * judged. Only a silence of the other end ends the connection, never one of ours.
 */
export function watchSocket(socket: WebSocket, times: LivenessTimes, onDead: (silentMs: number) => void): () => void {
  const liveness = new Liveness(times);
  const heard = () => liveness.heard();
  socket.on("message", heard);
  socket.on("pong", heard);
  socket.on("ping", heard);
  let stopped = false;
  const tickMs = Math.max(50, Math.min(times.pingAfterMs, times.deadAfterMs - times.pingAfterMs) / 2);
  const timer = setInterval(() => {
    setImmediate(() => {
      if (stopped) return;
      const verdict = liveness.check();
      if (verdict === "dead") {
        stop();
        onDead(liveness.silentMs());
      } else if (verdict === "ping" && socket.readyState === socket.OPEN) {
        liveness.pinged();
        socket.ping();
      }
    });
  }, tickMs);
  timer.unref?.();
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    socket.off("message", heard);
    socket.off("pong", heard);
    socket.off("ping", heard);
  };
  return stop;
}
