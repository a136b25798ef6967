/**
 * Presence for the open document: announces this window (name, colour, selection) to the
 * other windows and writers on the document, and keeps their cursors drawn in the editor
 * and their names in the toolbar. automerge-repo's Presence carries it (ephemeral messages,
 * forwarded by hosts and relays); a window that leaves says goodbye, and one that vanishes
 * is dropped after PEER_TTL_MS.
 */
import { useEffect, useRef, useState } from "react";
import { next as A } from "@automerge/automerge/slim";
import { Presence, type DocHandle } from "@automerge/automerge-repo/slim";
import type { EditorView } from "prosemirror-view";
import { TEXT_PATH, type WriterDocument } from "../../../shared/document";
import { cursorsToPositions, selectionToCursors, setRemoteCursors, type RemoteCursor } from "./cursors";
import { isValidPresenceMessage, parsePresence, type PresenceUser, type WriterPresence } from "./state";

/** Heartbeats every 2 s; a peer unheard for 7 s is gone ("gone within seconds"). */
const HEARTBEAT_MS = 2000;
const PEER_TTL_MS = 7000;
/** Selection updates are sent at most this often while the writer moves or types. */
const SELECTION_EVERY_MS = 80;

export interface Peer {
  peerId: string;
  user: PresenceUser;
}

/**
 * The handle as Presence sees it: ephemeral messages reach it only when they are valid
 * presence messages, so a hostile peer's message cannot throw inside Presence.
 */
function guardedHandle(handle: DocHandle<WriterDocument>): DocHandle<WriterDocument> {
  const wrapped = new Map<(...args: never[]) => void, (payload: { message: unknown }) => void>();
  return new Proxy(handle, {
    get(target, prop, receiver) {
      if (prop === "on" || prop === "off") {
        return (event: string, listener: (payload: { message: unknown }) => void) => {
          if (event !== "ephemeral-message") return (target[prop] as (e: string, l: unknown) => unknown).call(target, event, listener);
          let w = wrapped.get(listener);
          if (!w) {
            w = (payload) => {
              if (isValidPresenceMessage(payload.message)) listener(payload);
            };
            wrapped.set(listener, w);
          }
          return (target[prop] as (e: string, l: unknown) => unknown).call(target, event, w);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export function usePresence(handle: DocHandle<WriterDocument>, user: PresenceUser, view: EditorView | null, amIndexOf?: (pos: number) => number | null): { peers: Peer[]; selectionChanged: () => void } {
  const [peers, setPeers] = useState<Peer[]>([]);
  const selectionChanged = useRef<() => void>(() => undefined);

  useEffect(() => {
    if (!view) return;
    const presence = new Presence<WriterPresence, WriterDocument>({ handle: guardedHandle(handle) });
    presence.start({ initialState: { user, selection: null }, heartbeatMs: HEARTBEAT_MS, peerTtlMs: PEER_TTL_MS });

    let peerCount = 0;
    let lastSent = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sendSelection = () => {
      timer = undefined;
      if (peerCount === 0) return;
      const { anchor, head } = view.state.selection;
      const cursors = selectionToCursors(handle.doc(), anchor, head, amIndexOf);
      const key = JSON.stringify(cursors);
      if (key === lastSent) return;
      lastSent = key;
      presence.broadcast("selection", cursors);
    };
    selectionChanged.current = () => {
      // Cursors cost work (a pass over the text for a block not seen yet): only with someone to see them.
      if (peerCount > 0) timer ??= setTimeout(sendSelection, SELECTION_EVERY_MS);
    };

    const redraw = () => {
      const states = presence.getPeerStates().value;
      const list: Peer[] = [];
      const cursors: RemoteCursor[] = [];
      const doc = handle.doc();
      let spans: A.Span[] | null = null;
      for (const [peerId, state] of Object.entries(states)) {
        const p = parsePresence(state.value);
        if (!p) continue;
        list.push({ peerId, user: p.user });
        if (p.selection) {
          spans ??= A.spans(doc, TEXT_PATH);
          const pos = cursorsToPositions(doc, view.state.doc, p.selection, spans);
          if (pos) cursors.push({ peerId, user: p.user, ...pos });
        }
      }
      const arrived = list.length > peerCount;
      peerCount = list.length;
      setPeers(list.sort((a, b) => a.user.name.localeCompare(b.user.name)));
      view.dispatch(setRemoteCursors(view.state.tr, cursors));
      if (arrived) {
        lastSent = "";
        sendSelection();
      }
    };
    const events = ["update", "snapshot", "goodbye", "pruning"] as const;
    for (const e of events) presence.on(e, redraw);
    return () => {
      clearTimeout(timer);
      for (const e of events) presence.off(e, redraw);
      presence.stop();
      selectionChanged.current = () => undefined;
    };
    // A new name or colour starts presence again: the others get the new snapshot at once.
  }, [handle, view, user, amIndexOf]);

  return { peers, selectionChanged: () => selectionChanged.current() };
}
