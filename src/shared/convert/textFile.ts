/**
 * A text file's bytes as text, or a clear refusal: without one, a PNG renamed `notes.md`
 * or random bytes saved as `.txt` would import as thousands of words of garbage, with
 * a success message, and sync to every relay. Pure: runs in the renderer and in tests.
 */

/** Why a file is not imported; the message is for the writer. */
export class NotTextError extends Error {
  override name = "NotTextError";
}

/** Files that are often renamed by mistake, known by their first bytes. */
const SIGNATURES: { bytes: number[]; what: string; hint?: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: "a PNG image" },
  { bytes: [0xff, 0xd8, 0xff], what: "a JPEG image" },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: "a GIF image" },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: "a PDF document" },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: "a compressed archive (a ZIP file, or a Word or OpenDocument file)", hint: "If it is a Word document, rename it to end in .docx and import it again." },
  { bytes: [0x1f, 0x8b], what: "a gzip-compressed file" },
  { bytes: [0x85, 0x6f, 0x4a, 0x83], what: "a Writer backup", hint: "Rename it to end in .automerge and import it again to get the document back with its history." },
];

/** Characters that never appear in a writer's text: C0 controls other than tab, newlines and form feed. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/g;

/**
 * Decodes `bytes` as UTF-8 (a byte-order mark is dropped; UTF-16 with a byte-order
 * mark is read too). Throws NotTextError when the file is a known binary format, is
 * not valid in its encoding, or holds control characters a text would not.
 */
export function decodeTextFile(bytes: Uint8Array, fileName: string): string {
  const name = `“${fileName}”`;
  const nothing = "Nothing was imported.";
  for (const sig of SIGNATURES) {
    if (sig.bytes.every((b, i) => bytes[i] === b)) throw new NotTextError(`${name} is ${sig.what}, not text. ${sig.hint ?? "Writer imports Markdown, HTML and plain text."} ${nothing}`);
  }
  let text: string;
  try {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder("utf-16le", { fatal: true }).decode(bytes.subarray(2));
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder("utf-16be", { fatal: true }).decode(bytes.subarray(2));
    else text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new NotTextError(
      `${name} is not UTF-8 text${at === null ? "" : ` (byte ${at + 1} of ${bytes.length} is not)`}: it may be in an older encoding, or not text at all. ` +
        `Save it as UTF-8 text and import it again. ${nothing}`,
    );
  }
  const controls = text.match(CONTROL)?.length ?? 0;
  // A stray control character in a long text happens (a form feed, an old editor's
  // leftovers): they are dropped. Many, or a NUL, mean the file is not text.
  if (text.includes("\u0000") || controls > Math.max(2, text.length / 1000)) {
    throw new NotTextError(`${name} holds binary data, not text (${controls} control characters). ${nothing}`);
  }
  return controls > 0 ? text.replace(CONTROL, "") : text;
}

/** The index of the first byte that breaks UTF-8, or null. */
function firstInvalidUtf8(bytes: Uint8Array): number | null {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0) return i;
    for (let k = 1; k < len; k++) if (i + k >= bytes.length || (bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return null;
}
