import type { AuthorInfo } from "../shared/document";
import type { StorageId } from "@automerge/automerge-repo";
import type { DocumentWorkers, Owner } from "../node/workers/DocumentWorkers";
import type { CallArgs, CallName, CallResult } from "../node/workers/protocol";
import type { DocumentAccess, DocumentSummary, Imported, RepoDocuments } from "./documentOps";
import type { HostWorkerContract } from "./workers/protocol";

type Op = CallName<HostWorkerContract>;

/**
 * The host's documents, wherever they are held: each operation runs in the
 * thread whose Repo holds the document, the main thread's (`local`) or the document
 * worker's for a long one (DocumentWorkers decides by its size on disk when it is
 * first needed). Operations that load a document decide where it goes; those that only
 * look at loaded documents decide nothing.
 */
export class HostDocuments implements DocumentAccess {
  readonly #local: RepoDocuments;
  readonly #workers: DocumentWorkers<HostWorkerContract>;

  constructor(local: RepoDocuments, workers: DocumentWorkers<HostWorkerContract>) {
    this.#local = local;
    this.#workers = workers;
  }

  /** Whether a thread holds the document (or is about to: its route is decided). */
  held(documentId: string): boolean {
    return this.#local.has(documentId) || typeof this.#workers.routeOf(documentId) === "number";
  }

  #run<K extends Op>(owner: Owner, op: K, args: CallArgs<HostWorkerContract, K>, local: () => Promise<CallResult<HostWorkerContract, K>>): Promise<CallResult<HostWorkerContract, K>> {
    return owner === "main" ? local() : this.#workers.call(owner, op, ...args);
  }

  /** Where a document that is about to be loaded goes. */
  #owner(documentId: string): Promise<Owner> {
    return this.#workers.ownerOf(documentId);
  }

  /**
   * Where a loaded document is, deciding nothing: a document without a route was made on
   * the main thread (created, or not loaded anywhere, which the main thread answers too).
   */
  #loadedOwner(documentId: string): Owner {
    return this.#workers.routeOf(documentId) ?? "main";
  }

  async loadedSummary(documentId: string): Promise<DocumentSummary | null | undefined> {
    const owner = this.#loadedOwner(documentId);
    return this.#run(owner, "loadedSummary", [documentId], () => this.#local.loadedSummary(documentId));
  }

  async plainText(documentId: string): Promise<string> {
    return this.#run(await this.#owner(documentId), "plainText", [documentId], () => this.#local.plainText(documentId));
  }

  async rename(documentId: string, title: string, author?: AuthorInfo): Promise<void> {
    return this.#run(await this.#owner(documentId), "rename", [documentId, title, author], () => this.#local.rename(documentId, title, author));
  }

  async clone(documentId: string, title: string): Promise<string> {
    const owner = await this.#owner(documentId);
    const copy = await this.#run(owner, "clone", [documentId, title], () => this.#local.clone(documentId, title));
    // The copy is as long as the original, and already in that worker's Repo.
    if (owner !== "main") this.#workers.assign(copy, owner);
    return copy;
  }

  async delete(documentId: string): Promise<void> {
    return this.#run(await this.#owner(documentId), "delete", [documentId], () => this.#local.delete(documentId));
  }

  async hasChange(documentId: string, hash: string): Promise<boolean> {
    return this.#run(await this.#owner(documentId), "hasChange", [documentId, hash], () => this.#local.hasChange(documentId, hash));
  }

  async mergeBackup(documentId: string, bytes: Uint8Array): Promise<Imported> {
    return this.#run(await this.#owner(documentId), "mergeBackup", [documentId, bytes], () => this.#local.mergeBackup(documentId, bytes));
  }

  /** A long backup is read and kept in the worker, where it lives from then on. */
  async import(bytes: Uint8Array): Promise<Imported> {
    const worker = this.#workers.workerForBytes(bytes.byteLength);
    if (worker === undefined) return this.#local.import(bytes);
    const imported = await this.#workers.call(worker, "import", bytes);
    if ("documentId" in imported) this.#workers.assign(imported.documentId, worker);
    return imported;
  }

  async hold(documentId: string): Promise<void> {
    return this.#run(await this.#owner(documentId), "hold", [documentId], () => this.#local.hold(documentId));
  }

  /** Whether every change named by `heads` is on disk; false when nothing holds the document. */
  async confirmSaved(documentId: string, heads: string[]): Promise<boolean> {
    const owner = this.#loadedOwner(documentId);
    return this.#run(owner, "confirmSaved", [documentId, heads], () => this.#local.confirmSaved(documentId, heads));
  }

  /** Rewrites its render cache if it is loaded; the heads written at, or null. */
  async updateRenderCache(documentId: string, known: string[] | undefined): Promise<string[] | null> {
    const owner = this.#loadedOwner(documentId);
    return this.#run(owner, "updateRenderCache", [documentId, known], () => this.#local.updateRenderCache(documentId, known));
  }

  /** For every loaded document, in every thread: whether the relay with `storageId` has our heads. */
  async relayConfirmed(storageId: StorageId | null): Promise<[string, boolean][]> {
    const all = this.#local.relayConfirmed(storageId);
    if (!this.#workers.enabled) return all;
    for (let worker = 0; worker < this.#workers.documentsPerWorker().length; worker++) {
      all.push(...(await this.#workers.call(worker, "relayConfirmed", storageId)));
    }
    return all;
  }
}
