import { crc32 } from "node:zlib";

/**
 * The on-disk form of one stored value: a 20-byte header, then the payload.
 *
 *     offset  size  field (big-endian)
 *          0     4  magic, ASCII "WRT1" (Writer chunk, format 1)
 *          4     4  payload length, uint32
 *          8     8  write sequence, uint64 (see below)
 *         16     4  CRC-32 of bytes 0..15 and of the payload
 *         20     n  payload
 *
 * The checksum is there to catch torn writes, truncation and garbage after a power cut
 * or a bad disk, not tampering (whoever can write the data directory can do anything),
 * so CRC-32 is enough, and it is cheap on multi-megabyte snapshots.
 *
 * The write sequence orders the chunks of a range in the order they were saved, as
 * automerge-repo's nodefs adapter does through its cache and as its adapter suite expects;
 * directory order is arbitrary and mtimes are too coarse to tell saves apart.
 */
const MAGIC = Buffer.from("WRT1", "ascii");

/** Size of the header in front of every payload. */
const HEADER_SIZE = 20;

/** Largest payload the uint32 length field can describe. */
const MAX_PAYLOAD_SIZE = 0xffff_ffff;

/** A chunk file that verified, or why it did not. */
export type DecodedChunk =
  | { ok: true; payload: Uint8Array; sequence: bigint }
  | { ok: false; reason: string };

/** The bytes of a chunk file holding `payload`. */
export function encodeChunk(payload: Uint8Array, sequence: bigint): Buffer {
  if (payload.byteLength > MAX_PAYLOAD_SIZE) {
    throw new RangeError(`A chunk holds at most ${MAX_PAYLOAD_SIZE} bytes, got ${payload.byteLength}`);
  }
  const file = Buffer.allocUnsafe(HEADER_SIZE + payload.byteLength);
  MAGIC.copy(file, 0);
  file.writeUInt32BE(payload.byteLength, 4);
  file.writeBigUInt64BE(sequence, 8);
  file.set(payload, HEADER_SIZE);
  file.writeUInt32BE(checksum(file), 16);
  return file;
}

/** Verifies a chunk file and returns its payload (a view, not a copy) or what is wrong with it. */
export function decodeChunk(file: Buffer): DecodedChunk {
  if (file.length === 0) return { ok: false, reason: "empty file (0 bytes)" };
  if (file.length < HEADER_SIZE) return { ok: false, reason: `truncated header (${file.length} bytes)` };
  if (!file.subarray(0, 4).equals(MAGIC)) return { ok: false, reason: "not a Writer chunk (bad magic bytes)" };
  const length = file.readUInt32BE(4);
  if (file.length !== HEADER_SIZE + length) {
    return {
      ok: false,
      reason: `length mismatch: header says ${length} payload bytes, file has ${file.length - HEADER_SIZE}`,
    };
  }
  if (file.readUInt32BE(16) !== checksum(file)) return { ok: false, reason: "checksum mismatch" };
  return {
    ok: true,
    // A plain Uint8Array, not a Buffer: callers compare and hand it on as automerge bytes.
    payload: new Uint8Array(file.buffer, file.byteOffset + HEADER_SIZE, length),
    sequence: file.readBigUInt64BE(8),
  };
}

function checksum(file: Buffer): number {
  return crc32(file.subarray(HEADER_SIZE), crc32(file.subarray(0, 16)));
}
