import { cbor } from "@automerge/automerge-repo/slim";
import { InvalidCborError, InvalidIdError, InvalidMessageError, ProtocolError, UnsupportedProtocolVersionError } from "./errors";
import { isDocumentId, isPeerId, isStorageId } from "./ids";
import { MAX_ERROR_TEXT_LENGTH, MAX_PROTOCOL_VERSIONS, MAX_SUBSCRIPTION_IDS } from "./limits";

/** The only version of automerge-repo's websocket protocol there is (2.x). */
export const PROTOCOL_VERSION = "1";

/** What a peer says about itself in `join` and `peer`; other fields are dropped. */
export interface WirePeerMetadata {
  storageId?: string;
  isEphemeral?: boolean;
}

/** Client to server: the first message on a connection. */
export interface JoinMessage {
  type: "join";
  senderId: string;
  peerMetadata: WirePeerMetadata;
  supportedProtocolVersions: string[];
}

/** Server to client: the answer to a join. */
export interface PeerMessage {
  type: "peer";
  senderId: string;
  peerMetadata: WirePeerMetadata;
  selectedProtocolVersion: string;
  targetId: string;
}

/** Either way: something went wrong; the sender closes the connection (or stops obeying). */
export interface ErrorMessage {
  type: "error";
  senderId?: string;
  targetId?: string;
  message: string;
  /**
   * On a connection that stays open: the notice with this text no longer applies (the
   * relay's disk is saving again). The client stops showing it.
   */
  cleared?: true;
}

/** An Automerge sync message for one document. */
export interface SyncMessage {
  type: "sync";
  senderId: string;
  targetId: string;
  documentId: string;
  data: Uint8Array;
}

/** Like `sync`, sent by a peer that does not have the document yet. */
export interface RequestMessage {
  type: "request";
  senderId: string;
  targetId: string;
  documentId: string;
  data: Uint8Array;
}

/** The sender does not have the document, nor does any peer it asked. */
export interface DocUnavailableMessage {
  type: "doc-unavailable";
  senderId: string;
  targetId: string;
  documentId: string;
}

/** Presence and other data that is forwarded, never stored. */
export interface EphemeralMessage {
  type: "ephemeral";
  senderId: string;
  targetId: string;
  documentId: string;
  data: Uint8Array;
  count: number;
  sessionId: string;
}

/** Subscribes to or unsubscribes from the heads of other storages (remote heads gossip). */
export interface RemoteSubscriptionChangeMessage {
  type: "remote-subscription-change";
  senderId: string;
  targetId: string;
  add?: string[];
  remove?: string[];
}

/** The heads of a document on other storages (remote heads gossip). */
export interface RemoteHeadsChangedMessage {
  type: "remote-heads-changed";
  senderId: string;
  targetId: string;
  documentId: string;
  newHeads: Record<string, { heads: string[]; timestamp: number }>;
}

/** Messages automerge-repo's Repo handles, after the handshake. */
export type RepoWireMessage =
  | SyncMessage
  | RequestMessage
  | DocUnavailableMessage
  | EphemeralMessage
  | RemoteSubscriptionChangeMessage
  | RemoteHeadsChangedMessage;

/** Every message of the protocol, either direction. */
export type WireMessage = JoinMessage | PeerMessage | ErrorMessage | RepoWireMessage;

/** Most heads in one `heads` list; a document has a handful at a time. */
const MAX_HEADS = 1024;
/** A change hash is 32 bytes: 64 hex characters (or ~44 base58). */
const HEAD = /^[A-Za-z0-9]{1,100}$/;

/**
 * Decodes and checks one binary frame. Returns a fresh message holding only the fields
 * of its type, each checked (IDs by {@link isDocumentId}, {@link isPeerId},
 * {@link isStorageId}); anything else is returned as a {@link ProtocolError}, never
 * thrown. What is not checked here: that `data` is a valid Automerge sync message
 * (decode it with `decodeSyncMessage` where that matters), and who may send what.
 */
export function parseMessage(bytes: Uint8Array): WireMessage | ProtocolError {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) return new InvalidCborError("empty frame");
  let value: unknown;
  try {
    value = cbor.decode(bytes);
  } catch {
    return new InvalidCborError("frame is not valid CBOR");
  }
  try {
    return toMessage(value);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    return new InvalidMessageError("malformed message");
  }
}

/**
 * Checks one message that arrived already decoded (a structured clone over a
 * MessagePort, not CBOR bytes): the same checks as {@link parseMessage}.
 */
export function parseValue(value: unknown): WireMessage | ProtocolError {
  try {
    return toMessage(value);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    return new InvalidMessageError("malformed message");
  }
}

/** Encodes a message for the wire, as automerge-repo's websocket adapters do. */
export function encodeMessage(message: WireMessage): Uint8Array {
  return cbor.encode(message);
}

/** Whether `message` is one the Repo handles (not part of the handshake). */
export function isRepoWireMessage(message: WireMessage): message is RepoWireMessage {
  return message.type !== "join" && message.type !== "peer" && message.type !== "error";
}

function toMessage(value: unknown): WireMessage {
  if (!isPlainObject(value)) throw new InvalidMessageError(value === null ? "message is null" : "message is not a map");
  const type = value.type;
  if (typeof type !== "string") throw new InvalidMessageError("message has no type");
  const label = type.slice(0, 40);
  switch (type) {
    case "join": {
      const versions = value.supportedProtocolVersions;
      const senderId = peerId(value.senderId, "senderId");
      let supportedProtocolVersions: string[];
      // automerge-repo's own server takes a join without versions as version 1.
      if (versions === undefined) supportedProtocolVersions = [PROTOCOL_VERSION];
      else {
        if (!Array.isArray(versions) || versions.length > MAX_PROTOCOL_VERSIONS || !versions.every((v) => typeof v === "string" && v.length <= 20)) {
          throw new InvalidMessageError("supportedProtocolVersions is not a short list of strings", label);
        }
        supportedProtocolVersions = [...(versions as string[])];
      }
      if (!supportedProtocolVersions.includes(PROTOCOL_VERSION)) {
        throw new UnsupportedProtocolVersionError(supportedProtocolVersions, senderId);
      }
      return { type, senderId, peerMetadata: peerMetadata(value.peerMetadata), supportedProtocolVersions };
    }
    case "peer": {
      const selected = value.selectedProtocolVersion;
      if (selected !== PROTOCOL_VERSION) throw new UnsupportedProtocolVersionError(typeof selected === "string" ? [selected.slice(0, 20)] : []);
      return {
        type,
        senderId: peerId(value.senderId, "senderId"),
        peerMetadata: peerMetadata(value.peerMetadata),
        selectedProtocolVersion: selected,
        targetId: peerId(value.targetId, "targetId"),
      };
    }
    case "error": {
      const message: ErrorMessage = {
        type,
        message: typeof value.message === "string" ? value.message.slice(0, MAX_ERROR_TEXT_LENGTH) : "unspecified error",
      };
      if (isPeerId(value.senderId)) message.senderId = value.senderId;
      if (isPeerId(value.targetId)) message.targetId = value.targetId;
      if (value.cleared === true) message.cleared = true;
      return message;
    }
    case "sync":
    case "request":
      return { type, ...addressing(value), documentId: documentId(value.documentId), data: data(value.data, label) };
    case "doc-unavailable":
      return { type, ...addressing(value), documentId: documentId(value.documentId) };
    case "ephemeral": {
      const count = value.count;
      if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) throw new InvalidMessageError("ephemeral count is not a natural number", label);
      if (!isPeerId(value.sessionId)) throw new InvalidIdError("sessionId");
      return { type, ...addressing(value), documentId: documentId(value.documentId), data: data(value.data, label), count, sessionId: value.sessionId };
    }
    case "remote-subscription-change": {
      const message: RemoteSubscriptionChangeMessage = { type, ...addressing(value) };
      if (value.add !== undefined) message.add = storageIds(value.add, "add");
      if (value.remove !== undefined) message.remove = storageIds(value.remove, "remove");
      return message;
    }
    case "remote-heads-changed": {
      const raw = value.newHeads;
      if (!isPlainObject(raw)) throw new InvalidMessageError("newHeads is not a map", label);
      const entries = Object.entries(raw);
      if (entries.length > MAX_SUBSCRIPTION_IDS) throw new InvalidMessageError("too many storages in newHeads", label);
      const newHeads: Record<string, { heads: string[]; timestamp: number }> = {};
      for (const [storageId, entry] of entries) {
        if (!isStorageId(storageId)) throw new InvalidIdError("storageId");
        if (!isPlainObject(entry) || typeof entry.timestamp !== "number" || !Number.isFinite(entry.timestamp)) {
          throw new InvalidMessageError("malformed newHeads entry", label);
        }
        newHeads[storageId] = { heads: heads(entry.heads, label), timestamp: entry.timestamp };
      }
      return { type, ...addressing(value), documentId: documentId(value.documentId), newHeads };
    }
    default:
      throw new InvalidMessageError(`unknown message type "${label}"`, label);
  }
}

function addressing(value: Record<string, unknown>): { senderId: string; targetId: string } {
  return { senderId: peerId(value.senderId, "senderId"), targetId: peerId(value.targetId, "targetId") };
}

function peerId(value: unknown, field: string): string {
  if (!isPeerId(value)) throw new InvalidIdError(field);
  return value;
}

function documentId(value: unknown): string {
  if (!isDocumentId(value)) throw new InvalidIdError("documentId");
  return value;
}

function data(value: unknown, label: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.byteLength === 0) throw new InvalidMessageError(`"${label}" message without data`, label);
  // A plain view (no copy) rather than the decoder's Buffer, the same in Node and browsers.
  return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function peerMetadata(value: unknown): WirePeerMetadata {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new InvalidMessageError("peerMetadata is not a map");
  const metadata: WirePeerMetadata = {};
  if (value.storageId !== undefined && value.storageId !== null) {
    if (!isStorageId(value.storageId)) throw new InvalidIdError("storageId");
    metadata.storageId = value.storageId;
  }
  if (value.isEphemeral !== undefined) {
    if (typeof value.isEphemeral !== "boolean") throw new InvalidMessageError("isEphemeral is not a boolean");
    metadata.isEphemeral = value.isEphemeral;
  }
  return metadata;
}

function storageIds(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_SUBSCRIPTION_IDS) throw new InvalidMessageError(`${field} is not a short list`);
  const ids: string[] = [];
  for (const id of value as unknown[]) {
    if (!isStorageId(id)) throw new InvalidIdError("storageId");
    ids.push(id);
  }
  return ids;
}

function heads(value: unknown, label: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_HEADS || !value.every((h) => typeof h === "string" && HEAD.test(h))) {
    throw new InvalidMessageError("heads is not a list of change hashes", label);
  }
  return [...(value as string[])];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
