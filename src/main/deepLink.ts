/**
 * `writer://open/<document link>`: a document link handed to Writer by the system (a
 * click in a mail, a chat, a web page). Plain functions, fuzzed in
 * test/unit/main/deepLink.test.ts; src/main/index.ts calls them for the link Writer was
 * started with, for one a second launch hands over, and for macOS's open-url.
 *
 * A link is checked in full before anything loads: the scheme and the one action Writer
 * takes from outside (open), then the document link itself (its ID's alphabet, length and
 * check characters, src/shared/documentLink.ts). Nothing else in the URL is used: no query,
 * no fragment, no path beyond the link. What comes back is always `automerge:<ID>`.
 */
import { readDocumentLink } from "../shared/documentLink";

export const DEEP_LINK_SCHEME = "writer";

/** Longer than any link Writer makes, by far; a longer argument is not looked at. */
const MAX_DEEP_LINK = 512;

export type DeepLink = { open: string } | { refused: string };

/** The document a writer:// URL asks to open, or why it is refused (in words for the writer). */
export function parseDeepLink(raw: string): DeepLink {
  if (typeof raw !== "string" || raw.length > MAX_DEEP_LINK) return { refused: "That Writer link is too long to be one." };
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { refused: "That is not a Writer link." };
  }
  if (url.protocol !== `${DEEP_LINK_SCHEME}:`) return { refused: "That is not a Writer link: they start with “writer://”." };
  // Not a special scheme: the URL parser keeps the host's case.
  if (url.hostname.toLowerCase() !== "open") return { refused: `Writer links open documents (writer://open/…); “${url.hostname.slice(0, 40)}” is not something Writer does.` };
  let link: string;
  try {
    link = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  } catch {
    return { refused: "That Writer link is damaged: copy it again." };
  }
  const read = readDocumentLink(link);
  // Only the link itself, not a link found inside other text.
  if ("problem" in read) return { refused: read.problem };
  if (link.trim() !== read.url) return { refused: "That Writer link holds more than a document link: copy it again." };
  return { open: read.url };
}

/** The writer:// argument in a command line (a launch, or a second launch handing over), if any. */
export function deepLinkInArgs(argv: readonly string[]): string | null {
  for (const arg of argv) if (typeof arg === "string" && arg.length <= MAX_DEEP_LINK && arg.toLowerCase().startsWith(`${DEEP_LINK_SCHEME}://`)) return arg;
  return null;
}
