/** Polls `check` until it returns a truthy value (which it resolves with) or `timeoutMs` passes. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * Waits `ms` on purpose, where the passing of time is itself what the test is about: a
 * period in which something must not happen (no message, no loop, no change), or one the
 * product defines (an undo group closing, a debounce running out). `why` names it, so
 * that it cannot be mistaken for a guess at how long something takes: for that, wait
 * on the condition with `eventually`.
 */
export async function quietPeriod(ms: number, why: string): Promise<void> {
  if (!why) throw new RangeError("say why the test waits");
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The rhythm of something the test simulates: a writer's pause between keystrokes or
 * words, a watcher's interval between two looks. The pace is part of the scenario (a
 * writer typing while the network fails), not a wait for anything to happen.
 */
export async function pace(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `read()` gives the same value for `quietMs` in a row (polled every
 * `everyMs`), and resolves with it: a counter that has stopped moving. Throws after
 * `timeoutMs` if it never does.
 */
export async function settled<T>(read: () => T | Promise<T>, quietMs: number, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  let since = Date.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    const next = await read();
    if (next !== value) {
      value = next;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return value;
    }
    if (Date.now() > deadline) throw new Error(`still changing after ${timeoutMs} ms (last ${String(value)})`);
  }
}
