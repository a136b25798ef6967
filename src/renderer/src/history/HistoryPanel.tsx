/**
 * The version history beside the editor: named versions, then the document's writing
 * sessions (shared/history.ts) by day, newest first. Choosing one opens it read-only
 * (VersionView); the list follows the document as it changes.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import type { WriterDocument } from "../../../shared/document";
import { namedVersions, SessionGrouper, versionKey, type NamedVersion, type Session } from "../../../shared/history";
import { clockRange, dayLabel, moment } from "../time";

/** The list is worked out again at most this often while the document changes (a collaborator typing). */
const REFRESH_MS = 1500;

/** A version chosen in the list, to preview. */
export interface VersionChoice {
  heads: string[];
  /** How the preview names it: "Ada, today 14:02–14:30" or a version's name. */
  label: string;
  /** For a restore's message: when it was. */
  when: string;
}

interface Listing {
  sessions: Session[];
  named: NamedVersion[];
  current: string;
}

/** What the panel has grouped so far, and up to which heads; a change of the authors' names starts over. */
interface Grouped {
  grouper: SessionGrouper;
  heads: string[];
  authors: string;
}

function list(handle: DocHandle<WriterDocument>, grouped: { current: Grouped | null }): Listing {
  const doc = handle.doc();
  const authors = JSON.stringify(doc.authors ?? {});
  if (grouped.current?.authors !== authors) grouped.current = { grouper: new SessionGrouper(doc.authors), heads: [], authors };
  const g = grouped.current;
  // Only what came since the last look (the whole history the first time).
  g.grouper.add(A.getChangesMetaSince(doc, g.heads));
  g.heads = A.getHeads(doc);
  return { sessions: g.grouper.sessions(), named: namedVersions(doc), current: versionKey(g.heads) };
}

function sessionLabel(s: Session, now: number): { who: string; when: string } {
  const who = s.author?.name ?? (s.created ? "Document created" : "Unknown writer");
  if (!s.end) return { who, when: "time unknown" };
  return { who, when: `${dayLabel(s.start * 1000, now)}, ${clockRange(s.start * 1000, s.end * 1000)}` };
}

export function HistoryPanel({
  handle,
  selected,
  onSelect,
  onClose,
  onName,
}: {
  handle: DocHandle<WriterDocument>;
  /** The heads (versionKey) being previewed, or null for the current version. */
  selected: string | null;
  onSelect: (choice: VersionChoice | null) => void;
  onClose: () => void;
  onName: (heads: string[], name: string) => void;
}) {
  const grouped = useRef<Grouped | null>(null);
  const [listing, setListing] = useState<Listing>(() => list(handle, grouped));
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onChange = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        setListing(list(handle, grouped));
      }, REFRESH_MS);
    };
    handle.on("change", onChange);
    return () => {
      clearTimeout(timer);
      handle.off("change", onChange);
    };
  }, [handle]);

  const now = Date.now();
  const namesByKey = useMemo(() => new Map(listing.named.map((v) => [versionKey(v.heads), v.name])), [listing.named]);
  const days = useMemo(() => {
    const out: { day: string; sessions: Session[] }[] = [];
    const today = Date.now();
    for (const s of listing.sessions) {
      const day = s.end ? dayLabel(s.end * 1000, today) : "Earlier";
      const last = out[out.length - 1];
      if (last?.day === day) last.sessions.push(s);
      else out.push({ day, sessions: [s] });
    }
    return out;
  }, [listing.sessions]);

  const nameCurrent = () => {
    if (!name.trim()) return;
    onName(A.getHeads(handle.doc()), name);
    setName("");
    setNaming(false);
  };

  return (
    <aside className="history" aria-label="Version history">
      <header className="history-head">
        <h2>Version history</h2>
        <button className="icon-button" aria-label="Close version history" title="Close (Esc)" onClick={onClose}>
          ×
        </button>
      </header>
      <div className="history-list" role="list">
        <button role="listitem" className={`history-item current ${selected === null ? "selected" : ""}`} onClick={() => onSelect(null)}>
          <span className="history-who">Current version</span>
          {namesByKey.has(listing.current) && <span className="history-name">★ {namesByKey.get(listing.current)}</span>}
        </button>
        {naming ? (
          <form
            className="history-naming"
            onSubmit={(e) => {
              e.preventDefault();
              nameCurrent();
            }}
          >
            <input autoFocus aria-label="Name for the current version" placeholder="First draft, Sent to editor…" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === "Escape" && setNaming(false)} />
            <button type="submit" className="primary small" disabled={!name.trim()}>
              Name
            </button>
          </form>
        ) : (
          <button className="link-button history-name-current" onClick={() => setNaming(true)}>
            Name the current version…
          </button>
        )}
        {listing.named.length > 0 && (
          <>
            <h3 className="history-day">Named versions</h3>
            {listing.named.map((v) => {
              const key = versionKey(v.heads);
              return (
                <button
                  key={key}
                  role="listitem"
                  className={`history-item ${selected === key ? "selected" : ""}`}
                  onClick={() => onSelect({ heads: v.heads, label: `“${v.name}”`, when: `“${v.name}”` })}
                >
                  <span className="history-name">★ {v.name}</span>
                  {v.at > 0 && <span className="history-when">named {moment(v.at, now)}</span>}
                </button>
              );
            })}
          </>
        )}
        {days.map(({ day, sessions }) => (
          <div key={day} role="presentation">
            <h3 className="history-day">{day}</h3>
            {sessions.map((s) => {
              const key = versionKey(s.heads);
              const { who, when } = sessionLabel(s, now);
              const whenShort = s.end ? clockRange(s.start * 1000, s.end * 1000) : when;
              return (
                <button
                  key={s.id}
                  role="listitem"
                  className={`history-item ${selected === key ? "selected" : ""}`}
                  data-testid="history-session"
                  onClick={() => onSelect({ heads: s.heads, label: `${who}, ${when}`, when: s.end ? moment(s.end * 1000, now) : "an earlier time" })}
                >
                  <span className="history-who">
                    <span className="history-dot" style={{ background: s.author?.color ?? "var(--ink-faint)" }} aria-hidden="true" />
                    {who}
                  </span>
                  <span className="history-when">
                    {whenShort} · {s.changes.toLocaleString()} {s.changes === 1 ? "edit" : "edits"}
                  </span>
                  {namesByKey.has(key) && <span className="history-name">★ {namesByKey.get(key)}</span>}
                  {s.messages.map((m) => (
                    <span key={m} className="history-note">
                      {m}
                    </span>
                  ))}
                </button>
              );
            })}
          </div>
        ))}
      </div>
    </aside>
  );
}
