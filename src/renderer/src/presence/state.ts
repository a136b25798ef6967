/**
 * What a window tells the others in a document (automerge-repo's Presence, over
 * ephemeral messages that hosts and relays forward): who is there, in which colour, and
 * where their selection is, as Automerge cursors (stable while the text changes).
 * Everything that arrives is checked: another peer may send anything.
 */
export interface PresenceUser {
  name: string;
  color: string;
}

export interface PresenceSelection {
  /** Automerge cursors (A.getCursor) of the selection's anchor and head. */
  anchor: string;
  head: string;
}

export interface WriterPresence {
  user: PresenceUser;
  selection: PresenceSelection | null;
}

/** The presence envelope key automerge-repo uses (presence/constants.js). */
const PRESENCE_MARKER = "__presence";

const COLOR = /^#[0-9a-fA-F]{6}$/;
const MAX_CURSOR = 200;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseUser(v: unknown): PresenceUser | null {
  if (!isObject(v)) return null;
  const { name, color } = v;
  if (typeof name !== "string" || typeof color !== "string" || !COLOR.test(color)) return null;
  const clean = [...name]
    .filter((c) => c.charCodeAt(0) >= 32 && c.charCodeAt(0) !== 127)
    .join("")
    .trim()
    .slice(0, 80);
  return { name: clean || "Someone", color };
}

function parseSelection(v: unknown): PresenceSelection | null {
  if (!isObject(v)) return null;
  const { anchor, head } = v;
  if (typeof anchor !== "string" || typeof head !== "string" || anchor.length > MAX_CURSOR || head.length > MAX_CURSOR) return null;
  return { anchor, head };
}

/** A peer's state as far as it is valid: an invalid user drops the peer, an invalid selection the selection. */
export function parsePresence(v: unknown): WriterPresence | null {
  if (!isObject(v)) return null;
  const user = parseUser(v.user);
  if (!user) return null;
  return { user, selection: v.selection === null || v.selection === undefined ? null : parseSelection(v.selection) };
}

/**
 * Whether an ephemeral message is a presence message whose content is valid, in the
 * shapes automerge-repo's Presence sends (snapshot, update, heartbeat, goodbye).
 */
export function isValidPresenceMessage(message: unknown): boolean {
  if (!isObject(message) || !(PRESENCE_MARKER in message)) return false;
  const m = message[PRESENCE_MARKER];
  if (!isObject(m)) return false;
  switch (m.type) {
    case "heartbeat":
    case "goodbye":
      return true;
    case "snapshot":
      return parsePresence(m.state) !== null;
    case "update":
      if (m.channel === "user") return parseUser(m.value) !== null;
      if (m.channel === "selection") return m.value === null || parseSelection(m.value) !== null;
      return false;
    default:
      return false;
  }
}
