/**
 * An editor window without a browser: the renderer's own plugins (the sync plugin,
 * undo history, find and replace, the integrity check) on a document handle, kept open
 * across edits so that other writers' changes reach it as patches, as they reach a
 * window. Its plugin views run as ProseMirror's EditorView runs them; nothing is drawn.
 *
 * The integrity check (src/renderer/src/editor/integrity.ts) runs in strict mode after
 * every transaction: `mismatches` lists every time the editor's document differed from
 * the rendering of the Automerge document, with both texts.
 */
import type { DocHandle } from "@automerge/automerge-repo";
import { EditorState, type Plugin, type PluginView, type Transaction } from "prosemirror-state";
import type { EditorView } from "prosemirror-view";
import { history } from "prosemirror-history";
import { search } from "prosemirror-search";
import { schema, schemaAdapter } from "../../../src/shared/editor/schema";
import { TEXT_PATH, type WriterDocument } from "../../../src/shared/document";
import { writerSyncPlugin, type SyncStats } from "../../../src/renderer/src/editor/sync";
import { describeMismatch, integrityPlugin, renderDocument } from "../../../src/renderer/src/editor/integrity";
import type { EditTarget } from "./richEdits";

export class EditorWindow implements EditTarget {
  state: EditorState;
  /** Every drift the integrity check found, described with both texts. */
  readonly mismatches: string[] = [];
  isDestroyed = false;
  readonly #views: PluginView[];
  /** The sync plugin's counts: how often it set the editor right after a structural change. */
  readonly stats: SyncStats;

  readonly #rewrite: ((state: EditorState, tr: Transaction) => Transaction) | undefined;

  /**
   * `plugins` go between find and replace and the integrity check; `rewrite` changes each
   * transaction before it is applied, as the app's dispatchTransaction does (Suggesting mode).
   */
  constructor(
    readonly handle: DocHandle<WriterDocument>,
    options: { plugins?: Plugin[]; rewrite?: (state: EditorState, tr: Transaction) => Transaction } = {},
  ) {
    this.#rewrite = options.rewrite;
    const sync = writerSyncPlugin({ adapter: schemaAdapter, handle: handle as DocHandle<unknown>, path: TEXT_PATH });
    this.stats = sync.stats;
    const integrity = integrityPlugin({
      handle: handle as DocHandle<unknown>,
      mode: "strict",
      held: sync.held,
      onMismatch: (m) => this.mismatches.push(describeMismatch(m)),
      raise: () => undefined,
    });
    this.state = EditorState.create({ schema, doc: renderDocument(handle as DocHandle<unknown>), plugins: [sync.plugin, history(), search(), ...(options.plugins ?? []), integrity.plugin] });
    // As EditorView does: each plugin's view, told of every state after it.
    this.#views = this.state.plugins.flatMap((p) => (p.spec.view ? [p.spec.view(this as unknown as EditorView)] : []));
  }

  dispatch = (tr: Transaction): void => {
    if (this.isDestroyed) return;
    const prev = this.state;
    this.state = this.state.apply(this.#rewrite ? this.#rewrite(this.state, tr) : tr);
    for (const view of this.#views) view.update?.(this as unknown as EditorView, prev);
  };

  /** Closes the window: it stops listening to the document. */
  close(): void {
    this.isDestroyed = true;
    for (const view of this.#views) view.destroy?.();
  }
}
