/**
 * Puts the trace's final text into a fresh Writer data directory, the way the app
 * would hold it: one Automerge document, one paragraph per line, listed in the
 * library and set as the last opened document (so the browser shell opens it).
 */
import fs from "node:fs/promises";
import zlib from "node:zlib";
import { promisify } from "node:util";
import { next as A } from "@automerge/automerge";
import type { AutomergeUrl } from "@automerge/automerge-repo";
import pino from "pino";
import { Host } from "../../src/host/Host";
import { plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";

const gunzip = promisify(zlib.gunzip);

/** The editing-traces licence: keep it wherever results derived from a trace are shown. */
export const TRACE_ATTRIBUTION =
  "Text: final state of the automerge-paper editing trace (Martin Kleppmann), from Joseph Gentle's editing-traces collection, CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).";

/** A sequential trace's final text (`endContent`). */
export async function loadTraceText(file: string): Promise<string> {
  const trace = JSON.parse((await gunzip(await fs.readFile(file))).toString("utf8")) as { endContent?: unknown };
  if (typeof trace.endContent !== "string") throw new Error(`${file} has no endContent: is it a sequential editing trace?`);
  return trace.endContent;
}

/** The text's paragraphs: one per line; an empty line is an empty paragraph. */
export function paragraphsOf(text: string): string[] {
  return text.split("\n");
}

export interface PreparedDocument {
  url: AutomergeUrl;
  paragraphs: number;
}

/**
 * Creates a document titled `title` holding `text` in `dataDir`, and makes it the one
 * the shell opens first. Runs the host in this process and closes it again (which
 * flushes everything to disk and releases the directory's lock).
 */
export async function prepareDataDir(dataDir: string, title: string, text: string): Promise<PreparedDocument> {
  const host = await Host.open({ dataDir, logger: pino({ level: "silent" }) });
  try {
    const url = host.library.create(title);
    const handle = await host.repo.find<WriterDocument>(url);
    const lines = paragraphsOf(text);
    handle.change((doc) => {
      // initDocument left one paragraph marker at index 0: the first line goes after it.
      let index = 1;
      lines.forEach((line, i) => {
        if (i > 0) {
          A.splitBlock(doc, TEXT_PATH, index, { type: new A.ImmutableString("paragraph"), parents: [], attrs: {} });
          index += 1;
        }
        if (line.length > 0) {
          A.splice(doc, TEXT_PATH, index, 0, line);
          index += line.length;
        }
      });
    });
    const doc = handle.doc();
    const blocks = A.spans(doc, TEXT_PATH).filter((s) => s.type === "block").length;
    if (blocks !== lines.length || plainText(doc) !== text) {
      throw new Error(`the prepared document does not hold the trace's text (${blocks} paragraphs for ${lines.length} lines)`);
    }
    // What the host would do a moment after the first save: the library's title, snippet and word count.
    host.library.refresh(handle.documentId, doc);
    const set = await host.handle({ method: "setLastOpened", url });
    if (!set.ok) throw new Error(`setLastOpened failed: ${set.error.message}`);
    return { url, paragraphs: lines.length };
  } finally {
    await host.close();
  }
}

/**
 * The text of one paragraph of the document as the host has it on disk: opens the
 * data directory in this process (the shell must have stopped), reads, closes.
 */
export async function paragraphOnDisk(dataDir: string, url: AutomergeUrl, index: number): Promise<string | undefined> {
  const host = await Host.open({ dataDir, logger: pino({ level: "silent" }) });
  try {
    const handle = await host.repo.find<WriterDocument>(url);
    return paragraphsOf(plainText(handle.doc()))[index];
  } finally {
    await host.close();
  }
}
