import { Repo } from "@automerge/automerge-repo";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("a document that leaves memory before its throttled sync round (patches/README.md)", () => {
  it("is not waited for: no round waits a minute for it, and nothing is logged", async () => {
    // Only the timers: promises and microtasks run as usual.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const logged: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    const repo = new Repo({ network: [], syncDebounceRate: 50 });
    const handle = repo.create<{ n: number }>({ n: 0 });
    handle.change((d) => {
      d.n = 1;
    });
    // The relay's memory budget unloads a quiet document; here, before the round is due.
    handle.unload();
    expect(handle.isReady()).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    // Without the patch the round now waits for the handle to be ready, up to a minute.
    await vi.advanceTimersByTimeAsync(61_000);
    // (What the round logged; another wait, for a document just created, is not this one's.)
    expect(logged.filter((line) => /sync with peers threw|to be in one of states: ready$/.test(line))).toEqual([]);
  });
});
