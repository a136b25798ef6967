/**
 * Relay invites: one string that holds a relay's address and a token, so that a writer
 * pastes one thing instead of two. `relay token invite` (sync-server/tokenCommands.ts)
 * makes them; the app's "Add a relay" reads them.
 *
 *   https://relay.example.org/invite#<token>         relay wss://relay.example.org
 *   https://example.org/writer/invite#<token>        relay wss://example.org/writer
 *   http://192.168.1.10:8787/invite#<token>          relay ws://192.168.1.10:8787
 *
 * An https:// link rather than a wss:// one, so that someone who opens it in a browser
 * gets the relay's `/invite` page (which says what to do with it) instead of an error;
 * the token is in the fragment, which a browser never sends, so it reaches neither the
 * relay nor a proxy's access log. No message here ever contains the token: they are
 * shown to the writer, and may end up in a screenshot or a log.
 *
 * Nothing here imports anything: the relay's CLI, the renderer and the tests share it.
 */

/** The last segment of an invite link's path. */
const INVITE_SEGMENT = "invite";
/** Relay tokens as the relay makes and accepts them (sync-server/tokens.ts): base64url, 20-200 characters. */
const TOKEN = /^[A-Za-z0-9_-]{20,200}$/;
/** The longest relay address the app keeps (relayUrlSchema). */
const MAX_ADDRESS = 500;

/** What a pasted text is, read as a possible invite. */
export type InviteReading =
  /** Not an invite: the text is used as it is (an address, a token). */
  | { kind: "none" }
  /** An invite: the relay's address, and the token that goes with it. */
  | { kind: "invite"; url: string; token: string }
  /**
   * An invite that cannot be used, and why (in words for the writer, without the token).
   * `url` is the relay's address when it could be read, so that the form can show it.
   */
  | { kind: "damaged"; url: string | null; problem: string };

/**
 * The invite link for the relay whose public address is `publicUrl` (as writers reach it:
 * `https://…`, `wss://…`, with any path prefix its proxy serves it under) and `token`.
 * Throws a RangeError, in plain words, for an address an invite cannot be made from.
 */
export function relayInviteLink(publicUrl: string, token: string): string {
  let url: URL;
  try {
    url = new URL(publicUrl.trim());
  } catch {
    throw new RangeError(`not an address: ${JSON.stringify(publicUrl)} (give the relay's public address, such as https://relay.example.org)`);
  }
  const scheme = { "https:": "https:", "wss:": "https:", "http:": "http:", "ws:": "http:" }[url.protocol];
  if (!scheme) throw new RangeError(`the relay's public address starts with https:// or wss:// (http:// or ws:// on a local network), not ${url.protocol}//`);
  if (url.username || url.password) throw new RangeError("the relay's public address holds no user name or password");
  if (url.search || url.hash) throw new RangeError("the relay's public address is given without a query or token (no ? or # part)");
  if (!TOKEN.test(token)) throw new RangeError("not a relay token");
  const prefix = url.pathname.replace(/\/+$/, "");
  return `${scheme}//${url.host}${prefix}/${INVITE_SEGMENT}#${token}`;
}

/**
 * Reads `text` (what the writer pasted) as an invite. Anything that is not one, such as
 * a plain relay address or a token, is `none`, and left to the form as it is. Something
 * that looks like an invite but cannot be used is `damaged`, with the reason.
 */
export function readRelayInvite(text: string): InviteReading {
  const trimmed = text.trim();
  const hashAt = trimmed.indexOf("#");
  const beforeHash = hashAt < 0 ? trimmed : trimmed.slice(0, hashAt);
  let url: URL;
  try {
    url = new URL(beforeHash);
  } catch {
    // "relay.example.org/invite#…" without its scheme: a damaged invite, not an address.
    return /\/invite\/?$/i.test(beforeHash) && hashAt >= 0 ? { kind: "damaged", url: null, problem: "That invite link is incomplete: copy the whole link, from https:// to the end." } : { kind: "none" };
  }
  const scheme = { "https:": "wss:", "wss:": "wss:", "http:": "ws:", "ws:": "ws:" }[url.protocol];
  const segments = url.pathname.replace(/\/+$/, "").split("/");
  if (!scheme || segments.at(-1)?.toLowerCase() !== INVITE_SEGMENT) return { kind: "none" };
  // A wss:// address without a # part is an address (a relay could sit under /invite).
  if (hashAt < 0 && scheme === url.protocol) return { kind: "none" };
  const prefix = segments.slice(0, -1).join("/");
  // Any ?query is left out: a mail client's link tracking may have added one.
  const address = `${scheme}//${url.host}${prefix}`;
  if (url.username || url.password) return { kind: "damaged", url: null, problem: "An invite link holds no user name or password: ask for a new invite." };
  if (address.length > MAX_ADDRESS) return { kind: "damaged", url: null, problem: "That invite link is too long to be one." };
  const token = hashAt < 0 ? "" : trimmed.slice(hashAt + 1).trim();
  if (!token) return { kind: "damaged", url: address, problem: "That invite link has lost its token (the part after #): copy the whole link again." };
  if (!TOKEN.test(token)) return { kind: "damaged", url: address, problem: "The token in that invite link is damaged: copy the whole link again, or ask for a new invite." };
  return { kind: "invite", url: address, token };
}
