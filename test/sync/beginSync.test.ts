// automerge-repo's DocSynchronizer.beginSync, as patched (patches/README.md): when a peer
// has a document that never arrives, a new peer's sync waits for the document's 60 s
// timeout; every caller drops that promise, so its rejection must not go unhandled (it
// ends a Node process that has no handler for it).
import { afterEach, describe, expect, it, vi } from "vitest";
import { next as A } from "@automerge/automerge";
import { generateAutomergeUrl, parseAutomergeUrl, Repo, type Message, type PeerId } from "@automerge/automerge-repo";
import { MemoryAdapter } from "../support/memoryAdapter";
import { quietPeriod } from "../support/wait";

/** A network that only delivers what the test hands it, and announces the peers it is told of; what the Repo sends goes nowhere. */
class Scripted extends MemoryAdapter {
  send(): void {}
  join(peerId: string): void {
    this.emit("peer-candidate", { peerId: peerId as PeerId, peerMetadata: {} });
  }
  deliver(message: Message): void {
    this.emit("message", message);
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

afterEach(() => {
  vi.useRealTimers();
  process.off("unhandledRejection", onUnhandled);
});

describe("beginSync for a document a peer has but never sends", () => {
  it("gives up after the handle's timeout without an unhandled rejection, and the Repo goes on", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    process.on("unhandledRejection", onUnhandled);
    const network = new Scripted();
    const repo = new Repo({ network: [network], peerId: "me" as PeerId });
    network.join("holder");
    await vi.advanceTimersByTimeAsync(10);

    const url = generateAutomergeUrl();
    const { documentId } = parseAutomergeUrl(url);
    const found = repo.find(url);
    found.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(10);
    // The holder says it has the document (heads), and never sends its changes.
    const heads = ["aa".repeat(32)];
    network.deliver({ type: "sync", senderId: "holder" as PeerId, targetId: "me" as PeerId, documentId, data: A.encodeSyncMessage({ heads, need: [], have: [], changes: [] }) } as Message);
    await vi.advanceTimersByTimeAsync(10);

    // A second peer arrives: its sync waits for the document, which does not come.
    network.join("latecomer");
    await vi.advanceTimersByTimeAsync(61_000);
    await vi.advanceTimersByTimeAsync(61_000);
    vi.useRealTimers();
    await quietPeriod(50, "a rejection nobody handled is reported within a few turns of the event loop");
    expect(unhandled).toEqual([]);

    // The Repo still works: a document made now is there.
    const made = repo.create({ ok: true });
    expect((await repo.find<{ ok: boolean }>(made.url)).doc().ok).toBe(true);
    await repo.shutdown();
  });
});
