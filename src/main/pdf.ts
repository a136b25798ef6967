/**
 * Saving the page as a PDF (Electron's webContents.printToPDF). The request's check and
 * the print options live here, without an Electron import, so that they are unit-tested.
 */
import { fileNameFor } from "../shared/fileName";

/** Titles are at most 500 characters (the title field's limit); anything else is refused. */
const TITLE_MAX = 500;

/** The PDF's suggested file name from the page's request, or null when the request is not a title. */
export function pdfFileName(payload: unknown): string | null {
  if (typeof payload !== "string" || payload.length > TITLE_MAX) return null;
  return fileNameFor(payload, "pdf");
}

/**
 * A4 with book-like margins (inches); the page's print stylesheet hides the app around
 * the text, as it does for the browser's print.
 */
export const PDF_OPTIONS = {
  pageSize: "A4",
  printBackground: false,
  margins: { top: 0.9, bottom: 0.9, left: 1, right: 1 },
} as const;
