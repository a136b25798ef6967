import { next as A } from "@automerge/automerge";
import { cbor, generateAutomergeUrl, parseAutomergeUrl } from "@automerge/automerge-repo";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CloseCode,
  InvalidCborError,
  InvalidIdError,
  InvalidMessageError,
  ProtocolError,
  UnsupportedProtocolVersionError,
  encodeMessage,
  isDocumentId,
  isPeerId,
  isStorageId,
  parseMessage,
  type WireMessage,
} from "../../../src/node/protocol";
import { generateToken, hashToken, hashesEqual } from "../../../sync-server/tokens";

const documentId = parseAutomergeUrl(generateAutomergeUrl()).documentId;
const [, syncData] = A.generateSyncMessage(A.init(), A.initSyncState());
const data = syncData!;
const wire = (value: unknown) => (value instanceof Uint8Array ? value : cbor.encode(value));

describe("parseMessage", () => {
  it.each<[string, WireMessage]>([
    ["join", { type: "join", senderId: "peer-a", peerMetadata: { storageId: "3c0b0b52-0b4e-4c5a-9d4f-5a0f3f1c2b7a", isEphemeral: false }, supportedProtocolVersions: ["1"] }],
    ["peer", { type: "peer", senderId: "relay-1", peerMetadata: {}, selectedProtocolVersion: "1", targetId: "peer-a" }],
    ["error", { type: "error", senderId: "relay-1", targetId: "peer-a", message: "nope" }],
    ["error that clears a notice", { type: "error", senderId: "relay-1", targetId: "peer-a", message: "cannot save right now; your changes are kept here", cleared: true }],
    ["sync", { type: "sync", senderId: "peer-a", targetId: "relay-1", documentId, data }],
    ["request", { type: "request", senderId: "peer-a", targetId: "relay-1", documentId, data }],
    ["doc-unavailable", { type: "doc-unavailable", senderId: "relay-1", targetId: "peer-a", documentId }],
    ["ephemeral", { type: "ephemeral", senderId: "peer-b", targetId: "relay-1", documentId, data, count: 3, sessionId: "k2j3h4" }],
    ["remote-subscription-change", { type: "remote-subscription-change", senderId: "peer-a", targetId: "relay-1", add: ["storage-1"], remove: [] }],
    [
      "remote-heads-changed",
      { type: "remote-heads-changed", senderId: "relay-1", targetId: "peer-a", documentId, newHeads: { "storage-1": { heads: ["abc123"], timestamp: 5 } } },
    ],
  ])("round-trips a %s message", (_name, message) => {
    const parsed = parseMessage(encodeMessage(message));
    expect(parsed).not.toBeInstanceOf(ProtocolError);
    expect(parsed).toEqual(message);
  });

  it("takes a join without versions as version 1, like automerge-repo's server", () => {
    expect(parseMessage(wire({ type: "join", senderId: "old-client", peerMetadata: {} }))).toMatchObject({ supportedProtocolVersions: ["1"] });
  });

  it("keeps only the fields of the message's type", () => {
    const parsed = parseMessage(wire({ type: "sync", senderId: "p", targetId: "r", documentId, data, extra: "x", isAdmin: true }));
    expect(Object.keys(parsed as object).sort()).toEqual(["data", "documentId", "senderId", "targetId", "type"]);
    const join = parseMessage(wire({ type: "join", senderId: "p", peerMetadata: { storageId: "s1", role: "admin" } }));
    expect((join as { peerMetadata: object }).peerMetadata).toEqual({ storageId: "s1" });
  });

  it.each<[string, unknown, new (...args: never[]) => ProtocolError, number]>([
    ["an empty frame", new Uint8Array(0), InvalidCborError, CloseCode.InvalidMessage],
    ["invalid CBOR", new Uint8Array([0xff, 0xfe]), InvalidCborError, CloseCode.InvalidMessage],
    ["truncated CBOR", new Uint8Array([0xa2, 0x64, 0x74]), InvalidCborError, CloseCode.InvalidMessage],
    ["CBOR null", new Uint8Array([0xf6]), InvalidMessageError, CloseCode.InvalidMessage],
    ["a number", 42, InvalidMessageError, CloseCode.InvalidMessage],
    ["an array", [{ type: "join" }], InvalidMessageError, CloseCode.InvalidMessage],
    ["no type", { senderId: "p" }, InvalidMessageError, CloseCode.InvalidMessage],
    ["an unknown type", { type: "launch", senderId: "p" }, InvalidMessageError, CloseCode.InvalidMessage],
    ["version 2 only", { type: "join", senderId: "p", supportedProtocolVersions: ["2"] }, UnsupportedProtocolVersionError, CloseCode.UnsupportedProtocolVersion],
    ["versions not a list", { type: "join", senderId: "p", supportedProtocolVersions: "1" }, InvalidMessageError, CloseCode.InvalidMessage],
    ["sync without data", { type: "sync", senderId: "p", targetId: "r", documentId }, InvalidMessageError, CloseCode.InvalidMessage],
    ["sync with empty data", { type: "sync", senderId: "p", targetId: "r", documentId, data: new Uint8Array(0) }, InvalidMessageError, CloseCode.InvalidMessage],
    ["data as a string", { type: "sync", senderId: "p", targetId: "r", documentId, data: "AAAA" }, InvalidMessageError, CloseCode.InvalidMessage],
    ["a fractional count", { type: "ephemeral", senderId: "p", targetId: "r", documentId, data, count: 1.5, sessionId: "s" }, InvalidMessageError, CloseCode.InvalidMessage],
    ["isEphemeral not a boolean", { type: "join", senderId: "p", peerMetadata: { isEphemeral: "yes" } }, InvalidMessageError, CloseCode.InvalidMessage],
  ])("refuses %s", (_name, value, errorClass, closeCode) => {
    const parsed = parseMessage(wire(value));
    expect(parsed).toBeInstanceOf(errorClass);
    expect((parsed as ProtocolError).closeCode).toBe(closeCode);
  });

  const hostileIds: unknown[] = ["", "../../x", "..", "__proto__", "constructor", "toString", "hasOwnProperty", "a/b", "a\\b", "a\u0000b", "a".repeat(129), 7, null, {}, ["a"], true];

  it.each(hostileIds)("refuses the peer ID %j", (id) => {
    const parsed = parseMessage(wire({ type: "join", senderId: id, peerMetadata: {} }));
    expect(parsed).toBeInstanceOf(InvalidIdError);
    expect((parsed as ProtocolError).closeCode).toBe(CloseCode.InvalidId);
  });

  it.each(hostileIds.filter((id) => id !== null))("refuses the storage ID %j", (id) => {
    expect(parseMessage(wire({ type: "join", senderId: "p", peerMetadata: { storageId: id } }))).toBeInstanceOf(InvalidIdError);
  });

  it.each([...hostileIds, "1".repeat(27), `${documentId}x`, documentId.repeat(3)])("refuses the document ID %j", (id) => {
    expect(parseMessage(wire({ type: "request", senderId: "p", targetId: "r", documentId: id, data }))).toBeInstanceOf(InvalidIdError);
  });

  it("never pollutes a prototype, whatever the keys", () => {
    // {"__proto__": {"polluted": true}, "type": "join", ...} spelled out in CBOR.
    const bytes = cbor.encode({ ["__proto__" + ""]: { polluted: true }, type: "join", senderId: "p", peerMetadata: JSON.parse('{"__proto__": {"polluted": true}}') });
    const parsed = parseMessage(bytes);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    if (!(parsed instanceof ProtocolError)) expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    const heads = parseMessage(wire({ type: "remote-heads-changed", senderId: "p", targetId: "r", documentId, newHeads: JSON.parse('{"__proto__": {"heads": [], "timestamp": 1}}') }));
    // The decoder renames the key (cbor-x: "__proto_"), so it is a plain own field.
    if (!(heads instanceof ProtocolError) && heads.type === "remote-heads-changed") {
      expect(Object.getPrototypeOf(heads.newHeads)).toBe(Object.prototype);
      expect(Object.keys(heads.newHeads)).not.toContain("__proto__");
    }
    expect(Object.prototype).not.toHaveProperty("heads");
  });

  it("returns, never throws, on arbitrary bytes and arbitrary values", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const parsed = parseMessage(bytes);
        expect(parsed instanceof ProtocolError || typeof parsed.type === "string").toBe(true);
      }),
      { numRuns: 2000, seed: 42 },
    );
    fc.assert(
      fc.property(fc.anything(), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = cbor.encode(value);
        } catch {
          return;
        }
        const parsed = parseMessage(bytes);
        expect(parsed instanceof ProtocolError || typeof parsed.type === "string").toBe(true);
      }),
      { numRuns: 1000, seed: 7 },
    );
    expect(Object.prototype).not.toHaveProperty("polluted");
  });
});

describe("IDs", () => {
  it("accepts what automerge-repo generates", () => {
    expect(isDocumentId(documentId)).toBe(true);
    expect(isPeerId("peer-4k2j3h4g")).toBe(true);
    expect(isPeerId("relay-3c0b0b52-0b4e-4c5a-9d4f-5a0f3f1c2b7a.dial")).toBe(true);
    expect(isStorageId("3c0b0b52-0b4e-4c5a-9d4f-5a0f3f1c2b7a")).toBe(true);
  });
});

describe("tokens", () => {
  it("are 256-bit base64url, hashed with SHA-256, compared in constant time", () => {
    const token = generateToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateToken()).not.toBe(token);
    const hash = hashToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashesEqual(hash, hashToken(token))).toBe(true);
    expect(hashesEqual(hash, hashToken(generateToken()))).toBe(false);
    expect(hashesEqual(hash, "")).toBe(false);
  });
});
