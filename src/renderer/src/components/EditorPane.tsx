import { startTransition, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { exportDocument, exportPdf, type ExportKind } from "../importExport";
import { listenForDesktopCommands } from "../desktopCommands";
import { FindBar } from "./FindBar";
import { CachedPage } from "./CachedPage";
import { usePresence } from "../presence/usePresence";
import type { EditorView } from "prosemirror-view";
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle, Repo } from "@automerge/automerge-repo/slim";
import { TextSelection, type EditorState, type Transaction } from "prosemirror-state";
import type { IntegrityMode, RenderCacheView, SyncStatus, UserProfile } from "../../../shared/api";
import { isWriterDocument, recordAuthor, TEXT_PATH, type WriterDocument } from "../../../shared/document";
import { countText, type TextCounts } from "../../../shared/counts";
import { countDocument } from "../editor/counts";
import { UNTITLED } from "../../../shared/library";
import { createEditor, isMac, type WriterEditor } from "../editor/setup";
import { useHandle } from "../useHandle";
import { openSaved } from "../savedDocument";
import { Toolbar } from "./Toolbar";
import { HeldFlag } from "../useSaveState";
import { SaveIndicator } from "./SaveIndicator";
import type { HostClient } from "../hostClient";
import { describeDocumentSync } from "../useSyncStatus";
import { HistoryPanel, type VersionChoice } from "../history/HistoryPanel";
import { VersionView } from "../history/VersionView";
import { namesList, useOfflineReturn } from "../history/offlineReturn";
import { nameVersion, restoreVersion, versionKey } from "../../../shared/history";
import { amSpliceIdxToPmIdx } from "@automerge/prosemirror/dist/traversal.js";
import { schemaAdapter } from "../../../shared/editor/schema";
import { placeOpeningTyping, takeOpeningTyping } from "../openingTyping";
import { useComments } from "../comments/useComments";
import { CommentsMargin } from "./CommentsMargin";
import { CommentsPanel } from "./CommentsPanel";
import { SuggestionsPanel } from "./SuggestionsPanel";

/** How long Ctrl+S's "Saved — Writer saves as you type" shows. */
const SAVED_FLASH_MS = 2500;

/** The toolbar follows the editor's state at most this often while the writer types. */
const TOOLBAR_DELAY_MS = 200;

/** Counts are recomputed at most this often, not on every keystroke. */
const COUNT_DELAY_MS = 250;

/** How often a document that is not here yet is asked for again. */
const RETRY_UNAVAILABLE_MS = 2000;

/**
 * The render cache is asked for before the document, so that its answer never waits
 * behind the host loading a long document; a host that does not answer within this
 * long is not waited for.
 */
const CACHE_WAIT_MS = 250;

export function EditorPane(props: {
  repo: Repo;
  host: HostClient;
  url: string;
  user: UserProfile;
  /** This writer across renames (Bootstrap.writerId): their author records carry it. */
  writerId: string;
  connected: boolean;
  storageOk: boolean;
  sync: SyncStatus | null;
  integrity: IntegrityMode;
  onCopyLink: () => void;
  onDuplicate: () => void;
  onTrash: (title: string) => void;
  onNotice: (message: string) => void;
}) {
  const [attempt, setAttempt] = useState(0);
  // First paint from the host's render cache, asked for before the document.
  const { host, url } = props;
  // The reopened document's cache is the one early.ts already painted: the document is
  // not held back for the host to answer again (it may be busy loading it).
  const [cache, setCache] = useState<{ url: string; view: RenderCacheView | null } | null>(() =>
    window.writerEarlyPaint && url === window.writerReopening ? { url, view: window.writerEarlyPaint } : null,
  );
  useEffect(() => {
    let live = true;
    // The answer always counts (a late cache still paints until the document is here);
    // the timeout only stops the document from waiting for it.
    const settle = (view: RenderCacheView | null, late: boolean) => live && setCache((c) => (c?.url === url && (late || c.view) ? c : { url, view }));
    const timer = setTimeout(() => settle(null, true), CACHE_WAIT_MS);
    host.call("renderCache", { url }).then(
      (view) => settle(view, false),
      () => settle(null, true),
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [host, url]);
  const cacheAsked = cache?.url === url;
  // Only the title is rendered from here; the text reaches ProseMirror through the
  // binding. Selecting it keeps React out of every keystroke's frame (bench/typing).
  // Loaded from the host's saved copy when the window does not have it yet (savedDocument.ts).
  const beforeFind = useCallback((u: string) => openSaved(props.repo, u, () => host.call("savedDocument", { url: u })), [props.repo, host]);
  const doc = useHandle<WriterDocument, string | null | false>(props.repo, cacheAsked ? url : null, { attempt, select: titleOf, beforeFind });
  // "It opens once it arrives": a shared document the host is still fetching from the
  // relay is asked for again every few seconds, as long as it is on screen.
  const unavailable = doc.status === "unavailable";
  useEffect(() => {
    if (!unavailable) return;
    const timer = setTimeout(() => setAttempt((n) => n + 1), RETRY_UNAVAILABLE_MS);
    return () => clearTimeout(timer);
  }, [unavailable, attempt]);
  if (doc.status === "loading") {
    // A cache that came late (after the timeout) still paints, until the document is here.
    if (cacheAsked && cache.view) return <CachedPage url={url} view={cache.view} />;
    return <div className="pane-loading" aria-busy="true">Opening…</div>;
  }
  if (doc.status === "unavailable")
    return (
      <div className="empty-pane" role="status">
        <p className="empty-title">This document is not here yet.</p>
        <p className="empty-hint">It is not on this computer, and no connected relay has it. It opens once it arrives: check that you use the same relay as the person who shared it.</p>
        <button className="primary" onClick={() => setAttempt((n) => n + 1)}>
          Try again
        </button>
      </div>
    );
  if (doc.doc === false) return <LibraryLinkPane host={host} url={url} />;
  if (doc.doc === null) return <div className="fatal">This document was made by a newer version of Writer, or is damaged.</div>;
  return <LoadedEditor {...props} handle={doc.handle} title={doc.doc} />;
}

/** "1,204 words · 6,810 characters", or with a selection "12 of 1,204 words · 61 of 6,810 characters". */
function describeCounts(all: TextCounts, selected: TextCounts | null): string {
  const part = (n: number, of: number, one: string, many: string) => (selected ? `${n.toLocaleString()} of ${of.toLocaleString()} ${of === 1 ? one : many}` : `${of.toLocaleString()} ${of === 1 ? one : many}`);
  return `${part(selected?.words ?? 0, all.words, "word", "words")} · ${part(selected?.characters ?? 0, all.characters, "character", "characters")}`;
}

/** The title; false for a library (its link was opened as a document's); null for anything else. */
function titleOf(doc: WriterDocument): string | null | false {
  if (isWriterDocument(doc)) return doc.title;
  const documents = (doc as { documents?: unknown } | undefined)?.documents;
  return documents && typeof documents === "object" ? false : null;
}

/**
 * A library's link pasted where a document's goes: a sound link of the wrong kind, not a
 * damaged one.
 * Offers what the writer most likely meant: to use that library on this device.
 */
function LibraryLinkPane({ host, url }: { host: HostClient; url: string }) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  return (
    <div className="empty-pane" role="status">
      <p className="empty-title">This is a library link, not a document’s.</p>
      <p className="empty-hint">It lists the documents of a Writer library, such as yours on another device. Use it to see the same library here; your documents on this device stay and join it.</p>
      <div className="dialog-actions">
        <button
          className="primary"
          disabled={state.busy}
          onClick={() => {
            setState({ busy: true, error: null });
            // The host leaves the library's own entry out of what it adopts.
            void host.call("linkLibrary", { url }).then(
                () => window.location.reload(),
                (e: unknown) => setState({ busy: false, error: (e as Error).message }),
              );
          }}
        >
          {state.busy ? "Linking…" : "Use this library on this device"}
        </button>

      </div>
      {state.error && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
    </div>
  );
}

function LoadedEditor({
  handle,
  url,
  host,
  title,
  user,
  writerId,
  connected,
  storageOk,
  sync,
  integrity,
  onCopyLink,
  onDuplicate,
  onTrash,
  onNotice,
}: {
  handle: DocHandle<WriterDocument>;
  url: string;
  host: HostClient;
  title: string;
  user: UserProfile;
  writerId: string;
  connected: boolean;
  storageOk: boolean;
  sync: SyncStatus | null;
  integrity: IntegrityMode;
  onCopyLink: () => void;
  onDuplicate: () => void;
  onTrash: (title: string) => void;
  onNotice: (message: string) => void;
}) {
  const mountRef = useRef<HTMLDivElement>(null);
  const editorRef = useRef<WriterEditor | null>(null);
  const [state, setState] = useState<EditorState | null>(null);
  const [counts, setCounts] = useState<TextCounts>({ words: 0, characters: 0 });
  const [linkRequest, setLinkRequest] = useState(0);
  const [find, setFind] = useState<{ replace: boolean } | null>(null);
  const [view, setView] = useState<EditorView | null>(null);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [held] = useState(() => new HeldFlag());
  const [preview, setPreview] = useState<VersionChoice | null>(null);
  const presence = usePresence(handle, user, view, view ? editorRef.current?.amIndexOf : undefined);
  const offlineReturn = useOfflineReturn(handle, view, sync?.connection);
  const commentAuthor = useMemo(() => ({ name: user.name, writer: writerId }), [user.name, writerId]);
  const commentEditor = useMemo(() => (view && editorRef.current ? { view, flush: editorRef.current.flush, held: editorRef.current.held } : null), [view]);
  const comments = useComments(handle, commentEditor, commentAuthor, onNotice);
  const [commentsPanel, setCommentsPanel] = useState(false);
  // Alone, typing is grouped into one change per burst; with anyone else here, each
  // keystroke is committed (and broadcast) at once, as real time needs.
  const alone = presence.peers.length === 0;
  useEffect(() => {
    if (view) editorRef.current?.setGrouping(alone);
  }, [alone, view]);
  const selectionChanged = useRef(presence.selectionChanged);
  selectionChanged.current = presence.selectionChanged;
  const authorRecorded = useRef(false);
  // The editor outlives renders; the latest notice callback is the one it calls.
  const noticeRef = useRef(onNotice);
  noticeRef.current = onNotice;

  // History will name who wrote what: the first local edit records this window's actor,
  // with the writer's ID, so that a rename later names all their sessions.
  const noteAuthor = useCallback(() => {
    if (authorRecorded.current) return;
    authorRecorded.current = true;
    const actor = A.getActorId(handle.doc());
    const known = handle.doc().authors?.[actor];
    if (!known || known.name !== user.name || known.color !== user.color || known.writer !== writerId) {
      handle.change((d) => {
        d.authors ??= {};
        recordAuthor(d, actor, { ...user, writer: writerId, at: Date.now() });
      });
    }
  }, [handle, user, writerId]);
  // The editor calls the latest one: a rename must not remount the editor (that would
  // drop its undo history and its Suggesting mode).
  const noteAuthorRef = useRef(noteAuthor);
  noteAuthorRef.current = noteAuthor;
  // Renamed (or recoloured) while the document is open: where this writer has written
  // before, the history shows the new name at once, for everyone.
  const recordedAs = useRef(user);
  useEffect(() => {
    if (recordedAs.current === user) return;
    recordedAs.current = user;
    authorRecorded.current = false;
    const authors = handle.doc().authors ?? {};
    if (Object.values(authors).some((a) => (a as { writer?: string } | null)?.writer === writerId)) noteAuthor();
  }, [user, writerId, handle, noteAuthor]);

  useEffect(() => {
    const mount = mountRef.current;
    if (!mount) return;
    let countTimer: ReturnType<typeof setTimeout> | undefined;
    let latest: EditorState;
    let toolbarTimer: ReturnType<typeof setTimeout> | undefined;
    let fastSeen = 0;
    // What the writer typed on the opening page goes into the document before the editor
    // reads it (openingTyping.ts); the caret stays where the writer left it.
    const typed = takeOpeningTyping(url);
    let caret: number | null = null;
    if (typed && typed.splices.length > 0) {
      noteAuthorRef.current();
      const placed = placeOpeningTyping(handle, typed);
      if ("failed" in placed) noticeRef.current(`What you typed while the document opened could not be added to it, so here it is to copy: “${placed.failed}”`);
      else caret = placed.caret;
    }
    const editor = createEditor(mount, handle, {
      onState: (s) => {
        if (latest && (s.selection !== latest.selection || s.doc !== latest.doc)) selectionChanged.current();
        latest = s;
        // While the writer types, the toolbar's active states follow at most every
        // TOOLBAR_DELAY_MS, so that keystrokes' frames do not wait for React; anything
        // else (a click on Bold, a new selection) shows at once.
        const typing = editorRef.current !== null && editorRef.current.stats.fast !== fastSeen;
        fastSeen = editorRef.current?.stats.fast ?? 0;
        if (!typing) {
          clearTimeout(toolbarTimer);
          toolbarTimer = undefined;
          setState(s);
        } else {
          toolbarTimer ??= setTimeout(() => {
            toolbarTimer = undefined;
            startTransition(() => setState(latest));
          }, TOOLBAR_DELAY_MS);
        }
        // Throttled, not debounced: a writer typing without pause still sees the count move.
        // Only edited blocks are counted again (countDocument), and that runs when the
        // browser is idle, so it never sits between a keystroke and its frame.
        countTimer ??= setTimeout(() => {
          requestIdleCallback(
            () => {
              countTimer = undefined;
              setCounts(countDocument(latest.doc));
            },
            { timeout: 1000 },
          );
        }, COUNT_DELAY_MS);
      },
      onLinkRequest: () => setLinkRequest((n) => n + 1),
      // The save indicator says "Saving…" while typing is held for its burst's change,
      // from the keystroke that starts the burst: "Saved" never shows over typing the
      // host does not have. Only the indicator renders (SaveIndicator).
      onHeld: held.set,
      integrity,
      onPasteNote: (message) => noticeRef.current(message),
      // The editor showed something that is not the document and was re-rendered from
      // it: the host's log keeps where and after what (never the text).
      onDrift: (m) => void host.call("reportDrift", { url: handle.url, at: m.at, after: m.after.slice(0, 500) }).catch(() => undefined),
    });
    // Local edits (not remote patches, which never enter the undo history) record the author.
    const dispatch = editor.view.props.dispatchTransaction!;
    editor.view.setProps({
      dispatchTransaction(tr: Transaction) {
        // Panels and timers may hold this view a moment after it was destroyed (a rename
        // remounts the editor); what they send then is view state, for a view that is gone.
        if (editor.view.isDestroyed) return;
        dispatch.call(editor.view, tr);
        if (tr.docChanged && tr.getMeta("addToHistory") !== false) noteAuthorRef.current();
      },
    });
    setCounts(countDocument(editor.view.state.doc));
    editorRef.current = editor;
    setView(editor.view);
    // Benchmarks and end-to-end tests wait for this: the document is on screen and editable.
    mount.dataset.ready = "true";
    performance.mark("writer:editor-ready", { detail: { url: handle.url } });
    const caretPos = caret === null ? null : amSpliceIdxToPmIdx(schemaAdapter, A.spans(handle.doc(), TEXT_PATH), caret);
    if (caretPos !== null) editor.view.dispatch(editor.view.state.tr.setSelection(TextSelection.near(editor.view.state.doc.resolve(Math.min(caretPos, editor.view.state.doc.content.size)))).setMeta("addToHistory", false));
    // The text, as before the opening page; an untitled document's title, unless the writer was typing in its text.
    if (title || typed?.focused) editor.view.focus();
    else document.querySelector<HTMLInputElement>(".title-input")?.focus();
    return () => {
      clearTimeout(countTimer);
      clearTimeout(toolbarTimer);
      setView(null);
      editor.destroy();
      editorRef.current = null;
    };
    // The editor lives as long as this document is open; title changes do not remount it.
  }, [handle, url, host, integrity]);

  const onTitle = (value: string) => {
    handle.change((d) => A.updateText(d, ["title"], value));
    noteAuthor();
  };

  useEffect(() => {
    document.title = `${title || UNTITLED} — Writer`;
  }, [title]);

  const print = useCallback(
    () =>
      exportPdf(title).then(
        (saved) => saved && onNotice(`Saved “${saved}”.`),
        (e: unknown) => onNotice((e as Error).message),
      ),
    [title, onNotice],
  );
  const [savedFlash, setSavedFlash] = useState(0);
  useEffect(() => {
    if (!savedFlash) return;
    const timer = setTimeout(() => setSavedFlash(0), SAVED_FLASH_MS);
    return () => clearTimeout(timer);
  }, [savedFlash]);

  // Ctrl/⌘+F finds, Ctrl+H (⌘⌥F on a Mac) finds and replaces, Ctrl+P prints, and Ctrl+S
  // says that saving is automatic, wherever focus is in the pane.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = isMac ? e.metaKey : e.ctrlKey;
      if (!mod || e.shiftKey) return;
      const key = e.key.toLowerCase();
      const replace = isMac ? key === "f" && e.altKey : key === "h" && !e.altKey;
      if ((key === "f" && !e.altKey) || replace) {
        e.preventDefault();
        setFind({ replace });
      } else if (key === "s" && !e.altKey) {
        e.preventDefault();
        // Nothing to save by hand; held typing is committed now all the same.
        editorRef.current?.flush();
        setSavedFlash(Date.now());
      } else if (key === "p" && !e.altKey) {
        e.preventDefault();
        void print();
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [print]);

  // The desktop menu's items about this document (desktopCommands.ts).
  const exportAs = useCallback(
    (kind: ExportKind) => {
      if (!editorRef.current) return;
      editorRef.current.flush();
      exportDocument(kind, handle, editorRef.current.view.state.doc, title);
    },
    [handle, title],
  );
  useEffect(
    () =>
      listenForDesktopCommands((c) => {
        if (c.command === "find" || c.command === "replace") setFind({ replace: c.command === "replace" });
        else if (c.command === "print") void print();
        else if (c.command === "export-docx") exportAs("docx");
        else if (c.command === "export-markdown") exportAs("markdown");
        else if (c.command === "export-html") exportAs("html");
        else if (c.command === "export-html-comments") exportAs("html-comments");
        else if (c.command === "export-text") exportAs("text");
        else if (c.command === "export-backup") exportAs("backup");
      }),
    [print, exportAs],
  );

  const closePreview = useCallback(() => {
    setPreview(null);
    editorRef.current?.view.focus();
  }, []);

  // A restore is an ordinary change on top of the history (nothing is rewritten), so it
  // syncs like any edit; its message names the version it brought back.
  const restore = (version: VersionChoice) => {
    editorRef.current?.flush();
    noteAuthor();
    handle.change((d) => restoreVersion(d, A.view(handle.doc(), version.heads) as WriterDocument), { message: `Restored the version of ${version.when}` });
    setPreview(null);
    onNotice(`Restored the version of ${version.when}. The text it replaced is still in the history.`);
  };

  const name = (heads: string[], value: string) => {
    editorRef.current?.flush();
    noteAuthor();
    handle.change((d) => nameVersion(d, heads, value, Date.now()));
  };

  const relayLabel = describeDocumentSync(sync);

  return (
    <div className="editor-pane">
      {state && editorRef.current && !preview && (
        <Toolbar
          view={editorRef.current.view}
          state={state}
          linkRequest={linkRequest}
          onCopyLink={onCopyLink}
          onDuplicate={onDuplicate}
          onTrash={() => onTrash(title)}
          onExport={exportAs}
          onPrint={() => void print()}
          onHistory={() => {
            editorRef.current?.flush();
            setHistoryOpen((o) => !o);
          }}
          historyOpen={historyOpen}
          peers={presence.peers}
          comments={{ onComment: () => void (comments.startComment() || onNotice("Select the words to comment on first.")), onPanel: () => setCommentsPanel((o) => !o), panelOpen: commentsPanel }}
        />
      )}
      {offlineReturn.who.length > 0 && !preview && (
        <div className="return-bar" role="status" data-testid="offline-return">
          <span>
            While you were offline, <strong>{namesList(offlineReturn.who)}</strong> changed this document. Their changes are highlighted.
          </span>
          <button className="link-button" onClick={offlineReturn.dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {find && !preview && state && editorRef.current && <FindBar view={editorRef.current.view} state={state} withReplace={find.replace} onClose={() => setFind(null)} />}
      <div className="editor-body">
        {preview && (
          <VersionView
            key={versionKey(preview.heads)}
            handle={handle}
            version={preview}
            onRestore={() => restore(preview)}
            onName={(value) => name(preview.heads, value)}
            onClose={closePreview}
          />
        )}
        <div className="scroller" hidden={preview !== null}>
          <div className="page-row">
          <article className="page">
            <input
              className="title-input"
              aria-label="Title"
              placeholder={UNTITLED}
              value={title}
              maxLength={500}
              onChange={(e) => onTitle(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === "ArrowDown") {
                  e.preventDefault();
                  editorRef.current?.view.focus();
                }
              }}
            />
            <div ref={mountRef} className="editor-mount" data-document={handle.url} />
          </article>
          {view && state && <CommentsMargin model={comments} view={view} state={state} showThreads={!commentsPanel} />}
          </div>
        </div>
        {commentsPanel && !preview && <CommentsPanel model={comments} onClose={() => setCommentsPanel(false)} />}
        {view && state && !preview && <SuggestionsPanel view={view} state={state} who={{ name: user.name, writer: writerId }} authors={handle.doc()?.authors} />}
        {historyOpen && (
          <HistoryPanel
            handle={handle}
            selected={preview ? versionKey(preview.heads) : null}
            onSelect={(choice) => (choice ? setPreview(choice) : closePreview())}
            onClose={() => {
              setHistoryOpen(false);
              closePreview();
            }}
            onName={name}
          />
        )}
      </div>
      <footer className="statusbar" aria-label="Document status">
        <span data-testid="counts">{describeCounts(counts, state && !state.selection.empty ? countText(state.doc.textBetween(state.selection.from, state.selection.to, "\n", " ")) : null)}</span>
        <span className="statusbar-right">
          <SaveIndicator handle={handle as DocHandle<unknown>} host={host} connected={connected} storageOk={storageOk} held={held} flash={savedFlash !== 0} />
          {relayLabel && (
            <span className={`relay-state ${sync?.document === "on-relay" ? "relay-on" : ""}`} data-testid="relay-state">
              {relayLabel}
            </span>
          )}
        </span>
      </footer>
    </div>
  );
}
