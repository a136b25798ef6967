/**
 * The "Add a relay" form's fields, checked at the field before anything is sent: an
 * empty token, for one, would otherwise be accepted, and the relay would then refuse
 * every connection with a message about a wrong token. The host checks the same request
 * again.
 */
import { relayTokenSchema } from "./api";

export interface RelayFields {
  url: string;
  name: string;
  token: string;
  /** The writer said this relay takes no token (one started with --allow-anonymous). */
  noToken: boolean;
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
