import { next as A } from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { CloseCode, PeerBinding, type RepoWireMessage } from "../../../src/node/protocol";

const LOCAL = "relay-1";
const [, syncData] = A.generateSyncMessage(A.init(), A.initSyncState());
const sync = (senderId: string, targetId = LOCAL, data: Uint8Array = syncData!): RepoWireMessage =>
  ({ type: "sync", senderId, targetId, documentId: "4NMNnkMhL8jXrdJ9jamS58PAVdXu", data }) as RepoWireMessage;
const ephemeral = (senderId: string): RepoWireMessage =>
  ({ type: "ephemeral", senderId, targetId: LOCAL, documentId: "4NMNnkMhL8jXrdJ9jamS58PAVdXu", sessionId: "s", count: 1, data: new Uint8Array([1]) }) as RepoWireMessage;

function joined(peer = "writer-a"): PeerBinding {
  const binding = new PeerBinding(LOCAL);
  expect(binding.joinRefusal(peer)).toBeNull();
  binding.bind(peer);
  return binding;
}

describe("PeerBinding (the check every door applies to the peer on a connection)", () => {
  it("refuses every message before a join", () => {
    expect(new PeerBinding(LOCAL).check(sync("writer-a"))).toEqual({ refusal: expect.objectContaining({ code: CloseCode.UnexpectedJoin }) });
  });

  it("refuses a join as the local peer, and a second join on a bound connection", () => {
    expect(new PeerBinding(LOCAL).joinRefusal(LOCAL)).toMatchObject({ code: CloseCode.PeerIdInUse });
    expect(joined().joinRefusal("writer-a")).toMatchObject({ code: CloseCode.UnexpectedJoin, reason: "already joined" });
    expect(joined().joinRefusal("writer-b")).toMatchObject({ code: CloseCode.UnexpectedJoin, reason: "a second peer on one connection" });
  });

  it("passes the joined peer's own messages to the local peer, with their sync data decoded", () => {
    const checked = joined().check(sync("writer-a"));
    expect(checked).toHaveProperty("decoded");
    expect("decoded" in checked && checked.decoded?.heads).toEqual([]);
  });

  it("refuses a message claiming another sender, or addressed to another peer", () => {
    expect(joined().check(sync("writer-b"))).toMatchObject({ refusal: { code: CloseCode.SenderMismatch } });
    expect(joined().check(sync("writer-a", "someone-else"))).toMatchObject({ refusal: { code: CloseCode.SenderMismatch } });
  });

  it("lets ephemeral messages travel with their author as sender", () => {
    expect(joined().check(ephemeral("a-window-of-writer-a"))).toEqual({ decoded: null });
  });

  it("refuses sync data that does not decode", () => {
    expect(joined().check(sync("writer-a", LOCAL, new Uint8Array([0x42, 1, 2, 3])))).toMatchObject({ refusal: { code: CloseCode.InvalidMessage } });
  });
});
