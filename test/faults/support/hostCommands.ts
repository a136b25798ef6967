/**
 * Extra commands for host processes in the P1 and P2 tests (loaded by host-child.ts
 * through HOST_CHILD_EXTENSION): editing through the editor's commands, replaying a
 * trace's transaction on the version it was written against, reading rich text.
 */
import { next as A } from "@automerge/automerge";
import { randomBytes } from "node:crypto";
import type { AutomergeUrl, DocHandle } from "@automerge/automerge-repo";
import type { Host } from "../../../src/host/Host";
import { plainText, TEXT_PATH, type WriterDocument } from "../../../src/shared/document";
import type { HostExtension } from "../../support/host-child";
import { applyRichEdit, richSpans, type RichEdit } from "./richEdits";

async function open(host: Host, url: string): Promise<DocHandle<WriterDocument>> {
  return host.repo.find<WriterDocument>(url as AutomergeUrl);
}

/** Resolves once the document has every change in `heads` (they may still be on their way). */
async function waitForHeads(handle: DocHandle<WriterDocument>, heads: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!A.hasHeads(handle.doc(), heads)) {
    if (Date.now() > deadline) throw new Error(`changes ${heads.join(",")} did not arrive in ${timeoutMs} ms`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        handle.off("change", done);
        resolve();
      };
      const timer = setTimeout(done, 10);
      handle.on("change", done);
    });
  }
}

export const commands: HostExtension["commands"] = {
  /** One edit through the editor's commands; its outcome and the heads after it. */
  async edit(host: Host, args: { url: string; edit: RichEdit }) {
    const handle = await open(host, args.url);
    const outcome = applyRichEdit(handle, args.edit);
    return { ...outcome, heads: A.getHeads(handle.doc()) };
  },

  /** Whether the document has every change in `heads` (hex). */
  async hasHeads(host: Host, args: { url: string; heads: string[] }) {
    return A.hasHeads((await open(host, args.url)).doc(), args.heads);
  },

  /** The rich text, plain text and sorted heads (hex) of a document. */
  async spans(host: Host, args: { url: string }) {
    const handle = await open(host, args.url);
    const doc = handle.doc();
    return { spans: richSpans(doc), text: plainText(doc), heads: [...A.getHeads(doc)].sort() };
  },

  /**
   * Applies transactions of a concurrent editing trace, in order, one change each:
   * each waits until every change it was written on top of has reached this host, then
   * splices on exactly that version of the text (position 0 is after the first block
   * marker). A parent is a change hash (another host's transaction, or the start), or
   * the index of a transaction this host applied. Returns the new changes' hashes.
   */
  async traceTxns(host: Host, args: { url: string; txns: { index: number; parents: (string | number)[]; patches: [number, number, string][] }[] }) {
    const handle = await open(host, args.url);
    // The trace's writer keeps a copy of their own at exactly the version they write on:
    // each transaction is made there with a plain change, and the call's changes are then
    // handed to the host's document together (as a window's sync would hand them over).
    // Making each on the host's document, which by then also holds the other writer's
    // later changes, took a changeAt per transaction, and applying them one by one a
    // patch of the whole text each: together most of this test's time.
    let view = views.get(args.url) ?? A.clone(handle.doc(), { actor: randomBytes(16).toString("hex") });
    const hashes: string[] = [];
    const made: Uint8Array[] = [];
    for (const txn of args.txns) {
      const parents = txn.parents.map((p) => (typeof p === "string" ? p : traceHashes.get(p)!));
      // The other writer's work must have reached this host (the writer's own is in the copy).
      const foreign = parents.filter((h) => !A.hasHeads(view, [h]));
      if (!A.hasHeads(handle.doc(), foreign)) await waitForHeads(handle, foreign, 60_000);
      view = atVersion(view, handle.doc(), parents);
      const apply = (d: WriterDocument) => {
        for (const [pos, del, ins] of txn.patches) A.splice(d, TEXT_PATH, pos + 1, del, ins);
      };
      view = sameHeads(A.getHeads(view), parents) ? A.change(view, apply) : A.changeAt(view, parents, apply).newDoc;
      const change = A.getLastLocalChange(view);
      if (!change) throw new Error(`transaction ${txn.index} made no change`);
      made.push(change);
      const hash = A.decodeChange(change).hash;
      traceHashes.set(txn.index, hash);
      hashes.push(hash);
    }
    views.set(args.url, view);
    handle.update((d) => A.applyChanges(d, made)[0]);
    return hashes;
  },
};

/** Each document's trace writer's own copy (traceTxns). */
const views = new Map<string, A.Doc<WriterDocument>>();

const sameHeads = (a: string[], b: string[]) => a.length === b.length && a.every((h) => b.includes(h));

/**
 * `view` with the changes of `source` that `heads` depend on and it lacks: the version
 * `heads` name, when `view` holds nothing they do not (the writer's own earlier
 * transactions, the other writer's that they had seen).
 */
function atVersion(view: A.Doc<WriterDocument>, source: A.Doc<WriterDocument>, heads: string[]): A.Doc<WriterDocument> {
  if (A.hasHeads(view, heads)) return view;
  const candidates = new Map(A.getChanges(view, source).map((c) => [A.decodeChange(c).hash, c] as const));
  const wanted: Uint8Array[] = [];
  const stack = heads.filter((h) => candidates.has(h));
  const seen = new Set<string>();
  while (stack.length > 0) {
    const hash = stack.pop()!;
    if (seen.has(hash)) continue;
    seen.add(hash);
    const change = candidates.get(hash)!;
    wanted.push(change);
    for (const dep of A.decodeChange(change).deps) if (candidates.has(dep)) stack.push(dep);
  }
  return A.applyChanges(view, wanted)[0];
}

/** Hashes of the trace transactions this host applied, by index. */
const traceHashes = new Map<number, string>();
