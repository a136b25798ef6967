/**
 * The "Add a relay" form's fields, checked at the field before anything is sent: an
 * empty token, for one, would otherwise be accepted, and the relay would then refuse
 * every connection with a message about a wrong token. The host checks the same request
 * again.
 */
import { relayTokenSchema } from "./api";
import { readRelayInvite } from "./relayInvite";

export interface RelayFields {
  url: string;
  name: string;
  token: string;
  /** The writer said this relay takes no token (one started with --allow-anonymous). */
  noToken: boolean;
  /**
   * The relay address of the invite (relayInvite.ts) the token came from, when it came
   * from one: the form then shows "from the invite" instead of the token, and drops the
   * token if the address is changed to another server's.
   */
  invite?: string | null;
}

export type RelayFieldErrors = Partial<Record<"url" | "name" | "token", string>>;

/** What is wrong with each field, in words for the writer; empty when all is well. */
export function relayFieldErrors(fields: RelayFields): RelayFieldErrors {
  const errors: RelayFieldErrors = {};
  const url = fields.url.trim();
  if (!url) errors.url = "Paste the relay's address: it starts with wss://.";
  else {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      parsed = null;
    }
    if (!parsed || (parsed.protocol !== "ws:" && parsed.protocol !== "wss:")) {
      errors.url = /^https?:\/\//i.test(url) ? `A relay's address starts with wss:// (not ${url.split(":")[0]}://).` : "A relay's address starts with wss:// (or ws:// on your own network).";
    } else if (parsed.username || parsed.password || parsed.searchParams.has("token")) {
      errors.url = "Leave the token out of the address, and paste it under Token.";
    } else if (parsed.hash) errors.url = "A relay's address has no # part.";
    else if (url.length > 500) errors.url = "That address is too long.";
  }
  if (fields.name.trim().length > 80) errors.name = "Keep the name under 80 characters.";
  if (!fields.noToken) {
    const token = fields.token.trim();
    if (!token) errors.token = "Paste the token the relay's administrator gave you.";
    else if (!relayTokenSchema.safeParse(token).success) errors.token = "A token is one word of letters, digits and - _ . ~ + / =, with no spaces.";
  }
  return errors;
}

/** The form after the writer typed or pasted into a field, and what to say about that field, if anything. */
export interface RelayFieldEntry {
  fields: RelayFields;
  /** Set when the text was an invite that cannot be used (never containing its token). */
  error?: string;
}

/**
 * The writer put `text` in the Address field. An invite fills the address with the
 * relay's (never the whole link: its token must not show) and the token with its own;
 * a damaged invite leaves only what can be read of the address, and says what is wrong.
 * Anything else is the address as typed, and a token from an invite stays only while
 * the address still names the invite's server.
 */
export function enterAddress(fields: RelayFields, text: string): RelayFieldEntry {
  const reading = readRelayInvite(text);
  if (reading.kind === "invite") return { fields: { ...fields, url: reading.url, token: reading.token, noToken: false, invite: reading.url } };
  const dropInvite = { token: "", invite: null };
  if (reading.kind === "damaged") return { fields: { ...fields, url: reading.url ?? "", ...(fields.invite ? dropInvite : {}) }, error: reading.problem };
  const sameServer = fields.invite && serverOf(text) === serverOf(fields.invite);
  return { fields: { ...fields, url: text, ...(fields.invite && !sameServer ? dropInvite : {}) } };
}

/**
 * The writer put `text` in the Token field: an invite pasted there counts as one pasted
 * in the Address field (its address replaces the one typed: the token is that relay's).
 */
export function enterToken(fields: RelayFields, text: string): RelayFieldEntry {
  const reading = readRelayInvite(text);
  if (reading.kind === "invite") return enterAddress(fields, text);
  if (reading.kind === "damaged") return { fields: { ...fields, token: "", invite: null }, error: reading.problem };
  return { fields: { ...fields, token: text, invite: null } };
}

/** What the "New token" form of a relay already added holds after the writer pasted `text`. */
export interface NewTokenEntry {
  token: string;
  /** The token came from an invite for this relay: the field shows "From the invite", never the token. */
  fromInvite: boolean;
  /** What is wrong with what was pasted (never containing a token). */
  error?: string;
}

/**
 * The writer pasted `text` into the New token field of the relay at `relayUrl`: a token,
 * or an invite for that same relay (its token is taken, out of sight). An invite for
 * another relay is refused, saying which relay it is for, since its token would not work
 * here; a damaged invite says what is wrong.
 */
export function enterNewToken(relayUrl: string, text: string): NewTokenEntry {
  const reading = readRelayInvite(text);
  if (reading.kind === "none") return { token: text, fromInvite: false };
  if (reading.kind === "damaged") return { token: "", fromInvite: false, error: reading.problem };
  const same = (a: string) => a.trim().replace(/\/+$/, "").toLowerCase();
  if (same(reading.url) !== same(relayUrl)) return { token: "", fromInvite: false, error: `That invite is for ${reading.url}, not this relay: add it with Add a relay.` };
  return { token: reading.token, fromInvite: true };
}

/** `host:port` of a relay address, or null. */
function serverOf(address: string): string | null {
  try {
    return new URL(address.trim()).host || null;
  } catch {
    return null;
  }
}
