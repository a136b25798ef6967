/**
 * A guarded reader for the zip package a .docx is. The central directory is read
 * first and every limit (entry count, sizes, compression ratio) is checked before a
 * single byte is inflated; then each part that is actually needed is inflated in
 * chunks, counting what comes out, so that a header that lies about its size is caught
 * while inflating instead of after filling the memory. Parts that are not needed
 * (images, fonts) are never inflated.
 */
import { Inflate } from "fflate";

export class DocxRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DocxRefused";
  }
}

export const DOCX_LIMITS = {
  /** The file itself. A manuscript with images is a few MB. */
  fileBytes: 25 * 1024 * 1024,
  entries: 2000,
  /** Everything the package would unpack to. */
  totalBytes: 200 * 1024 * 1024,
  /** One part that is read (document.xml of a long novel is a few MB). */
  partBytes: 40 * 1024 * 1024,
  /**
   * A part larger than `ratioFloor` that compresses better than this is a bomb: Word's
   * XML is 5-30x, very repetitive text about 70x, and deflate's most is about 1030x.
   */
  ratio: 400,
  ratioFloor: 1024 * 1024,
};

interface Entry {
  name: string;
  method: number;
  flags: number;
  compressed: number;
  size: number;
  offset: number;
}

export interface ZipPackage {
  names: string[];
  has(name: string): boolean;
  /** The part's bytes, or null when the package has no such part. */
  read(name: string): Uint8Array | null;
}

const MB = (n: number) => (n < 1024 * 1024 ? `${Math.max(1, Math.round(n / 1024))} KB` : `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`);

function magicMessage(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 8));
  const starts = (...sig: number[]) => sig.every((b, i) => head[i] === b);
  if (starts(0xd0, 0xcf, 0x11, 0xe0)) return "This is an older Word file (.doc) or a password-protected one, not a .docx. Open it in Word, save it as a .docx without a password, and import that.";
  if (starts(0x25, 0x50, 0x44, 0x46)) return "This is a PDF, not a Word document (.docx).";
  if (starts(0x7b, 0x5c, 0x72, 0x74, 0x66)) return "This is an RTF file, not a Word document (.docx). Save it as a .docx in Word, then import it.";
  return "This file is not a Word document (.docx): it is not the zip package every .docx is.";
}

export function openZip(bytes: Uint8Array): ZipPackage {
  if (bytes.length > DOCX_LIMITS.fileBytes) throw new DocxRefused(`This file is ${MB(bytes.length)}, larger than Writer imports (${MB(DOCX_LIMITS.fileBytes)}).`);
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw new DocxRefused(magicMessage(bytes));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end of central directory record: within the last 64 KB + 22 bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new DocxRefused("This Word file is incomplete or damaged (its end is missing). If it was downloaded, download it again.");
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) throw new DocxRefused("This file uses a zip format for very large packages (zip64) that a Word document never needs: Writer does not open it.");
  if (count > DOCX_LIMITS.entries) throw new DocxRefused(`This file holds ${count} parts, far more than a Word document has: Writer does not open it.`);
  if (cdOffset + cdSize > eocd) throw new DocxRefused("This Word file is incomplete or damaged (its table of contents is cut off). If it was downloaded, download it again.");
  const entries = new Map<string, Entry>();
  let total = 0;
  let at = cdOffset;
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || view.getUint32(at, true) !== 0x02014b50) throw new DocxRefused("This Word file is damaged (its table of contents is unreadable).");
    const nameLength = view.getUint16(at + 28, true);
    const entry: Entry = {
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      compressed: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      offset: view.getUint32(at + 42, true),
      name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
    };
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    if (entry.size === 0xffffffff || entry.compressed === 0xffffffff) throw new DocxRefused("This file uses a zip format for very large packages (zip64) that a Word document never needs: Writer does not open it.");
    total += entry.size;
    if (total > DOCX_LIMITS.totalBytes) throw new DocxRefused(`This file would unpack to more than ${MB(DOCX_LIMITS.totalBytes)}, far more than a Word document holds (it looks like a zip bomb): Writer does not open it.`);
    if (entry.size > DOCX_LIMITS.ratioFloor && entry.size / Math.max(1, entry.compressed) > DOCX_LIMITS.ratio) {
      throw new DocxRefused(`Part of this file would unpack from ${MB(entry.compressed)} to ${MB(entry.size)}, which no Word document does (it looks like a zip bomb): Writer does not open it.`);
    }
    entries.set(entry.name, entry);
  }
  return {
    names: [...entries.keys()],
    has: (name) => entries.has(name),
    read(name) {
      const entry = entries.get(name);
      return entry ? inflateEntry(bytes, view, entry) : null;
    },
  };
}

function inflateEntry(bytes: Uint8Array, view: DataView, entry: Entry): Uint8Array {
  if (entry.flags & 1) throw new DocxRefused("This Word file is password-protected. Remove the password in Word, then import it.");
  if (entry.size > DOCX_LIMITS.partBytes) throw new DocxRefused(`This Word document's text is ${MB(entry.size)}, more than Writer imports (${MB(DOCX_LIMITS.partBytes)}).`);
  const local = entry.offset;
  if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) throw new DocxRefused("This Word file is damaged (a part of it is missing).");
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  if (start + entry.compressed > bytes.length) throw new DocxRefused("This Word file is incomplete or damaged (a part of it is cut off). If it was downloaded, download it again.");
  const data = bytes.subarray(start, start + entry.compressed);
  if (entry.method === 0) {
    if (entry.compressed !== entry.size) throw new DocxRefused("This Word file is damaged (a part's size does not match).");
    return data.slice();
  }
  if (entry.method !== 8) throw new DocxRefused("This Word file is packed in a way Word does not use: Writer does not open it.");
  const out = new Uint8Array(entry.size);
  let written = 0;
  let lied = false;
  const inflater = new Inflate((chunk) => {
    // More than the directory said: the header lied. Stop before using more memory.
    if (written + chunk.length > entry.size) {
      lied = true;
      throw new DocxRefused("This file unpacks to more than it says it holds (it looks like a zip bomb): Writer does not open it.");
    }
    out.set(chunk, written);
    written += chunk.length;
  });
  try {
    // Small steps: one step of input inflates to at most about 1030 times its size.
    const step = 4096;
    for (let i = 0; i < data.length; i += step) inflater.push(data.subarray(i, Math.min(data.length, i + step)), i + step >= data.length);
    if (data.length === 0) inflater.push(new Uint8Array(0), true);
  } catch (e) {
    if (lied || e instanceof DocxRefused) throw e;
    throw new DocxRefused("This Word file is damaged (a part of it cannot be unpacked). If it was downloaded, download it again.");
  }
  if (written !== entry.size) throw new DocxRefused("This Word file is incomplete or damaged (a part of it is shorter than it says). If it was downloaded, download it again.");
  return out;
}
