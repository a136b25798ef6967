import type { Message, NetworkAdapterInterface } from "@automerge/automerge-repo/slim";

/**
 * Makes `adapter` send only this peer's own ephemeral messages: for a Repo at the end of
 * the line (a window, whose one peer is its host).
 *
 * automerge-repo forwards every ephemeral message it receives to each of its peers except
 * the message's author. A window's only peer is its host, so it handed every keystroke
 * and presence beat a collaborator broadcast straight back to the host that had just
 * delivered it: seven echoes per keystroke at eight typists, each crossing IPC and
 * decoded by the host only to be dropped as seen (bench/propagation counts them). Nothing
 * behind a window can need them, so they are not sent.
 */
export function leafPeer<A extends NetworkAdapterInterface>(adapter: A): A {
  const send = adapter.send.bind(adapter);
  adapter.send = (message: Message) => {
    if (message.type === "ephemeral" && message.senderId !== adapter.peerId) return;
    send(message);
  };
  return adapter;
}
