/**
 * Limits of the sync protocol, shared by the relay (which enforces them on clients)
 * and the desktop host (which enforces the ID and frame limits on relays). The relay
 * makes each one an option; these are the defaults.
 */

/** Largest WebSocket frame accepted. A document's first sync carries its whole history. */
export const MAX_FRAME_BYTES = 32 * 1024 * 1024;

/** Longest peer or storage ID accepted. automerge-repo's are about 20-40 characters. */
export const MAX_PEER_ID_LENGTH = 128;

/**
 * Longest document ID accepted. A document ID is 16 bytes plus a 4-byte checksum in
 * base58 (about 27 characters); anything much longer is not one.
 */
export const MAX_DOCUMENT_ID_LENGTH = 64;

/** Longest protocol error text kept from the other side. */
export const MAX_ERROR_TEXT_LENGTH = 500;

/** Most protocol versions a join may offer. */
export const MAX_PROTOCOL_VERSIONS = 16;

/** Most storage IDs in one remote-subscription-change message. */
export const MAX_SUBSCRIPTION_IDS = 256;

/** A connection that has not sent a valid join within this time is closed. */
export const JOIN_TIMEOUT_MS = 10_000;

/** Sustained messages per second per connection; above it the relay stops reading. */
export const MESSAGES_PER_SECOND = 500;

/** Messages a connection may send at once before the rate applies (a library opening). */
export const MESSAGE_BURST = 2_000;

/** Distinct documents one connection may sync. */
export const MAX_DOCUMENTS_PER_CONNECTION = 10_000;

/** Live connections per relay process; beyond it upgrades get HTTP 503. */
export const MAX_CONNECTIONS = 1_000;
