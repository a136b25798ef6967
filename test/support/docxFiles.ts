/** Building .docx packages byte by byte and reading them back, with readers other than Writer's own (unit and e2e tests). */
import { deflateSync, strToU8, unzipSync, zipSync } from "fflate";
import { XMLParser } from "fast-xml-parser";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface RawEntry {
  name: string;
  /** The bytes as stored (already deflated when method is 8). */
  stored: Uint8Array;
  method: 0 | 8;
  /** What the directory says it unpacks to. */
  size: number;
  crc?: number;
  flags?: number;
}

/** A zip written byte by byte, so that tests can make it lie (sizes, flags). */
export function rawZip(entries: RawEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = strToU8(e.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, e.flags ?? 0, true);
    lv.setUint16(8, e.method, true);
    lv.setUint32(14, e.crc ?? 0, true);
    lv.setUint32(18, e.stored.length, true);
    lv.setUint32(22, e.size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, e.flags ?? 0, true);
    cv.setUint16(10, e.method, true);
    cv.setUint32(16, e.crc ?? 0, true);
    cv.setUint32(20, e.stored.length, true);
    cv.setUint32(24, e.size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    parts.push(local, e.stored);
    central.push(cd);
    offset += local.length + e.stored.length;
  }
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, end];
  const out = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function deflated(name: string, data: Uint8Array): RawEntry {
  return { name, stored: deflateSync(data, { level: 9 }), method: 8, size: data.length, crc: crc32(data) };
}

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml"';

/** A minimal .docx as Word writes one: the parts given, plus content types and relationships. */
export function wordPackage(parts: { body: string; styles?: string; numbering?: string; comments?: string; commentsExtended?: string; documentRels?: string; extra?: Record<string, string> }): Uint8Array {
  const files: Record<string, Uint8Array> = {
    "[Content_Types].xml": strToU8(
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
    ),
    "_rels/.rels": strToU8(
      `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
    ),
    "word/document.xml": strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ${W}><w:body>${parts.body}<w:sectPr/></w:body></w:document>`),
  };
  if (parts.styles) files["word/styles.xml"] = strToU8(`<?xml version="1.0" encoding="UTF-8"?><w:styles ${W}>${parts.styles}</w:styles>`);
  if (parts.numbering) files["word/numbering.xml"] = strToU8(`<?xml version="1.0" encoding="UTF-8"?><w:numbering ${W}>${parts.numbering}</w:numbering>`);
  if (parts.comments) files["word/comments.xml"] = strToU8(`<?xml version="1.0" encoding="UTF-8"?><w:comments ${W}>${parts.comments}</w:comments>`);
  if (parts.commentsExtended) files["word/commentsExtended.xml"] = strToU8(`<?xml version="1.0" encoding="UTF-8"?><w15:commentsEx ${W}>${parts.commentsExtended}</w15:commentsEx>`);
  if (parts.documentRels) {
    files["word/_rels/document.xml.rels"] = strToU8(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${parts.documentRels}</Relationships>`);
  }
  for (const [name, text] of Object.entries(parts.extra ?? {})) files[name] = strToU8(text);
  return zipSync(files);
}

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", processEntities: true, trimValues: false, htmlEntities: false, isArray: () => true });

export type XmlNode = Record<string, unknown>;

/** A part of a package, parsed by fast-xml-parser (every child an array). */
export function part(docx: Uint8Array, name: string): XmlNode {
  const files = unzipSync(docx);
  const bytes = files[name];
  if (!bytes) throw new Error(`${name} is not in the package (${Object.keys(files).join(", ")})`);
  return xml.parse(new TextDecoder().decode(bytes)) as XmlNode;
}

/** Every element called `name` anywhere under `node`, in document order. */
export function all(node: unknown, name: string): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== "object") return;
    for (const [k, v] of Object.entries(n as XmlNode)) {
      if (k === name) for (const x of v as XmlNode[]) out.push(x);
      walk(v);
    }
  };
  walk(node);
  return out;
}

/** The text of the w:t (or w:delText) elements under a node. */
export function textOf(node: unknown, tag = "w:t"): string {
  return all(node, tag)
    .map((t) => (typeof t === "string" ? t : String((t as XmlNode)["#text"] ?? "")))
    .join("");
}
