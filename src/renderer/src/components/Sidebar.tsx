import { useEffect, useRef, useState, type ReactNode } from "react";
import type { SearchHit, SyncStatus } from "../../../shared/api";
import { activeEntries, trashedEntries, UNTITLED, type LibraryDocument, type LibraryEntry } from "../../../shared/library";
import { relativeTime } from "../time";
import { describeSync } from "../useSyncStatus";
import { IMPORT_ACCEPT } from "../importExport";

interface Actions {
  create(): Promise<string>;
  restore(url: string): Promise<void>;
  deleteForever(url: string): Promise<void>;
  emptyTrash(): Promise<void>;
  search(query: string): Promise<SearchHit[]>;
}

export function Sidebar({
  library,
  openUrl,
  onOpen,
  actions,
  onError,
  sync,
  onSettings,
  onRetry,
  top,
  onOpenLink,
  onImport,
}: {
  library: LibraryDocument;
  openUrl: string | null;
  onOpen: (url: string) => void;
  actions: Actions;
  onError: (e: unknown) => void;
  sync: SyncStatus | null;
  onSettings: () => void;
  /** Shown under the header (the first-use name card). */
  top?: ReactNode;
  /** Tries the relays again now. */
  onRetry: () => void;
  onOpenLink: () => void;
  onImport: (file: File) => void;
}) {
  const importInput = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [showTrash, setShowTrash] = useState(false);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);

  // Search titles and full text in the host, a moment after the writer stops typing.
  useEffect(() => {
    if (query.trim() === "") {
      setHits(null);
      return;
    }
    let cancelled = false;
    const t = setTimeout(() => {
      actions.search(query).then((h) => !cancelled && setHits(h), onError);
    }, 120);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [query, actions, onError]);

  const active = activeEntries(library);
  const trashed = trashedEntries(library);

  return (
    <aside className="sidebar" aria-label="Library">
      <div className="sidebar-head">
        <span className="brand">Writer</span>
        <button className="primary small" onClick={() => actions.create().catch(onError)} title="New document" aria-label="New document">
          + New
        </button>
      </div>
      {top}
      <div className="search">
        <input
          type="search"
          placeholder="Search titles and text"
          aria-label="Search documents"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => e.key === "Escape" && setQuery("")}
        />
      </div>
      <nav className="doc-list" aria-label={showTrash ? "Trash" : hits ? "Search results" : "Documents"}>
        {showTrash ? (
          <TrashList entries={trashed} actions={actions} onError={onError} now={now} />
        ) : hits ? (
          hits.length === 0 ? (
            <p className="list-empty">Nothing matches “{query}”.</p>
          ) : (
            hits.map((hit) => (
              <button key={hit.url} className={`doc-item ${hit.url === openUrl ? "selected" : ""}`} onClick={() => onOpen(hit.url)}>
                <span className="doc-title" title={hit.title || UNTITLED}>{hit.title || UNTITLED}</span>
                <span className="doc-snippet">
                  <Highlighted text={hit.context} match={hit.match} />
                </span>
              </button>
            ))
          )
        ) : active.length === 0 ? (
          <p className="list-empty">No documents yet.</p>
        ) : (
          active.map((e) => <DocItem key={e.url} entry={e} selected={e.url === openUrl} onOpen={onOpen} now={now} />)
        )}
      </nav>
      <div className="sidebar-foot">
        <SyncLine sync={sync} onClick={onSettings} onRetry={onRetry} />
        <div className="foot-actions">
          <button className={`link-button ${showTrash ? "active" : ""}`} onClick={() => setShowTrash((s) => !s)}>
            {showTrash ? "← Back to documents" : `Trash${trashed.length ? ` (${trashed.length})` : ""}`}
          </button>
          <button className="link-button" onClick={onOpenLink}>
            Open a link…
          </button>
          <button className="link-button" onClick={() => importInput.current?.click()}>
            Import…
          </button>
          <input
            ref={importInput}
            type="file"
            hidden
            accept={IMPORT_ACCEPT}
            aria-label="Import a file"
            data-testid="import-file"
            data-import-input
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = "";
              if (file) onImport(file);
            }}
          />
          <button className="link-button" onClick={onSettings}>
            Settings
          </button>
        </div>
      </div>
    </aside>
  );
}

/**
 * Where the writer's changes are, in one line; the details show on hover and in
 * Settings. While offline, the seconds until the next attempt count down, and "Try now"
 * tries at once.
 */
function SyncLine({ sync, onClick, onRetry }: { sync: SyncStatus | null; onClick: () => void; onRetry: () => void }) {
  const waiting = sync?.connection === "offline" && sync.retryAt !== null;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!waiting) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [waiting, sync?.retryAt]);
  const { tone, text, detail } = describeSync(sync, now);
  if (!sync) return null;
  return (
    <div className="sync-row">
      <button className={`sync-line sync-${tone}`} onClick={onClick} title={detail ?? text} aria-label={`Sync: ${text}${detail ? `. ${detail}` : ""}`}>
        <span data-testid="sync-status">{text}</span>
        {/* Why it cannot sync, and when it tries again, are the writer's to read without hovering. */}
        {(tone === "error" || waiting) && detail && (
          <span className="sync-why" data-testid="sync-detail">
            {detail}
          </span>
        )}
      </button>
      {waiting && (
        <button className="link-button small" onClick={onRetry}>
          Try now
        </button>
      )}
    </div>
  );
}

function DocItem({ entry, selected, onOpen, now }: { entry: LibraryEntry; selected: boolean; onOpen: (url: string) => void; now: number }) {
  return (
    <button className={`doc-item ${selected ? "selected" : ""}`} onClick={() => onOpen(entry.url)} aria-current={selected ? "page" : undefined}>
      <span className="doc-title" title={entry.title || UNTITLED}>{entry.title || UNTITLED}</span>
      <span className="doc-snippet">{entry.snippet || "Empty"}</span>
      <span className="doc-meta">
        {relativeTime(entry.updatedAt, now)} · {entry.words} {entry.words === 1 ? "word" : "words"}
      </span>
    </button>
  );
}

function TrashList({ entries, actions, onError, now }: { entries: LibraryEntry[]; actions: Actions; onError: (e: unknown) => void; now: number }) {
  const [confirming, setConfirming] = useState(false);
  if (entries.length === 0) return <p className="list-empty">The trash is empty.</p>;
  return (
    <>
      {entries.map((e) => (
        <div key={e.url} className="doc-item trashed">
          <span className="doc-title" title={e.title || UNTITLED}>{e.title || UNTITLED}</span>
          <span className="doc-meta">Deleted {relativeTime(e.trashedAt ?? 0, now)}</span>
          <span className="trash-actions">
            <button className="link-button" onClick={() => actions.restore(e.url).catch(onError)}>
              Restore
            </button>
            <button className="link-button danger" onClick={() => actions.deleteForever(e.url).catch(onError)}>
              Delete forever
            </button>
          </span>
        </div>
      ))}
      <div className="empty-trash">
        {confirming ? (
          <>
            <span>Delete {entries.length === 1 ? "this document" : `all ${entries.length} documents`} for good?</span>
            <button className="danger small" onClick={() => actions.emptyTrash().then(() => setConfirming(false), onError)}>
              Empty trash
            </button>
            <button className="link-button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <button className="link-button danger" onClick={() => setConfirming(true)}>
            Empty trash…
          </button>
        )}
      </div>
    </>
  );
}

function Highlighted({ text, match }: { text: string; match: [number, number] | null }) {
  if (!match) return <>{text}</>;
  return (
    <>
      {text.slice(0, match[0])}
      <mark>{text.slice(match[0], match[1])}</mark>
      {text.slice(match[1])}
    </>
  );
}
