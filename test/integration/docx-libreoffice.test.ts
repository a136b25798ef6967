/**
 * Word files read by a word processor that is not ours: LibreOffice (Debian's
 * libreoffice-writer-nogui, which .ci/run installs) opens an exported document under
 * review and finds its comments, replies and tracked changes with their authors; and
 * what LibreOffice saves back as .docx, our import reads: the text, every comment and
 * the suggestions come back. (mammoth, the other reader, checks text and structure in
 * test/unit/docx.)
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { commentsForDocx } from "../../src/shared/convert/docx/document";
import { toDocx } from "../../src/shared/convert/docx/export";
import { fromDocx } from "../../src/shared/convert/docx/import";
import { listSuggestions } from "../../src/shared/suggestions";
import { pmOf, reviewedDocument } from "../unit/docx/support";

const run = promisify(execFile);
const SOFFICE = "/usr/bin/soffice";
const present = fs.existsSync(SOFFICE);
if (!present) console.warn("LibreOffice is not installed (apt-get install libreoffice-writer-nogui; .ci/run installs it): the Word files are not checked with it here.");

/** Converts `file` with LibreOffice into `dir`, with a profile of its own (a writer's running LibreOffice is not disturbed). */
async function convert(file: string, to: string, dir: string): Promise<string> {
  await run(SOFFICE, [`-env:UserInstallation=file://${dir}/profile`, "--headless", "--norestore", "--convert-to", to, "--outdir", dir, file], { timeout: 90_000 });
  const out = path.join(dir, path.basename(file).replace(/\.[^.]+$/, "") + "." + to.split(":")[0]);
  if (!fs.existsSync(out)) throw new Error(`LibreOffice made no ${out}`);
  return out;
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

describe.runIf(present)("Word files in LibreOffice", () => {
  it("opens an exported document with its comments, replies and tracked changes, and our import reads LibreOffice's .docx back", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-lo-"));
    try {
      const doc = reviewedDocument();
      const pm = pmOf(doc);
      const file = path.join(dir, "storm.docx");
      fs.writeFileSync(file, await toDocx({ doc: pm, title: doc.title, comments: commentsForDocx(doc, pm), locale: "en-GB" }));

      // LibreOffice's own reading, as flat OpenDocument XML.
      const flat = fs.readFileSync(await convert(file, "fodt", dir), "utf8");
      // Four threads, one of them with two replies: six comments.
      expect(count(flat, /<office:annotation[ >]/g)).toBe(6);
      expect(count(flat, /<dc:creator>Ada Lovelace<\/dc:creator>/g)).toBeGreaterThanOrEqual(3);
      expect(flat).toContain("Is it a storm or a squall?");
      expect(flat).toContain("A storm: the boats stay in.");
      // The open suggestions as LibreOffice's tracked changes: an insertion, a deletion and a formatting change.
      expect(count(flat, /<text:changed-region /g)).toBe(3);
      for (const kind of ["insertion", "deletion", "format-change"]) expect(flat).toContain(`<text:${kind}>`);
      expect(flat).toMatch(/<text:deletion>\s*<office:change-info>\s*<dc:creator>Ada Lovelace<\/dc:creator>\s*<dc:date>2026-11-03T09:32:00/);
      expect(flat).toContain("Chapter one");

      // What LibreOffice writes as Word, through our import.
      const again = fromDocx(new Uint8Array(fs.readFileSync(await convert(path.join(dir, "storm.fodt"), 'docx:MS Word 2007 XML', path.join(dir, "back")))));
      expect(again.title).toBe("The Storm");
      expect(again.doc.textContent).toContain("The storm came suddenly over the grey hills.");
      const messages = again.comments.flatMap((c) => c.messages.map((m) => `${m.author}: ${m.text}`));
      for (const m of ["Ada Lovelace: Is it a storm or a squall?", "Bob Editor: A storm: the boats stay in.", "Ada Lovelace: Fine by me.", "Bob Editor: Keep this list?", "Ada Lovelace: Join these?"]) expect(messages).toContain(m);
      expect(again.comments.find((c) => c.messages[0]?.text.startsWith("Too much formatting"))?.resolved).toBe(true);
      const kinds = listSuggestions(again.doc).map((s) => `${s.kind} by ${s.author}`);
      expect(kinds).toEqual(expect.arrayContaining(["insertion by Bob Editor", "deletion by Ada Lovelace"]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
