/**
 * Extra commands for host processes in the P1 and P2 tests (loaded by host-child.ts
 * through HOST_CHILD_EXTENSION): editing through the editor's commands, replaying a
 * trace's transaction on the version it was written against, reading rich text.
 */
import { next as A } from "@automerge/automerge";
import { encodeHeads, type AutomergeUrl, type DocHandle } from "@automerge/automerge-repo";
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
    const hashes: string[] = [];
    for (const txn of args.txns) {
      const parents = txn.parents.map((p) => (typeof p === "string" ? p : traceHashes.get(p)!));
      if (!A.hasHeads(handle.doc(), parents)) await waitForHeads(handle, parents, 60_000);
      const apply = (d: WriterDocument) => {
        for (const [pos, del, ins] of txn.patches) A.splice(d, TEXT_PATH, pos + 1, del, ins);
      };
      const current = A.getHeads(handle.doc());
      if (current.length === parents.length && parents.every((h) => current.includes(h))) handle.change(apply);
      else handle.changeAt(encodeHeads(parents), apply);
      const change = A.getLastLocalChange(handle.doc());
      if (!change) throw new Error(`transaction ${txn.index} made no change`);
      const hash = A.decodeChange(change).hash;
      traceHashes.set(txn.index, hash);
      hashes.push(hash);
    }
    return hashes;
  },
};

/** Hashes of the trace transactions this host applied, by index. */
const traceHashes = new Map<number, string>();
