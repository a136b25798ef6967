/**
 * A desktop host in its own process, as src/main starts it (Host.open on a data
 * directory), driven by its parent over Node's IPC channel: a stand-in for the
 * Electron main process and its renderer in tests that need real host processes.
 */
import { next as A } from "@automerge/automerge";
import type { AutomergeUrl } from "@automerge/automerge-repo";
import pino from "pino";
import { Host } from "../../src/host/Host";
import { plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";

export type HostCommand =
  | { id: number; cmd: "call"; request: Record<string, unknown> }
  | { id: number; cmd: "type"; url: string; text: string; at: "start" | "end" }
  | { id: number; cmd: "read"; url: string }
  | { id: number; cmd: "edit"; url: string; edits: Edit[] }
  | { id: number; cmd: "inspect"; url: string }
  | { id: number; cmd: "clock" }
  | { id: number; cmd: "close" };

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
const host = await Host.open({ dataDir, user: { name }, logger: pino({ level: process.env.WRITER_LOG_LEVEL ?? "warn" }, pino.destination(2)) });

async function run(command: HostCommand): Promise<unknown> {
  switch (command.cmd) {
    case "call":
      return host.handle(command.request);
    case "type": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      handle.change((d) => {
        // Position 0 is the first paragraph's block marker; text goes after it.
        const length = A.spans(d, TEXT_PATH).reduce((n, s) => n + (s.type === "text" ? s.value.length : 1), 0);
        A.splice(d, TEXT_PATH, command.at === "start" ? Math.min(1, length) : length, 0, command.text);
      });
      return { heads: handle.heads(), hashes: A.getHeads(handle.doc()) };
    }
    case "read": {
      const handle = await host.repo.find<WriterDocument>(command.url as AutomergeUrl);
      return { text: plainText(handle.doc()), heads: [...handle.heads()].sort(), hashes: A.getHeads(handle.doc()) };
    }
    case "edit": {
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
