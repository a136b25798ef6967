import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/node/sync/Backoff";

/** The largest draw: the pause is then the ceiling. */
const highest = (_min: number, max: number) => max - 1;
const lowest = () => 0;

describe("Backoff (how the desktop and the relay wait before reconnecting)", () => {
  it("doubles its ceiling with each failure in a row, up to the largest pause", () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 3000 }, highest);
    expect([1, 2, 3, 4, 5].map(() => backoff.next())).toEqual([500, 1000, 2000, 3000, 3000]);
    expect(backoff.failures).toBe(5);
  });

  it("never waits less than half the first ceiling, however the draw falls", () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 }, lowest);
    expect([1, 2, 3].map(() => backoff.next())).toEqual([250, 250, 250]);
  });

  it("starts over after a success", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000 }, highest);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it("keeps cheap failures between half the given ceiling and the ceiling, however many", () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 }, highest);
    for (let i = 0; i < 10; i++) expect(backoff.nextCheap(1500)).toBe(1500);
    expect(new Backoff({ initialMs: 500, maxMs: 30_000 }, lowest).nextCheap(1500)).toBe(750);
  });

  it("spreads pauses at random below the ceiling (full jitter)", () => {
    const pauses = new Set<number>();
    for (let i = 0; i < 50; i++) pauses.add(new Backoff({ initialMs: 1000, maxMs: 30_000 }).next());
    expect(pauses.size).toBeGreaterThan(10);
    for (const pause of pauses) expect(pause).toBeGreaterThanOrEqual(500);
    for (const pause of pauses) expect(pause).toBeLessThanOrEqual(1000);
  });
});
