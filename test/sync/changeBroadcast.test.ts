import { next as A } from "@automerge/automerge";
import { Repo, type DocHandle, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { CHANGE_BROADCAST, MAX_BROADCAST_CHANGE_BYTES, isChangeBroadcast, shareChangesFast } from "../../src/shared/sync/changeBroadcast";
import { eventually, quietPeriod } from "../support/wait";

type Doc = { text: string };
type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];

// Sync runs at most every 10 s here, so whatever arrives sooner came by the fast path.
const SLOW_SYNC_MS = 10_000;
const repos: Repo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.shutdown().catch(() => undefined)));
});

function link(a: Repo, b: Repo): void {
  const { port1, port2 } = new MessageChannel();
  a.networkSubsystem.addNetworkAdapter(new MessageChannelNetworkAdapter(port1 as unknown as Port));
  b.networkSubsystem.addNetworkAdapter(new MessageChannelNetworkAdapter(port2 as unknown as Port));
}

function repo(name: string): Repo {
  const r = new Repo({ network: [], peerId: name as PeerId, syncDebounceRate: SLOW_SYNC_MS });
  repos.push(r);
  return r;
}

/** writer a ── hub ── writer b: the hub stands for the hosts and the relay between two renderers. */
async function chain(): Promise<{ a: DocHandle<Doc>; hub: Repo; b: DocHandle<Doc>; errors: unknown[]; base: string }> {
  const [ra, hub, rb] = [repo("a"), repo("hub"), repo("b")];
  link(ra, hub);
  link(hub, rb);
  const a = ra.create<Doc>({ text: "hello" });
  const b = await rb.find<Doc>(a.url);
  await hub.find<Doc>(a.url);
  const errors: unknown[] = [];
  shareChangesFast(a, (e) => errors.push(e));
  shareChangesFast(b, (e) => errors.push(e));
  // Sync's throttle lets a document's first change go at once and holds later ones
  // (10 s here): one change each, so that from now on only the fast path is quick.
  a.change((d) => A.splice(d, ["text"], 0, 0, "<"));
  b.change((d) => A.splice(d, ["text"], 1, 0, ">"));
  await eventually(() => a.doc().text.length === 7 && b.doc().text === a.doc().text, 5000);
  return { a, hub, b, errors, base: a.doc().text };
}

describe("change broadcast (the fast path beside sync)", () => {
  it("a keystroke reaches the other writer through a Repo that only forwards it, long before sync would", async () => {
    const { a, hub, b, errors, base } = await chain();
    const started = Date.now();
    a.change((d) => A.splice(d, ["text"], 7, 0, "!"));
    await eventually(() => b.doc().text === `${base}!`, 5000);
    expect(Date.now() - started).toBeLessThan(SLOW_SYNC_MS / 2);
    // The hub forwarded it without taking it in: it gets it by sync, later.
    expect(hub.handles[a.documentId]!.doc()!.text).not.toContain("!");
    expect(b.heads()).toEqual(a.heads());
    expect(errors).toEqual([]);
  });

  it("only the writer's own changes are broadcast, not the ones it received", async () => {
    const { a, hub, b, base } = await chain();
    const seen: unknown[] = [];
    hub.handles[a.documentId]!.on("ephemeral-message", ({ senderId, message }) => seen.push([senderId, (message as { type?: string }).type]));
    a.change((d) => A.splice(d, ["text"], 0, 0, "1"));
    await eventually(() => b.doc().text === `1${base}`, 5000);
    b.change((d) => A.splice(d, ["text"], 8, 0, "2"));
    await eventually(() => a.doc().text === `1${base}2`, 5000);
    await quietPeriod(100, "a change a peer received and broadcast again would have reached the hub by now");
    expect(seen).toEqual([
      ["a", CHANGE_BROADCAST],
      ["b", CHANGE_BROADCAST],
    ]);
  });

  it("broadcasts nothing while told not to (alone, no relay connected), and still applies what comes", async () => {
    const [source, target] = [repo("source"), repo("target")];
    const s = source.create<Doc>({ text: "" });
    let on = false;
    const sent: unknown[] = [];
    s.on("ephemeral-message-outbound", ({ data }) => sent.push(data));
    shareChangesFast(s, undefined, () => on);
    s.change((d) => A.splice(d, ["text"], 0, 0, "a"));
    expect(sent).toHaveLength(0);
    on = true;
    s.change((d) => A.splice(d, ["text"], 1, 0, "b"));
    expect(sent).toHaveLength(1);
    const t = target.create<Doc>();
    shareChangesFast(t, undefined, () => false);
    t.update(() => A.load<Doc>(A.save(s.doc())));
    s.change((d) => A.splice(d, ["text"], 2, 0, "c"));
    t.emit("ephemeral-message", { handle: t, senderId: "source" as PeerId, message: { type: CHANGE_BROADCAST, change: A.getLastLocalChange(s.doc())! } });
    expect(t.doc().text).toBe("abc");
  });

  it("a change that arrives before the one it depends on waits for it", async () => {
    const [source, target] = [repo("source"), repo("target")];
    const s = source.create<Doc>({ text: "" });
    const t = target.create<Doc>();
    t.update(() => A.load<Doc>(A.save(s.doc())));
    s.change((d) => A.splice(d, ["text"], 0, 0, "a"));
    const first = A.getLastLocalChange(s.doc())!;
    s.change((d) => A.splice(d, ["text"], 1, 0, "b"));
    const second = A.getLastLocalChange(s.doc())!;
    const errors: unknown[] = [];
    shareChangesFast(t, (e) => errors.push(e));
    t.emit("ephemeral-message", { handle: t, senderId: "source" as PeerId, message: { type: CHANGE_BROADCAST, change: second } });
    expect(t.doc().text).toBe("");
    t.emit("ephemeral-message", { handle: t, senderId: "source" as PeerId, message: { type: CHANGE_BROADCAST, change: first } });
    expect(t.doc().text).toBe("ab");
    // And once more: a change applies once.
    t.emit("ephemeral-message", { handle: t, senderId: "source" as PeerId, message: { type: CHANGE_BROADCAST, change: first } });
    expect(t.doc().text).toBe("ab");
    expect(errors).toEqual([]);
  });

  it("garbage that claims to be a change is reported and changes nothing", async () => {
    const r = repo("r");
    const h = r.create<Doc>({ text: "kept" });
    const heads = h.heads();
    const errors: unknown[] = [];
    shareChangesFast(h, (e) => errors.push(e));
    h.emit("ephemeral-message", { handle: h, senderId: "x" as PeerId, message: { type: CHANGE_BROADCAST, change: new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]) } });
    h.emit("ephemeral-message", { handle: h, senderId: "x" as PeerId, message: { type: CHANGE_BROADCAST, change: "not bytes" } });
    h.emit("ephemeral-message", { handle: h, senderId: "x" as PeerId, message: null });
    expect(errors).toHaveLength(1);
    expect(h.heads()).toEqual(heads);
    expect(h.doc().text).toBe("kept");
  });

  it("knows a broadcast change by its shape and size only", () => {
    expect(isChangeBroadcast({ type: CHANGE_BROADCAST, change: new Uint8Array(10) })).toBe(true);
    expect(isChangeBroadcast({ type: CHANGE_BROADCAST, change: new Uint8Array(MAX_BROADCAST_CHANGE_BYTES + 1) })).toBe(false);
    expect(isChangeBroadcast({ type: CHANGE_BROADCAST, change: [1, 2] })).toBe(false);
    expect(isChangeBroadcast({ type: "presence", change: new Uint8Array(1) })).toBe(false);
    expect(isChangeBroadcast(undefined)).toBe(false);
    expect(isChangeBroadcast("writer/change")).toBe(false);
  });

  it("a large change (a paste) goes by sync only", async () => {
    const { a, hub, b, base } = await chain();
    const seen: unknown[] = [];
    hub.handles[a.documentId]!.on("ephemeral-message", ({ message }) => seen.push(message));
    a.change((d) => A.splice(d, ["text"], 0, 0, "x".repeat(MAX_BROADCAST_CHANGE_BYTES * 2)));
    a.change((d) => A.splice(d, ["text"], 0, 0, "y"));
    await eventually(() => seen.length === 1, 5000);
    // The small one went, and waits at b for the big one, which comes by sync.
    expect(b.doc().text).toBe(base);
    expect(seen).toHaveLength(1);
  });
});
