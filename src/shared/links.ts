/**
 * Link safety. A link in a document may come from anyone who can edit it, so only
 * schemes that cannot run code are ever rendered or stored.
 */
const allowedSchemes = new Set(["http:", "https:", "mailto:"]);

/**
 * Returns a normalised href that is safe to render, or null for anything that could
 * run code (`javascript:`, `data:`, `vbscript:`, obfuscated variants) or is not a URL.
 * Bare domains such as `example.com` become `https://example.com`.
 */
export function safeHref(input: string): string | null {
  // As browsers do (the URL standard), trim control characters and spaces at both
  // ends and drop tabs and newlines anywhere ("java\tscript:"); other control
  // characters go too. A space inside a link is kept: the URL parser encodes it as %20
  // (dropping it would turn ".../moby dick.pdf" into another address).
  const cleaned = input
    // eslint-disable-next-line no-control-regex
    .replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, "");
  if (cleaned === "") return null;
  if (cleaned.startsWith("#")) return cleaned.length > 1 ? cleaned : null;
  const hasScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(cleaned);
  const candidate = hasScheme ? cleaned : `https://${cleaned}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return null;
  }
  if (!allowedSchemes.has(url.protocol)) return null;
  if (url.protocol !== "mailto:" && !url.hostname) return null;
  return url.href;
}
