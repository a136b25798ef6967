/** Base64 to bytes, for large inputs (the Automerge wasm, a saved document): a plain loop, several times faster than `Uint8Array.from(atob(s), fn)`. */
export function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
