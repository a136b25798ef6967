/**
 * Opening a document from the host's saved copy. The window's Repo keeps
 * nothing on disk: asked for a document it does not hold, it gets the whole history from
 * the host through sync, change by change, which for a long document costs several times
 * what loading its saved form does (bench/long-document has the figures). So before the
 * window's Repo asks, the host is asked for the document as its disk holds it, and the
 * window loads that; the sync that follows brings only what is newer.
 *
 * The saved copy is the host's own document, never a cache: if it cannot be loaded (or
 * the host does not have it), the document is asked for through sync alone.
 */
import { next as A } from "@automerge/automerge/slim";
import { isValidAutomergeUrl, parseAutomergeUrl, type Repo } from "@automerge/automerge-repo/slim";
import { decodeBase64 } from "./base64";

export type FetchSaved = () => Promise<{ base64: string } | null>;

/** Opens under way, by URL: a second ask waits for the first rather than racing it. */
const opening = new Map<string, Promise<void>>();

/**
 * Puts the host's saved copy of the document into the window's Repo, ready, unless the
 * Repo already has (or is already looking for) it. Resolves when done or given up;
 * never rejects. `Repo.find` afterwards returns the loaded handle.
 */
export function openSaved(repo: Repo, url: string, fetchSaved: FetchSaved): Promise<void> {
  const running = opening.get(url);
  if (running) return running;
  if (!isValidAutomergeUrl(url)) return Promise.resolve();
  const { documentId } = parseAutomergeUrl(url);
  if (repo.handles[documentId]) return Promise.resolve();
  const done = (async () => {
    const saved = await fetchSaved().catch(() => null);
    if (!saved || repo.handles[documentId]) return;
    let doc: A.Doc<unknown>;
    try {
      doc = A.load(decodeBase64(saved.base64));
      performance.mark("writer:document-loaded");
    } catch (error) {
      console.warn("the host's saved copy of the document did not load; asking for it through sync", error);
      return;
    }
    // Loaded first (a copy that does not load must not leave a broken handle behind),
    // then handed to the Repo in one task: import registers the handle for sync, the
    // update gives it the document, doneLoading makes it ready.
    if (repo.handles[documentId]) return;
    const handle = repo.import(A.save(A.init()), { docId: documentId });
    handle.update(() => doc);
    handle.doneLoading();
  })().finally(() => opening.delete(url));
  opening.set(url, done);
  return done;
}
