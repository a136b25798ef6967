/** Whether two sets of heads (hex hashes or their URL encoding, not mixed) name the same changes. */
export function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((h) => set.has(h));
}
