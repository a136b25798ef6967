/**
 * Typing held for a burst's change (editor/sync.ts, Grouping) must be in Automerge
 * before anything from the host is applied to the same document: the binding maps
 * remote patches onto the editor's document by Automerge's, and the two must agree.
 * Every message from the host passes through platform.ts, which asks here first.
 */
const flushers = new Map<string, Set<() => void>>();

/** Registers an editor's flush for a document; returns the unregistration. */
export function registerHeldEdits(documentId: string, flush: () => void): () => void {
  let set = flushers.get(documentId);
  if (!set) flushers.set(documentId, (set = new Set()));
  set.add(flush);
  return () => {
    set.delete(flush);
    if (set.size === 0) flushers.delete(documentId);
  };
}

/** Commits held typing in the document a message from the host is about, before it is applied. */
export function beforeHostMessage(message: unknown): void {
  if (flushers.size === 0 || !message || typeof message !== "object") return;
  const id = (message as { documentId?: unknown }).documentId;
  if (typeof id !== "string") return;
  for (const flush of flushers.get(id) ?? []) flush();
}

/** Commits all held typing (the window is hidden or closing). */
export function flushAllHeldEdits(): void {
  for (const set of flushers.values()) for (const flush of set) flush();
}
