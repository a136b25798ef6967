/**
 * Offline return: when this window comes back from being offline (no relay reachable,
 * or the app just started and is catching up), what other writers changed meanwhile is
 * highlighted in the text, and stays highlighted (moving with the text as anyone
 * edits) until the writer dismisses it.
 *
 * Each batch of others' changes that arrives in that time is located with Automerge's
 * own diff of the batch (shared/history.ts `changedText`), so what is highlighted is
 * exactly what the batch changed, never the writer's own offline edits.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { Plugin, PluginKey } from "prosemirror-state";
import { DecorationSet, type Decoration, type EditorView } from "prosemirror-view";
import type { SyncStatus } from "../../../shared/api";
import { TEXT_PATH, type WriterDocument } from "../../../shared/document";
import { authorOf, changedText } from "../../../shared/history";
import { changeDecorations, hasChanges } from "./highlights";

/**
 * After the relay is reachable again, others' changes arriving within this long count
 * as "made while you were offline"; each batch extends it by RETURN_QUIET_MS. The
 * catch-up arrives within a second or two of reconnecting (the host polls the relay
 * state every second); live typing after that is seen as it happens.
 */
const RETURN_WINDOW_MS = 8000;
const RETURN_QUIET_MS = 3000;

type Meta = { add: Decoration[] } | { clear: true };

const offlineReturnKey = new PluginKey<DecorationSet>("offlineReturn");

/** Holds the highlights and maps them through every later edit, so they stay on their words. */
export function offlineReturnPlugin(): Plugin<DecorationSet> {
  return new Plugin<DecorationSet>({
    key: offlineReturnKey,
    state: {
      init: () => DecorationSet.empty,
      apply(tr, set) {
        const meta = tr.getMeta(offlineReturnKey) as Meta | undefined;
        if (meta && "clear" in meta) return DecorationSet.empty;
        set = set.map(tr.mapping, tr.doc);
        return meta ? set.add(tr.doc, meta.add) : set;
      },
    },
    props: { decorations: (state) => offlineReturnKey.getState(state) },
  });
}

type ChangePayload = { doc: A.Doc<WriterDocument>; patchInfo: { before: A.Doc<WriterDocument>; after: A.Doc<WriterDocument> } };

/** Who changed the document while this window was away (names), and a way to dismiss the highlights. */
export function useOfflineReturn(handle: DocHandle<WriterDocument>, view: EditorView | null, connection: SyncStatus["connection"] | undefined): { who: string[]; dismiss: () => void } {
  const [who, setWho] = useState<string[]>([]);
  const away = useRef(false);
  const returningUntil = useRef(0);
  /** When the relay was reachable again, by this computer's clock. */
  const backAt = useRef(0);

  useEffect(() => {
    if (connection === "offline" || connection === "connecting") away.current = true;
    else if (connection === "connected" && away.current) {
      away.current = false;
      backAt.current = Date.now();
      returningUntil.current = Date.now() + RETURN_WINDOW_MS;
    }
  }, [connection]);

  useEffect(() => {
    if (!view) return;
    const mine = A.getActorId(handle.doc());
    // Runs after the editor's binding (which subscribed when the view was made) has put
    // the batch into the editor, so the document positions are those after it.
    const onChange = ({ patchInfo }: ChangePayload) => {
      if (!away.current && Date.now() > returningUntil.current) return;
      const before = A.getHeads(patchInfo.before);
      const after = A.getHeads(patchInfo.after);
      // Back online, a batch counts as "meanwhile" when it holds changes made before this
      // window was back (by their writers' clocks, in whole seconds): what others type
      // live right after a reconnection (or after joining a relay) is seen as it happens.
      // A writer whose clock is ahead may see a catch-up unhighlighted: only a highlight.
      const theirs = A.getChangesMetaSince(patchInfo.after, before).filter((c) => c.actor !== mine && (away.current || (c.time > 0 && c.time * 1000 < backAt.current)));
      if (theirs.length === 0) return;
      if (!away.current) returningUntil.current = Math.max(returningUntil.current, Date.now() + RETURN_QUIET_MS);
      const changes = changedText(patchInfo.after, before, after);
      if (!hasChanges(changes)) return;
      const set = changeDecorations(view.state.doc, A.spans(patchInfo.after, TEXT_PATH), changes, { inserted: "hl-theirs", removed: true });
      view.dispatch(view.state.tr.setMeta(offlineReturnKey, { add: set.find() } satisfies Meta).setMeta("addToHistory", false));
      const names = theirs.map((c) => authorOf(patchInfo.after.authors, c.actor)?.name ?? "Someone");
      setWho((prev) => [...new Set([...prev, ...names])]);
    };
    handle.on("change", onChange as never);
    return () => {
      handle.off("change", onChange as never);
    };
  }, [handle, view]);

  const dismiss = useCallback(() => {
    if (view) view.dispatch(view.state.tr.setMeta(offlineReturnKey, { clear: true } satisfies Meta).setMeta("addToHistory", false));
    setWho([]);
  }, [view]);

  return { who, dismiss };
}

/** "Bob", "Bob and Carol", "Bob, Carol and 2 others". */
export function namesList(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others`;
}
