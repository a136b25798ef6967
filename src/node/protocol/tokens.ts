import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Bytes of randomness in a relay token: 256 bits, 43 characters of base64url. */
const TOKEN_BYTES = 32;
const TOKEN = /^[A-Za-z0-9_-]{20,200}$/;

/** A new relay token: high-entropy random, base64url. Shown once, never stored. */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

/**
 * The form a token is kept in: SHA-256, hex. A slow password hash is not needed for
 * 256-bit random tokens: nobody can search that space, hashed fast or slow.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Whether `token` could be one of ours (charset and length), before any hashing. */
export function isWellFormedToken(token: string): boolean {
  return TOKEN.test(token);
}

/** Compares two token hashes (hex) in constant time. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
