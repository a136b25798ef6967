import { cbor, isValidDocumentId, type Message } from "@automerge/automerge-repo";

/** What a relay may send a client, after the checks below. */
export type RelayWireMessage =
  | { kind: "peer"; senderId: string; selectedProtocolVersion: unknown; peerMetadata: { storageId?: string; isEphemeral?: boolean } }
  | { kind: "error"; message: string }
  | { kind: "repo"; message: Message };

const MAX_ID_LENGTH = 200;
const DOCUMENT_MESSAGES = new Set(["sync", "request", "doc-unavailable", "ephemeral", "remote-heads-changed"]);

/**
 * Checks one frame from a relay before anything in the Repo sees it. A relay is
 * trusted with the documents it serves, not with the shape of what it sends: a
 * malformed frame must end the session with a clear error rather than throw deep
 * inside automerge-repo.
 */
export function validateRelayMessage(data: Buffer, isBinary: boolean, ourPeerId: string): { ok: true; message: RelayWireMessage } | { ok: false; error: string } {
  if (!isBinary) return { ok: false, error: "the relay sent a text frame" };
  if (data.byteLength === 0) return { ok: false, error: "the relay sent an empty frame" };
  let value: unknown;
  try {
    value = cbor.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch {
    return { ok: false, error: "the relay sent a frame that is not CBOR" };
  }
  if (!isPlainObject(value)) return { ok: false, error: "the relay sent a frame that is not a message" };
  const type = value.type;
  if (typeof type !== "string") return { ok: false, error: "the relay sent a message without a type" };
  if (type === "error") {
    return { ok: true, message: { kind: "error", message: typeof value.message === "string" ? value.message.slice(0, 500) : "unspecified error" } };
  }
  if (!isId(value.senderId)) return { ok: false, error: `the relay sent a "${type.slice(0, 40)}" message without a valid sender` };
  if (type === "peer") {
    const meta = value.peerMetadata;
    if (meta !== undefined && !isPlainObject(meta)) return { ok: false, error: "the relay sent malformed peer metadata" };
    const storageId = meta?.storageId;
    if (storageId !== undefined && !isId(storageId)) return { ok: false, error: "the relay sent a malformed storage ID" };
    return {
      ok: true,
      message: {
        kind: "peer",
        senderId: value.senderId,
        selectedProtocolVersion: value.selectedProtocolVersion,
        peerMetadata: meta ? { storageId: storageId as string | undefined, isEphemeral: meta.isEphemeral === true } : {},
      },
    };
  }
  if (value.targetId !== ourPeerId) return { ok: false, error: `the relay sent a "${type.slice(0, 40)}" message meant for another peer` };
  if (DOCUMENT_MESSAGES.has(type) && (typeof value.documentId !== "string" || !isValidDocumentId(value.documentId))) {
    return { ok: false, error: `the relay sent a "${type}" message with an invalid document ID` };
  }
  if ((type === "sync" || type === "request" || type === "ephemeral") && !(value.data instanceof Uint8Array)) {
    return { ok: false, error: `the relay sent a "${type}" message without data` };
  }
  return { ok: true, message: { kind: "repo", message: value as Message } };
}

function isId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
