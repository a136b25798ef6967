/**
 * The windows of bench/long-document/host.ts, in a thread of their own as a renderer is
 * in a process of its own: their Automerge work must not land on the host's thread,
 * which is what is measured. Two windows of the host, each a Repo on a MessagePort:
 * one types into the small document at `rate` keys a second, the other opens the long
 * document as the app does (the host's saved copy, loaded here, then sync).
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { next as A } from "@automerge/automerge";
import { Repo, type AutomergeUrl, type DocumentId, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { shareChangesFast } from "../../src/shared/sync/changeBroadcast";

export type ToWindows =
  | { t: "type"; url: string; rate: number; seconds: number }
  | { t: "open"; url: string; base64: string | null }
  | { t: "close" };
export type FromWindows = { t: "typed"; seq: number; at: number } | { t: "typing-done" } | { t: "opened"; at: number; chars: number; heads: string[] } | { t: "closed" };

type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];
const port = parentPort!;
const { typing, opening } = workerData as { typing: MessagePort; opening: MessagePort };
const wall = () => performance.timeOrigin + performance.now();
const post = (m: FromWindows) => port.postMessage(m);
const typist = new Repo({ network: [new MessageChannelNetworkAdapter(typing as unknown as Port)], peerId: "bench-window-typing" as PeerId });
const opener = new Repo({ network: [new MessageChannelNetworkAdapter(opening as unknown as Port)], peerId: "bench-window-opening" as PeerId });

port.on("message", async (m: ToWindows) => {
  if (m.t === "type") {
    const handle = await typist.find<WriterDocument>(m.url as AutomergeUrl);
    // As the app's renderer: each keystroke is broadcast as well as synced.
    shareChangesFast(handle);
    let seq = 0;
    const timer = setInterval(() => {
      seq++;
      handle.change((d) => A.splice(d, TEXT_PATH, 1, 0, "x"));
      post({ t: "typed", seq, at: wall() });
      if (seq >= m.rate * m.seconds) {
        clearInterval(timer);
        post({ t: "typing-done" });
      }
    }, 1000 / m.rate);
  } else if (m.t === "open") {
    // As src/renderer/src/savedDocument.ts: the saved copy, loaded here, then sync.
    const { url } = m;
    const documentId = url.slice("automerge:".length) as DocumentId;
    if (m.base64) {
      const doc = A.load<WriterDocument>(Buffer.from(m.base64, "base64"));
      const handle = opener.import<WriterDocument>(A.save(A.init()), { docId: documentId });
      handle.update(() => doc);
      handle.doneLoading();
    }
    const handle = await opener.find<WriterDocument>(url as AutomergeUrl);
    post({ t: "opened", at: wall(), chars: handle.doc().text.length, heads: A.getHeads(handle.doc()) });
  } else {
    await Promise.all([typist.shutdown(), opener.shutdown()]);
    post({ t: "closed" });
  }
});
