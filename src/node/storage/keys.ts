import { InvalidStorageKeyError } from "./errors";

/**
 * What a key part may look like. Document IDs are base58, chunk hashes hex, and the
 * rest are names like `incremental`, `snapshot`, `sync-state`, `storage-adapter-id`.
 * No dot, slash, backslash or NUL can get through, so no part is ever `.`, `..` or a
 * path of its own.
 */
const KEY_PART = /^[A-Za-z0-9_-]{1,200}$/;

/** Enough for automerge-repo's `[documentId, kind, hash]` with room to spare. */
export const MAX_KEY_PARTS = 8;

/**
 * Names that are harmless as paths but dangerous elsewhere: object keys a future
 * index or cache could be polluted through, and Windows device names, which open a
 * device instead of a file whatever their extension.
 */
const RESERVED_PART = /^(__proto__|constructor|prototype|con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/**
 * Checks an untrusted key before it becomes a path or a query parameter, and returns it
 * as a frozen copy so a caller cannot change it between the check and the use.
 * `allowEmpty` is for range prefixes, where `[]` means "everything".
 */
export function validateKey(key: unknown, { allowEmpty = false } = {}): readonly string[] {
  if (!Array.isArray(key)) throw new InvalidStorageKeyError(key, "not an array");
  // Check the length before copying: a sparse array can claim billions of elements.
  if (key.length > MAX_KEY_PARTS) throw new InvalidStorageKeyError(key, `more than ${MAX_KEY_PARTS} parts`);
  if (key.length === 0 && !allowEmpty) throw new InvalidStorageKeyError(key, "empty key");
  const parts: unknown[] = Array.from(key);
  for (const part of parts) {
    if (typeof part !== "string") throw new InvalidStorageKeyError(key, `a part is a ${part === null ? "null" : typeof part}`);
    if (!KEY_PART.test(part)) {
      throw new InvalidStorageKeyError(key, "a part is empty, longer than 200 or not [A-Za-z0-9_-]");
    }
    if (RESERVED_PART.test(part)) throw new InvalidStorageKeyError(key, `"${part}" is a reserved name`);
  }
  return Object.freeze(parts as string[]);
}

/** True when `part` would pass {@link validateKey} as one part of a key. */
export function isValidKeyPart(part: string): boolean {
  return KEY_PART.test(part) && !RESERVED_PART.test(part);
}
