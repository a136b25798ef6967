/**
 * Version history: a document's changes grouped into writing sessions, what differs
 * between two versions of its text, restoring a version as a new change, and named
 * versions. Pure code on Automerge's slim build, so it is unit-tested in Node and runs
 * in the renderer, which holds the whole document (history included) in memory.
 *
 * History is never rewritten: a version is a set of heads (change hashes), read with
 * `A.view`; restoring one writes its text over the current one as an ordinary change,
 * which syncs like any edit.
 */
import { next as A } from "@automerge/automerge/slim";
import { updateSpansExactly } from "./spans";
import { reanchorToVersion } from "./comments";
import { TEXT_PATH, type AuthorInfo, type WriterDocument } from "./document";

/**
 * A pause longer than this between one author's changes starts a new session. Ten
 * minutes: long enough that a writer rereading a page or making tea stays in one
 * session, short enough that a morning's and an afternoon's work are two versions
 * to go back to (Google Docs' and Word's version lists group on a similar scale).
 */
export const SESSION_GAP_S = 10 * 60;

/** A named version's name is at most this long (longer ones from peers are cut). */
const VERSION_NAME_MAX = 100;

/** How a block marker appears in the document's text string. */
export const BLOCK_MARKER = "\uFFFC";

export interface Session {
  /** Stable for a given history: the hash of the session's last change. */
  id: string;
  /** Who wrote it, from the document's `authors`; null when the actor never said. */
  author: AuthorInfo | null;
  /** Actors whose changes are in it (one writer may have had several windows). */
  actors: string[];
  /** First and last change time in seconds by the writers' clocks; 0 when unknown. */
  start: number;
  end: number;
  changes: number;
  /** The version at the end of the session: the heads of its changes. */
  heads: string[];
  /** Whether it contains the document's first change. */
  created: boolean;
  /** Change messages in it (a restore says which version it restored). */
  messages: string[];
  /** Index of its last change in causal order; sessions are ordered by it, not by clocks, which can be wrong. */
  order: number;
}

export interface NamedVersion {
  name: string;
  heads: string[];
  /** When it was named, in milliseconds. */
  at: number;
}

/** Stored in the document under `versions`, keyed by `versionKey(heads)`. */
export type NamedVersions = Record<string, NamedVersion>;

const HASH = /^[0-9a-f]{64}$/;
const COLOR = /^#[0-9a-f]{6}$/i;

/** An author record from the document, or null when it is missing or malformed (peers write it). */
export function authorOf(authors: unknown, actor: string): AuthorInfo | null {
  if (!authors || typeof authors !== "object") return null;
  const record = (authors as Record<string, unknown>)[actor] as Partial<AuthorInfo> | undefined;
  if (!record) return null;
  // A writer's newest record names every actor of theirs: names as they are now.
  const a = typeof record.writer === "string" && WRITER.test(record.writer) ? (newestOf(authors as Record<string, unknown>, record.writer) ?? record) : record;
  if (typeof a.name !== "string" || typeof a.color !== "string") return null;
  const name = a.name.trim().slice(0, 100);
  return name ? { name, color: COLOR.test(a.color) ? a.color : "#6b7280" } : null;
}

const WRITER = /^[0-9a-f]{16}$/;

/** The newest well-formed record of `writer` in `authors`. */
function newestOf(authors: Record<string, unknown>, writer: string): Partial<AuthorInfo> | null {
  let newest: Partial<AuthorInfo> | null = null;
  for (const value of Object.values(authors)) {
    const r = value as Partial<AuthorInfo> | null;
    if (!r || r.writer !== writer || typeof r.name !== "string" || typeof r.color !== "string") continue;
    if (!newest || (typeof r.at === "number" ? r.at : 0) > (typeof newest.at === "number" ? newest.at : 0)) newest = r;
  }
  return newest;
}

/**
 * Groups changes (in causal order, as `A.getChangesMetaSince(doc, [])` gives them) into
 * sessions: one author's run of changes with no pause longer than SESSION_GAP_S. The
 * author is the name recorded for the actor, so two windows of one writer make one
 * session; actors nobody named stay apart. Newest session first.
 */
export function groupSessions(changes: readonly A.ChangeMetadata[], authors: unknown): Session[] {
  const grouper = new SessionGrouper(authors);
  grouper.add(changes);
  return grouper.sessions();
}

/**
 * groupSessions, fed a little at a time: the history panel of a long document adds only
 * the changes since it last looked (`A.getChangesMetaSince(doc, lastHeads)`, which follow
 * the earlier ones in causal order) instead of listing the whole history again while a
 * collaborator types, which takes a noticeable while on a long history
 * (bench/long-document has the figures).
 */
export class SessionGrouper {
  // A session's version is the last change of each of its actors: their causal past is
  // what the writer had on screen when the session ended. (Two windows writing at once
  // give two heads; one that is in the other's past is harmless to A.view.)
  readonly #open = new Map<string, OpenSession>();
  readonly #closed: OpenSession[] = [];
  #index = 0;

  constructor(private readonly authors: unknown) {}

  add(changes: readonly A.ChangeMetadata[]): void {
    for (const change of changes) {
      const index = this.#index++;
      const author = authorOf(this.authors, change.actor);
      const key = author ? `name:${author.name}` : `actor:${change.actor}`;
      // Clocks are the writers' own: a change time of 0 (unknown) continues a session, and
      // a clock that jumped either way by more than the gap starts a new one.
      const time = Number.isFinite(change.time) && change.time > 0 ? change.time : 0;
      let session = this.#open.get(key);
      if (session && time && session.last && Math.abs(time - session.last) > SESSION_GAP_S) {
        this.#closed.push(session);
        session = undefined;
      }
      if (!session) {
        session = { id: change.hash, author, actors: [], start: 0, end: 0, changes: 0, heads: [], created: false, messages: [], order: index, last: 0, headOf: new Map() };
        this.#open.set(key, session);
      }
      session.id = change.hash;
      session.order = index;
      session.changes++;
      if (!session.actors.includes(change.actor)) session.actors.push(change.actor);
      if (change.deps.length === 0) session.created = true;
      if (time) {
        session.start = session.start ? Math.min(session.start, time) : time;
        session.end = Math.max(session.end, time);
        session.last = time;
      }
      if (change.message && session.messages.length < 3 && !session.messages.includes(change.message)) session.messages.push(change.message.slice(0, 200));
      session.headOf.set(change.actor, change.hash);
    }
  }

  /** The sessions so far, newest first. */
  sessions(): Session[] {
    return [...this.#closed, ...this.#open.values()]
      .sort((a, b) => b.order - a.order)
      .map(({ last: _last, headOf, ...session }) => ({ ...session, actors: [...session.actors], messages: [...session.messages], heads: [...headOf.values()].sort() }));
  }
}

type OpenSession = Session & { last: number; headOf: Map<string, string> };

/** The key a named version is stored under: its heads, sorted. */
export function versionKey(heads: readonly string[]): string {
  return [...heads].sort().join(",");
}

/** The document's named versions, newest first; malformed entries (from a peer) are left out. */
export function namedVersions(doc: unknown): NamedVersion[] {
  const raw = (doc as { versions?: unknown } | null)?.versions;
  if (!raw || typeof raw !== "object") return [];
  const out: NamedVersion[] = [];
  for (const value of Object.values(raw as Record<string, unknown>)) {
    const v = value as Partial<NamedVersion> | null;
    if (!v || typeof v.name !== "string" || !Array.isArray(v.heads) || v.heads.length === 0 || v.heads.length > 64) continue;
    if (!v.heads.every((h) => typeof h === "string" && HASH.test(h))) continue;
    const name = v.name.trim().slice(0, VERSION_NAME_MAX);
    if (!name) continue;
    out.push({ name, heads: [...v.heads], at: typeof v.at === "number" && Number.isFinite(v.at) ? v.at : 0 });
  }
  return out.sort((a, b) => b.at - a.at);
}

/** Names (or, with an empty name, unnames) the version at `heads`. Call inside a change. */
export function nameVersion(doc: WriterDocument, heads: readonly string[], name: string, at: number): void {
  const trimmed = name.trim().slice(0, VERSION_NAME_MAX);
  const key = versionKey(heads);
  doc.versions ??= {};
  if (!trimmed) {
    delete doc.versions[key];
    return;
  }
  const existing = doc.versions[key];
  if (existing) {
    if (existing.name !== trimmed) A.updateText(doc, ["versions", key, "name"], trimmed);
    return;
  }
  doc.versions[key] = { name: trimmed, heads: [...heads].sort(), at };
}

/** Whether every head is a change this document has (a named version from a peer may name unknown ones). */
export function hasHeads(doc: A.Doc<unknown>, heads: readonly string[]): boolean {
  return heads.length > 0 && heads.every((h) => HASH.test(h)) && A.hasHeads(doc, [...heads]);
}

/**
 * Makes the current document's title and text equal those of `version` (a past state
 * of the same document, `A.view(doc, heads)`). Call inside a change: the restore is
 * an ordinary edit on top of the history, which stays as it was.
 */
export function restoreVersion(doc: WriterDocument, version: WriterDocument): void {
  updateSpansExactly(doc, TEXT_PATH, A.spans(version, TEXT_PATH));
  reanchorToVersion(doc, version);
  const title = typeof version.title === "string" ? version.title : "";
  if (doc.title !== title) A.updateText(doc, ["title"], title);
}

/** What differs between two versions' text, in the coordinates of the second (`to`). */
export interface TextChanges {
  /** Ranges [start, end) of `to`'s text that `from` does not have. */
  inserted: [number, number][];
  /** Places in `to`'s text where `from` had text that `to` does not, with that text. */
  removed: { at: number; text: string }[];
  /** Ranges whose formatting differs. */
  restyled: [number, number][];
  /** Indices of block markers whose kind or attributes differ (a paragraph that became a heading). */
  reblocked: number[];
}

/**
 * What changed in the document's text from heads `from` to heads `to`, located in
 * `to`'s text (string indices, block markers included). Built from Automerge's own
 * diff, so a character keeps its identity: text retyped elsewhere shows as removed
 * here and inserted there, as it happened, rather than as a guess by a text diff.
 */
export function changedText(doc: A.Doc<unknown>, from: A.Heads, to: A.Heads): TextChanges {
  const key = TEXT_PATH[0]!;
  const start = (A.view(doc, from) as Record<string, unknown>)[key as string];
  let text = typeof start === "string" ? start : "";
  const out: TextChanges = { inserted: [], removed: [], restyled: [], reblocked: [] };

  const mapThroughDelete = (p: number, at: number, n: number) => (p <= at ? p : p >= at + n ? p - n : at);
  const insert = (at: number, value: string) => {
    const n = value.length;
    text = text.slice(0, at) + value + text.slice(at);
    const shiftRange = (r: [number, number]): [number, number] => [r[0] >= at ? r[0] + n : r[0], r[1] > at ? r[1] + n : r[1]];
    out.inserted = out.inserted.map(shiftRange);
    out.restyled = out.restyled.map((r) => [r[0] >= at ? r[0] + n : r[0], r[1] > at ? r[1] + n : r[1]]);
    out.removed = out.removed.map((r) => (r.at > at ? { ...r, at: r.at + n } : r));
    out.reblocked = out.reblocked.map((i) => (i >= at ? i + n : i));
    out.inserted.push([at, at + n]);
  };
  const remove = (at: number, n: number) => {
    const gone = text.slice(at, at + n);
    text = text.slice(0, at) + text.slice(at + n);
    const mapRange = (r: [number, number]): [number, number] => [mapThroughDelete(r[0], at, n), mapThroughDelete(r[1], at, n)];
    // Text that `from` did not have and that is gone again is no change at all; the
    // part of a deletion that fell inside such text is not "removed" either.
    let insertedGone = 0;
    for (const [s, e] of out.inserted) insertedGone += Math.max(0, Math.min(e, at + n) - Math.max(s, at));
    out.inserted = out.inserted.map(mapRange).filter(([s, e]) => e > s);
    out.restyled = out.restyled.map(mapRange).filter(([s, e]) => e > s);
    // `removed` stays in text order: points after the deleted text land on `at` too, and
    // the newly removed text came before theirs.
    const after = out.removed.findIndex((r) => r.at > at);
    out.removed = out.removed.map((r) => ({ ...r, at: mapThroughDelete(r.at, at, n) }));
    out.reblocked = out.reblocked.filter((i) => i < at || i >= at + n).map((i) => (i >= at + n ? i - n : i));
    if (insertedGone < n) out.removed.splice(after < 0 ? out.removed.length : after, 0, { at, text: gone });
  };

  for (const patch of A.diff(doc, from, to)) {
    if (patch.path[0] !== key) continue;
    const index = patch.path[1];
    if (patch.path.length === 1) {
      if (patch.action === "mark") for (const m of patch.marks) out.restyled.push([m.start, m.end]);
      else if (patch.action === "unmark") out.restyled.push([patch.start, patch.end]);
      else if (patch.action === "put") {
        // The whole text was replaced (only a peer writing outside the editor does this).
        const now = (A.view(doc, to) as Record<string, unknown>)[key as string];
        const value = typeof now === "string" ? now : "";
        return { inserted: value ? [[0, value.length]] : [], removed: text ? [{ at: 0, text }] : [], restyled: [], reblocked: [] };
      }
      continue;
    }
    if (typeof index !== "number") continue;
    if (patch.path.length > 2) {
      // A block's type or attributes changed.
      if (!out.reblocked.includes(index)) out.reblocked.push(index);
      continue;
    }
    if (patch.action === "splice") insert(index, patch.value);
    else if (patch.action === "insert") {
      insert(index, BLOCK_MARKER.repeat(patch.values.length));
      for (let i = 0; i < patch.values.length; i++) out.reblocked.push(index + i);
    } else if (patch.action === "del") remove(index, patch.length ?? 1);
  }
  // A block whose type changed comes out of the diff as its marker deleted and inserted
  // again at the same place: that is a changed block, not removed and inserted text.
  out.removed = out.removed.filter((r) => {
    if (r.text !== BLOCK_MARKER) return true;
    const i = out.inserted.findIndex(([s, e]) => s === r.at && e === r.at + 1 && text[r.at] === BLOCK_MARKER);
    if (i < 0) return true;
    out.inserted.splice(i, 1);
    out.reblocked.push(r.at);
    return false;
  });
  out.inserted = merge(out.inserted);
  out.restyled = merge(out.restyled);
  out.reblocked = [...new Set(out.reblocked)].sort((a, b) => a - b);
  // Removed text right after text inserted in its place reads better before it, as
  // "~~jumps~~ leaps" does; then removals at one place become one (the list is in text order).
  const moved = out.removed.map((r) => {
    const before = out.inserted.find(([s, e]) => e === r.at && !out.removed.some((o) => o.at > s && o.at < e));
    return before ? { at: before[0], text: r.text } : r;
  });
  out.removed = [];
  for (const r of moved) {
    const last = out.removed[out.removed.length - 1];
    if (last && last.at === r.at) last.text += r.text;
    else out.removed.push({ ...r });
  }
  return out;
}

function merge(ranges: [number, number][]): [number, number][] {
  const sorted = ranges.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Whether two versions' texts and titles are the same (restoring one over the other would change nothing). */
export function sameContent(a: WriterDocument, b: WriterDocument): boolean {
  return a.title === b.title && JSON.stringify(A.spans(a, TEXT_PATH)) === JSON.stringify(A.spans(b, TEXT_PATH));
}
