/**
 * What Writer cannot hold yet (images, tables), taken out of pasted or imported HTML in
 * a way the writer can see and read (otherwise a pasted image would vanish without a
 * word, and a table would become "cell Acell B"). A table becomes one paragraph per
 * row, its cells separated by " | "; images and other media are removed and counted, so
 * that the writer is told what was left out.
 */

export interface LeftOut {
  /** Images, videos, drawings and embedded frames removed. */
  media: number;
  /** Tables turned into rows of text. */
  tables: number;
}

const MEDIA = "img, picture, svg, video, audio, canvas, iframe, object, embed";

/** Simplifies `root` in place; returns what it took out or changed. */
export function takeOutWhatWriterCannotHold(root: ParentNode, document: Document): LeftOut {
  const left: LeftOut = { media: 0, tables: 0 };
  for (const el of Array.from(root.querySelectorAll(MEDIA))) {
    // Nested media (an <img> in a <picture>) count once.
    if (el.parentElement?.closest(MEDIA)) continue;
    left.media++;
    el.remove();
  }
  // Innermost tables first, so that a table in a cell becomes text inside that cell.
  const tables = Array.from(root.querySelectorAll("table")).reverse();
  for (const table of tables) {
    const rows = Array.from(table.querySelectorAll("tr")).filter((tr) => tr.closest("table") === table);
    const paragraphs = rows
      .map((tr) =>
        Array.from(tr.children)
          .filter((c) => c.tagName === "TD" || c.tagName === "TH")
          .map((c) => (c.textContent ?? "").replace(/\s+/g, " ").trim())
          .filter((t) => t.length > 0)
          .join(" | "),
      )
      .filter((line) => line.length > 0)
      .map((line) => {
        const p = document.createElement("p");
        p.textContent = line;
        return p;
      });
    const caption = table.querySelector("caption")?.textContent?.trim();
    if (caption) {
      const p = document.createElement("p");
      p.textContent = caption;
      paragraphs.unshift(p);
    }
    table.replaceWith(...paragraphs);
    left.tables++;
  }
  return left;
}

/** A sentence for the writer about what was left out, or null when nothing was. */
export function describeLeftOut(left: LeftOut, what: "Pasted" | "Imported"): string | null {
  const parts: string[] = [];
  if (left.media > 0) parts.push(`without ${left.media === 1 ? "an image" : `${left.media} images`}`);
  if (left.tables > 0) parts.push(`with ${left.tables === 1 ? "a table" : `${left.tables} tables`} as rows of text`);
  if (parts.length === 0) return null;
  const cannot = [left.media > 0 ? "images" : null, left.tables > 0 ? "tables" : null].filter(Boolean).join(" or ");
  return `${what} ${parts.join(" and ")}: Writer cannot hold ${cannot} yet.`;
}
