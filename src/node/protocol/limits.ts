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

/**
 * Live connections one token may hold (S11): well below MAX_CONNECTIONS, so that one
 * token holder cannot take every slot. A desktop holds one; a team of a hundred
 * writers sharing one token fits.
 */
export const MAX_CONNECTIONS_PER_TOKEN = 100;

/**
 * A joined connection that sends no message for this long is closed (S11). A desktop
 * with a document open sends presence every 2 s; one showing only its library may be
 * closed after this and reconnects at once. Relay peers are exempt.
 */
export const IDLE_TIMEOUT_MS = 15 * 60_000;

/**
 * Bytes the relay holds on one connection's behalf (S12): frames received and not yet
 * handled, requests waiting for a document, changes not yet on disk. Three of the
 * largest frames: a library's first sync fits.
 */
export const MAX_HELD_BYTES_PER_CONNECTION = 3 * MAX_FRAME_BYTES;

/** Bytes the relay holds on behalf of every connection together (S12). */
export const MAX_HELD_BYTES = 1024 * 1024 * 1024;

/** TCP connections that have not finished their HTTP request or upgrade (S11); beyond it, the oldest is dropped. */
export const MAX_PENDING_UPGRADES = 256;

/** Time a connection has to send its HTTP request (headers and all) before it is dropped (S11). */
export const REQUEST_TIMEOUT_MS = 10_000;
