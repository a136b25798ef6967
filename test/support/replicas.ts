// Host processes for one test file, and the check every fault row ends with: the same
// text and the same heads on every replica (hosts and relays' copies).
import type { AutomergeUrl, Repo } from "@automerge/automerge-repo";
import { afterEach } from "vitest";
import { plainText, type WriterDocument } from "../../src/shared/document";
import { HostProcess } from "./host";
import { eventually } from "./wait";

/** Starts host processes that are killed after each test, whatever its outcome. */
export function useHosts(): (name: string, dataDir?: string) => Promise<HostProcess> {
  const hosts: HostProcess[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.kill()));
  });
  return async (name, dataDir) => {
    const host = await HostProcess.start({ name, dataDir });
    hosts.push(host);
    return host;
  };
}

export interface Replica {
  text: string;
  /** Sorted. */
  heads: string[];
}

/** A document as a storage-less client of a relay sees it: the relay's copy. */
export async function relayCopy(client: Repo, url: string): Promise<Replica | null> {
  const handle = await client.find<WriterDocument>(url as AutomergeUrl).catch(() => null);
  if (!handle?.isReady()) return null;
  return { text: plainText(handle.doc()), heads: [...handle.heads()].sort() };
}

/**
 * Resolves once every host and every relay client has the same text and heads for
 * `url` (and returns them); fails with what each replica had when `timeoutMs` passes.
 */
export async function converged(url: string, hosts: HostProcess[], relays: Repo[] = [], timeoutMs = 30_000): Promise<Replica> {
  let last: (Replica | null)[] = [];
  try {
    return await eventually(async () => {
      last = await Promise.all([...hosts.map((h) => h.read(url).catch(() => null)), ...relays.map((r) => relayCopy(r, url))]);
      if (last.some((r) => r === null)) return undefined;
      const [first, ...rest] = last as Replica[];
      return rest.every((r) => r.text === first!.text && r.heads.join() === first!.heads.join()) ? first : undefined;
    }, timeoutMs, 250) as Replica;
  } catch (error) {
    throw new Error(`replicas did not converge: ${JSON.stringify(last, null, 1)}`, { cause: error });
  }
}

/** What the document must say after `starts` were typed at the start and `ends` at the end of `middle`, one at a time. */
export function expectedText(starts: string[], middle: string, ends: string[]): string {
  return [...starts].reverse().join("") + middle + ends.join("");
}
