import { isValidDocumentId } from "@automerge/automerge-repo/slim";
import { MAX_DOCUMENT_ID_LENGTH, MAX_PEER_ID_LENGTH } from "./limits";

/**
 * Peer IDs become object keys inside automerge-repo (`peerMetadataByPeerId`, the network
 * subsystem's table of adapters), so besides the charset, names that plain objects
 * already carry (`__proto__`, `constructor`, `toString`...) are refused.
 */
const PEER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:~-]*$/;

/** Storage IDs become a part of storage keys, hence file names: the storage key charset. */
const STORAGE_ID = /^[A-Za-z0-9_-]+$/;

/** True for a base58check document ID of sensible length. */
export function isDocumentId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_DOCUMENT_ID_LENGTH && isValidDocumentId(value);
}

/** True for a peer ID that is safe as an object key and a log field. */
export function isPeerId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_PEER_ID_LENGTH && PEER_ID.test(value) && !isObjectKeyName(value);
}

/** True for a storage ID that is safe as an object key and a storage key part. */
export function isStorageId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_PEER_ID_LENGTH && STORAGE_ID.test(value) && !isObjectKeyName(value);
}

/** Names that every plain object already answers to. */
function isObjectKeyName(value: string): boolean {
  return value === "__proto__" || value in Object.prototype;
}
