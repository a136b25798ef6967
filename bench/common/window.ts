// A stand-in for one of the app's windows, in the host's process and thread: what the
// renderer does to a document, without React or a DOM. A Repo in memory (the renderer's has
// no storage) connected to the real Host through a MessageChannel (as Electron's MessagePort),
// the change broadcast (the fast path, src/shared/sync/changeBroadcast.ts), and a ProseMirror
// EditorState with Writer's sync plugin (src/renderer/src/editor/sync.ts: the
// @automerge/prosemirror binding, patched, and the grouping of a lone writer's typing into
// one change per burst) on a virtual clock.
//
// Not included: the EditorView and its DOM (so changes from elsewhere reach the window's
// Repo and document, not its editor state: the binding dispatches them to a view), React, the integrity check, the window's
// render-cache first paint, and the process boundary (the window runs on the host's thread,
// so its CPU and memory count with the host's). Line breaks of a trace are typed as
// characters of the one paragraph, as bench/long-document does (Enter is a structural edit
// that the binding handles at a cost linear in the document).
import { MessageChannel } from "node:worker_threads";
import { Repo, type AutomergeUrl, type DocHandle, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import { next as A } from "@automerge/automerge";
import { init } from "@automerge/prosemirror";
import { EditorState, TextSelection } from "prosemirror-state";
import type { Host } from "../../src/host/Host";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { schema, schemaAdapter } from "../../src/shared/editor/schema";
import { shareChangesFast } from "../../src/shared/sync/changeBroadcast";
import { TYPING_GROUP, writerSyncPlugin } from "../../src/renderer/src/editor/sync";
import type { Edit } from "./trace";
import { VirtualClock } from "./trace";

type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];

export class EditorWindow {
  readonly clock: VirtualClock;
  readonly repo: Repo;
  readonly handle: DocHandle<WriterDocument>;
  #state: EditorState;
  readonly #sync: ReturnType<typeof writerSyncPlugin>;
  readonly #stop: () => void;

  private constructor(repo: Repo, handle: DocHandle<WriterDocument>, clock: VirtualClock) {
    this.repo = repo;
    this.handle = handle;
    this.clock = clock;
    this.#stop = shareChangesFast(handle);
    this.#sync = writerSyncPlugin({
      adapter: schemaAdapter,
      handle: handle as DocHandle<unknown>,
      path: TEXT_PATH,
      grouping: { ...TYPING_GROUP, now: clock.now, setTimer: clock.setTimer, clearTimer: clock.clearTimer },
    });
    this.#state = EditorState.create({ schema, doc: init(handle as DocHandle<unknown>, TEXT_PATH, { schemaAdapter }).pmDoc, plugins: [this.#sync.plugin] });
  }

  /** Connects a window to `host` and opens `url` in it (through sync, as a new document is). */
  static async open(host: Host, url: string, name = "window"): Promise<EditorWindow> {
    const channel = new MessageChannel();
    host.connect(new MessageChannelNetworkAdapter(channel.port1 as unknown as Port));
    const repo = new Repo({ network: [new MessageChannelNetworkAdapter(channel.port2 as unknown as Port)], peerId: `${name}-${process.pid}` as PeerId });
    const handle = await repo.find<WriterDocument>(url as AutomergeUrl);
    return new EditorWindow(repo, handle, new VirtualClock());
  }

  /**
   * The same editor on a Repo of its own, with no host and no network: what the editor and
   * the binding cost without sync and storage.
   */
  static detached(title: string): EditorWindow {
    const repo = new Repo({ network: [] });
    const handle = repo.create<WriterDocument>();
    handle.change((d) => initDocument(d, title, 0));
    return new EditorWindow(repo, handle, new VirtualClock());
  }

  /** Automerge changes the window has made (one per burst of typing). */
  get commits(): number {
    return this.#sync.stats.commits;
  }

  /** The editor's text (the one paragraph's), and its length. */
  get state(): EditorState {
    return this.#state;
  }

  /** Types `edit` at `at` on the writer's clock (ms); the grouping's timers due by then run first. */
  type(edit: Edit, at: number): void {
    this.clock.advanceTo(at);
    // Position 1 is the start of the one paragraph's text.
    const from = 1 + edit.pos;
    let tr = this.#state.tr.setSelection(TextSelection.create(this.#state.doc, from, from + edit.del));
    tr = edit.ins ? tr.insertText(edit.ins) : tr.deleteSelection();
    this.#state = this.#state.apply(tr);
  }

  /** Commits held typing now (as blur or quitting does). */
  flush(): void {
    this.#sync.flush();
  }

  heads(): string[] {
    return A.getHeads(this.handle.doc());
  }

  async close(): Promise<void> {
    this.flush();
    this.#stop();
    await this.repo.shutdown();
  }
}

/** Waits until the host says every change of `heads` is on its disk (confirmSaved). */
export async function untilSaved(host: Host, url: string, heads: string[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await host.handle({ method: "confirmSaved", url, heads });
    if (answer.ok && (answer.value as { saved: boolean }).saved) return;
    if (Date.now() > deadline) throw new Error(`the host did not have ${url} at the window's heads on disk within ${timeoutMs} ms: ${JSON.stringify(answer)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Creates a document through the host API, as the library's "New" does. */
export async function createDocument(host: Host, title: string): Promise<string> {
  const created = await host.handle({ method: "createDocument", title });
  if (!created.ok) throw new Error(created.error.message);
  return (created.value as { url: string }).url;
}
