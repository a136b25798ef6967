/**
 * A desktop host in its own process, as src/main starts it (Host.open on a data
 * directory), driven by its parent over Node's IPC channel: a stand-in for the
 * Electron main process and its renderer in tests that need real host processes.
 */
import { next as A } from "@automerge/automerge";
import type { AutomergeUrl } from "@automerge/automerge-repo";
import pino from "pino";
import { pathToFileURL } from "node:url";
import { Host } from "../../src/host/Host";
import { plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { addComment, anchoredThreads } from "../../src/shared/comments";

export type HostCommand =
  | { id: number; cmd: "call"; request: Record<string, unknown> }
  | { id: number; cmd: "type"; url: string; text: string; at: "start" | "end" }
  | { id: number; cmd: "read"; url: string }
  | { id: number; cmd: "comment"; url: string; on: string; text: string }
  | { id: number; cmd: "comments"; url: string }
  | { id: number; cmd: "edit"; url: string; edits: RichEdit[] }
  | { id: number; cmd: "spans"; url: string }
  | { id: number; cmd: "edit-text"; url: string; edits: Edit[] }
  | { id: number; cmd: "inspect"; url: string }
  | { id: number; cmd: "clock" }
  | { id: number; cmd: "close" }
  /** A command of the test extension module (HOST_CHILD_EXTENSION), by name. */
  | { id: number; cmd: "ext"; name: string; args: unknown };

/** What a test extension module exports: extra commands run inside the host process. */
export type HostExtension = { commands: Record<string, (host: Host, args: never) => Promise<unknown> | unknown> };

/**
 * A raw edit of a document's rich text, as any Automerge peer may make it (positions
 * count block markers as one character): how tests write what the editor never would.
 */
export type RichEdit =
  | { op: "splice"; at: number; delete?: number; text: string }
  | { op: "block"; at: number; block: { type: string; parents: string[]; attrs: Record<string, unknown> } }
  | { op: "mark"; start: number; end: number; name: string; value: string | boolean | number | null; expand?: "before" | "after" | "both" | "none" }
  | { op: "title"; title: string };

/** A span of a document's rich text, in plain JSON (block types and attrs as strings). */
export type PlainSpan =
  | { type: "text"; value: string; marks?: Record<string, unknown> }
  | { type: "block"; value: { type: string; parents: string[]; attrs: Record<string, unknown> } };

/**
 * A structural edit, placed by the text around it rather than by an index, so that a
 * script means the same on every replica and in every run. Positions count a block
 * marker as one character, as Automerge does.
 */
export type Edit =
  | { insert: string; after: string }
  | { delete: string }
  | { mark: "strong" | "em"; from: string; to: string }
  | { split: string };

/** What a replica holds of a document: its rich text (blocks, marks), title and change times. */
export interface Inspection {
  title: string;
  spans: unknown[];
  heads: string[];
  /** Each change's timestamp (seconds since the epoch, from its author's clock), oldest first. */
  changeTimes: number[];
}

const dataDir = process.argv[2]!;
const name = process.argv[3] ?? "writer";
// Test-only commands, from a module the parent names (kept out of this file so that
// helpers with other dependencies, such as the editor's, stay with the tests using them).
const extension: HostExtension | undefined = process.env.HOST_CHILD_EXTENSION
  ? ((await import(pathToFileURL(process.env.HOST_CHILD_EXTENSION).href)) as HostExtension)
  : undefined;
const host = await Host.open({
  dataDir,
  user: { name },
  logger: pino({ level: process.env.WRITER_LOG_LEVEL ?? "warn" }, pino.destination(2)),
  // The commands below stand in for the renderer by editing and reading documents in the
  // host's Repo itself, so every document stays there: no document worker (where the app
  // keeps long documents, and ones it receives until they are on disk). That path is
  // tested through windows, as the app uses it: test/host/workers.test.ts, test/host and
  // the end-to-end tests with every document in the worker (as `npm test` runs them).
  documentWorkers: { count: 0 },
});

async function run(command: HostCommand): Promise<unknown> {
  switch (command.cmd) {
    case "call":
      return host.handle(command.request);
    case "type": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      handle.change((d) => {
        // Position 0 is the first paragraph's block marker; text goes after it. The text
        // as a string counts each block marker as one character, as positions do (and
        // costs nothing like a walk of its spans, which the crash soak paid per word).
        const length = (d as unknown as { text: string }).text.length;
        A.splice(d, TEXT_PATH, command.at === "start" ? Math.min(1, length) : length, 0, command.text);
      });
      return { heads: handle.heads(), hashes: A.getHeads(handle.doc()) };
    }
    case "comment": {
      // A comment on the first occurrence of `on`, as a writer of this host (see shared/comments.ts).
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      let id = "";
      handle.change((d) => {
        const start = d.text.indexOf(command.on);
        if (start < 0) throw new Error(`no "${command.on}" in the document`);
        id = addComment(d, { start, end: start + command.on.length }, command.text, { name, writer: `writer-${name}` }, Date.now());
      });
      return { id };
    }
    case "comments": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      const doc = handle.doc();
      return anchoredThreads(doc).map(({ thread, range }) => ({ id: thread.id, messages: thread.messages.map((m) => m.text), resolved: thread.resolved !== null, on: range ? doc.text.slice(range.start, range.end) : null }));
    }
    case "read": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      return { text: plainText(handle.doc()), heads: [...handle.heads()].sort(), hashes: A.getHeads(handle.doc()) };
    }
    case "edit": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      handle.change((d) => {
        for (const e of command.edits) {
          if (e.op === "splice") A.splice(d, TEXT_PATH, e.at, e.delete ?? 0, e.text);
          else if (e.op === "block") A.splitBlock(d, TEXT_PATH, e.at, { type: new A.ImmutableString(e.block.type), parents: e.block.parents.map((p) => new A.ImmutableString(p)), attrs: e.block.attrs as Record<string, A.MaterializeValue> });
          else if (e.op === "mark") A.mark(d, TEXT_PATH, { start: e.start, end: e.end, expand: e.expand ?? "none" }, e.name, e.value);
          else d.title = e.title;
        }
      });
      return { heads: [...handle.heads()].sort() };
    }
    case "spans": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      // Through JSON: ImmutableStrings and Automerge proxies do not survive IPC as they are.
      return { spans: JSON.parse(JSON.stringify(A.spans(handle.doc(), TEXT_PATH))) as PlainSpan[], heads: [...handle.heads()].sort(), text: plainText(handle.doc()) };
    }
    case "ext": {
      const extCommand = extension?.commands[command.name];
      if (!extCommand) throw new Error(`no extension command ${command.name}`);
      return extCommand(host, command.args as never);
    }
    case "edit-text": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      handle.change((d) => {
        for (const edit of command.edits) applyEdit(d, edit);
      });
      return { heads: handle.heads() };
    }
    case "inspect": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      const doc = handle.doc();
      const inspection: Inspection = {
        title: doc.title,
        spans: A.spans(doc, TEXT_PATH).map((s) => (s.type === "block" ? { block: { ...s.value, type: String(s.value.type) } } : { text: s.value, marks: s.marks ?? {} })),
        heads: [...handle.heads()].sort(),
        changeTimes: A.getHistory(doc).map((state) => state.change.time),
      };
      return JSON.parse(JSON.stringify(inspection)) as Inspection;
    }
    case "clock":
      return { now: Date.now() };
    case "close":
      await host.close();
      setTimeout(() => process.exit(0), 10);
      return null;
  }
}

/** The index of `needle` in the document's text, block markers counted as one character. */
function indexOf(d: WriterDocument, needle: string): number {
  const flat = A.spans(d, TEXT_PATH)
    .map((s) => (s.type === "block" ? "\u0000" : s.value))
    .join("");
  const at = flat.indexOf(needle);
  if (at < 0 || flat.indexOf(needle, at + 1) >= 0) throw new Error(`"${needle}" is not in the document exactly once`);
  return at;
}

function applyEdit(d: WriterDocument, edit: Edit): void {
  if ("insert" in edit) A.splice(d, TEXT_PATH, indexOf(d, edit.after) + edit.after.length, 0, edit.insert);
  else if ("delete" in edit) A.splice(d, TEXT_PATH, indexOf(d, edit.delete), edit.delete.length);
  else if ("mark" in edit) {
    const start = indexOf(d, edit.from);
    const end = indexOf(d, edit.to) + edit.to.length;
    A.mark(d, TEXT_PATH, { start, end, expand: "after" }, edit.mark, true);
  } else A.splitBlock(d, TEXT_PATH, indexOf(d, edit.split), { type: new A.ImmutableString("paragraph"), parents: [], attrs: {} });
}

process.on("message", (command: HostCommand) => {
  run(command).then(
    (value) => process.send!({ id: command.id, ok: true, value }),
    (error: unknown) => process.send!({ id: command.id, ok: false, error: (error as Error).message }),
  );
});
process.on("SIGTERM", () => void host.close().then(() => process.exit(0)));
process.send!({ ready: true });
