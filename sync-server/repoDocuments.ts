// What the relay does to one document of a Repo, written once for the main thread's Repo
// and for the document workers' (sync-server/workers/).
import { next as A } from "@automerge/automerge";
import { encodeHeads, type DocHandle, type DocumentId, type Repo, type StorageAdapterInterface } from "@automerge/automerge-repo/slim";
import { sameHeads } from "../src/shared/sync/heads";

/** How long to wait for a relay peer to confirm one document before moving on. */
const CONFIRM_TIMEOUT_MS = 20_000;

/**
 * Loads the document (so that the Repo syncs it with every connected relay peer) and
 * waits until the peer with `storageId` reports our heads. True once it does, or if
 * there is nothing here to give; false on time-out or once `connected()` turns false.
 */
export async function confirmPeerHas(
  repo: Repo,
  documentId: string,
  storageId: string,
  connected: () => boolean,
  touch: (documentId: string) => void,
): Promise<boolean> {
  touch(documentId);
  let handle: DocHandle<unknown>;
  try {
    handle = await repo.find(documentId as DocumentId, { allowableStates: ["ready", "unavailable"] });
  } catch {
    return true;
  }
  // Nothing here to give: the document has no data on this relay.
  if (!handle.isReady()) return true;
  const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
  while (Date.now() < deadline && connected()) {
    touch(documentId);
    if (!handle.isReady()) return false;
    const theirs = handle.getSyncInfo(storageId as never)?.lastHeads;
    const ours = encodeHeads(A.getHeads(handle.doc() as A.Doc<unknown>));
    if (theirs && sameHeads(theirs, ours)) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/** Which of `hashes` the Repo's copy of the document has (loading it if need be). */
export async function knownHeads(repo: Repo, documentId: string, hashes: readonly string[]): Promise<string[]> {
  let doc: A.Doc<unknown> | undefined;
  try {
    const handle =
      repo.handles[documentId as DocumentId] ??
      (await repo.find(documentId as DocumentId, { allowableStates: ["ready", "unavailable", "requesting"] }));
    if (!handle.isReady()) await handle.whenReady(["ready", "unavailable", "requesting"]);
    doc = handle.isReady() ? (handle.doc() as A.Doc<unknown>) : undefined;
  } catch {
    doc = undefined;
  }
  return doc === undefined ? [] : hashes.filter((h) => A.hasHeads(doc, [h]));
}

/**
 * Drops an idle document from the Repo's memory after writing it out. automerge-repo
 * 2.5.6 has `removeFromCache` for loaded documents (see the trap below, and
 * RelayStorage's guard against it); it throws for a handle that never became ready, so
 * those (requests nobody could answer) are dropped with `Repo.delete`, whose storage
 * removal `RelayStorage` ignores. `stillIdle` is asked after the write, which yields:
 * traffic meanwhile keeps the document. True if it left memory.
 */
export async function evictDocument(repo: Repo, documentId: string, stillIdle: () => boolean): Promise<boolean> {
  const handle = repo.handles[documentId as DocumentId];
  if (!handle) return true;
  if (handle.isReady()) {
    await repo.flush([documentId as DocumentId]);
    if (!stillIdle() || !handle.isReady()) return false;
    // removeFromCache unloads the handle, which swaps its document for an empty
    // one and fires "heads-changed": the Repo's save listener, still attached,
    // would then compact the empty document over the real chunks on disk
    // (automerge-repo 2.5.6). Nothing may listen to a handle being dropped.
    handle.removeAllListeners();
    await repo.removeFromCache(documentId as DocumentId);
    return true;
  }
  if (handle.isUnavailable()) {
    repo.delete(documentId as DocumentId);
    return true;
  }
  return false;
}

/** The heads of the Repo's copy of a document (hex, as Automerge has them), if it is loaded. */
export function storedHeads(repo: Repo | undefined, documentId: string): string[] | undefined {
  const handle = repo?.handles[documentId as DocumentId];
  return handle?.isReady() ? A.getHeads(handle.doc() as A.Doc<unknown>) : undefined;
}

/**
 * Applies changes another relay of the cluster took in from one of its writers to the
 * Repo's copy, if the document is in memory and loaded (the Repo then syncs them to this
 * relay's writers and stores them). Changes the copy has already are skipped: nothing is
 * applied when there is nothing new. False if the document is not here, which is fine:
 * it is read from storage when someone asks for it.
 */
export function applyClusterChanges(repo: Repo, documentId: string, changes: Uint8Array[]): boolean {
  const handle = repo.handles[documentId as DocumentId];
  if (!handle?.isReady()) return false;
  const doc = handle.doc() as A.Doc<unknown>;
  const fresh = changes.filter((change) => !A.hasHeads(doc, [A.decodeChange(change).hash]));
  if (fresh.length > 0) handle.update((d) => A.applyChanges(d as A.Doc<unknown>, fresh)[0] as never);
  return true;
}

/**
 * Reads the document (if in memory) from storage again and merges what it finds: what
 * the other relays stored that this copy lacks. Automerge merges what it already has as
 * no-ops. True if the copy moved.
 */
export async function catchUpDocument(repo: Repo, storage: StorageAdapterInterface, documentId: string): Promise<boolean> {
  const handle = repo.handles[documentId as DocumentId];
  if (!handle?.isReady()) return false;
  const chunks = await storage.loadRange([documentId]);
  const before = A.getHeads(handle.doc() as A.Doc<unknown>);
  handle.update((doc) => {
    let next = doc as A.Doc<unknown>;
    for (const chunk of chunks) {
      const kind = chunk.key[1];
      if (chunk.data && (kind === "snapshot" || kind === "incremental")) next = A.loadIncremental(next, chunk.data);
    }
    return next as never;
  });
  return !sameHeads(encodeHeads(before), encodeHeads(A.getHeads(handle.doc() as A.Doc<unknown>)));
}

/** catchUpDocument for every document in memory (after the cluster bus was lost); how many moved. */
export async function catchUpFromStorage(repo: Repo, storage: StorageAdapterInterface): Promise<number> {
  let moved = 0;
  for (const documentId of Object.keys(repo.handles)) if (await catchUpDocument(repo, storage, documentId)) moved++;
  return moved;
}
