/**
 * Reading a document link out of what a writer pasted, and saying what is wrong with it
 * when it is not one: the part that is actually wrong, not a rule the text already
 * meets (`automerge:notarealid` does start with “automerge:”; its ID is what is wrong).
 */
import { isValidAutomergeUrl } from "@automerge/automerge-repo/slim";

const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;

/** The link in `text` (alone, or in a message), or why there is none, in words for the writer. */
export function readDocumentLink(text: string): { url: string } | { problem: string } {
  const trimmed = text.trim();
  if (!trimmed) return { problem: "Paste the link someone copied for you: it starts with “automerge:”." };
  const found = /automerge:([^\s"'<>)\]]*)/.exec(trimmed);
  if (!found) {
    if (/^https?:\/\//i.test(trimmed)) return { problem: "That is a web address. A Writer link starts with “automerge:”: ask for the link from Writer’s Copy link." };
    return { problem: "That is not a Writer link: Writer links start with “automerge:”." };
  }
  const id = found[1]!.replace(/[.,;:!?]+$/, "");
  if (!id) return { problem: "The link stops after “automerge:”: the document’s ID is missing. Copy the whole link again." };
  if (!BASE58.test(id)) {
    const bad = [...id].find((c) => !BASE58.test(c));
    return { problem: `“${id}” is not a document ID: IDs never contain “${bad}”. Copy the link again rather than typing it.` };
  }
  if (id.length < 20) return { problem: `“${id}” is too short for a document ID (they have about 28 characters): part of the link is missing.` };
  const url = `automerge:${id}`;
  if (id.length > 60 || !isValidAutomergeUrl(url)) return { problem: "This link is damaged: its check characters do not match. Copy it again from where it was shared." };
  return { url };
}
