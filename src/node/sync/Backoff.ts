import { randomInt } from "node:crypto";

export interface BackoffOptions {
  /** The first pause's ceiling; pauses never go below half of it. */
  initialMs: number;
  /** The largest pause. */
  maxMs: number;
}

/**
 * How long to wait before reconnecting, for everything in the project that reconnects
 * (a desktop to its relays, a relay to its peers): the ceiling doubles with each
 * failure in a row up to `maxMs`, and the pause is drawn at random below it (full
 * jitter, with a floor of half the first ceiling), so that clients of a relay that
 * restarts, or relays restarted together, do not all come back at the same moment.
 */
export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: (min: number, max: number) => number;
  #failures = 0;

  constructor(options: BackoffOptions, random: (min: number, max: number) => number = randomInt) {
    this.#options = options;
    this.#random = random;
  }

  /** Failures in a row since the last `reset`. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts a failure and returns the pause before the next try. */
  next(): number {
    this.#failures++;
    const { initialMs, maxMs } = this.#options;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(this.#failures - 1, 30));
    return this.#jittered(initialMs / 2, ceiling);
  }

  /**
   * Counts a failure that costs the other side nothing (a refused or unanswered TCP
   * connection) and returns a pause below `ceilingMs` whatever the count, not under
   * half of it.
   */
  nextCheap(ceilingMs: number): number {
    this.#failures++;
    return this.#jittered(ceilingMs / 2, ceilingMs);
  }

  /** A success: the next failure starts from the first ceiling again. */
  reset(): void {
    this.#failures = 0;
  }

  #jittered(floor: number, ceiling: number): number {
    return Math.max(floor, this.#random(0, Math.max(1, Math.round(ceiling)) + 1));
  }
}
