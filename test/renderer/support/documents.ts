import { next as A } from "@automerge/automerge";
import { Repo, type DocHandle } from "@automerge/automerge-repo";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../../src/shared/document";

/** A Writer document in a Repo of its own, titled "T", holding `text` in its one paragraph. */
export function documentWith(text: string): DocHandle<WriterDocument> {
  const handle = new Repo({ network: [] }).create<WriterDocument>();
  handle.change((d) => {
    initDocument(d, "T", 1);
    A.splice(d, TEXT_PATH, 1, 0, text);
  });
  return handle;
}
