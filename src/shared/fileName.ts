/** File names made from document titles, for exports (renderer) and PDF saving (Electron main). */

/** A file name from a title: no path separators or characters systems refuse. */
export function fileNameFor(title: string, extension: string): string {
  const base =
    [...(title || "Untitled")]
      .map((c) => (c.charCodeAt(0) < 32 || '\\/:*?"<>|'.includes(c) ? " " : c))
      .join("")
      .replace(/\s+/g, " ")
      .trim()
      .slice(0, 120) || "Untitled";
  return `${base}.${extension}`;
}
