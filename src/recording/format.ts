/**
 * The recording file format: a sequence of gzip members (RFC 1952), one per record, each holding one JSON line.
 *
 * One member per record means a file cut anywhere loses at most the record being written, and any gunzip reads
 * the whole file as JSON lines (`zcat run.srvlens.gz | jq`). Each member's header carries the member's total length
 * in an FEXTRA subfield "SL", as BGZF (samtools' indexed gzip) does with its "BC" subfield: a reader finds the next
 * member without inflating this one, which is what seeking and resynchronising after damage will build on.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { RecordingRecord } from '../vocabulary/index.js';

/** Every member starts with these bytes, then its total length as uint32 little-endian. */
const HEADER_TEMPLATE = Buffer.from([
  0x1f, 0x8b, // gzip magic
  8, // compression method: deflate
  0x04, // flags: FEXTRA only
  0, 0, 0, 0, // mtime: none (the record carries its own time)
  0, // extra flags
  255, // OS: unknown
  8, 0, // XLEN: one subfield of 4 + 4 bytes
  0x53, 0x4c, // subfield id "SL" (srvlens length)
  4, 0, // subfield length
]);
export const MEMBER_HEADER_BYTES = HEADER_TEMPLATE.length + 4;
/** zlib writes a 10-byte gzip header (no optional fields); ours replaces it. */
const ZLIB_HEADER_BYTES = 10;
/** Smallest member: our header, an empty deflate stream (2 bytes), CRC32 and ISIZE (8). */
const MIN_MEMBER_BYTES = MEMBER_HEADER_BYTES + 2 + 8;
/**
 * Far above any real record (a frame of 10,000 thread contexts is a few MB of JSON before compression), so a
 * larger length can only be a damaged length field.
 */
const MAX_MEMBER_BYTES = 64 * 1024 * 1024;

export function encodeMember(record: RecordingRecord): Buffer {
  const gz = gzipSync(`${JSON.stringify(record)}\n`);
  const member = Buffer.concat([HEADER_TEMPLATE, Buffer.alloc(4), gz.subarray(ZLIB_HEADER_BYTES)]);
  member.writeUInt32LE(member.length, HEADER_TEMPLATE.length);
  return member;
}

export type MemberHeader =
  | { ok: true; length: number }
  /** `partial`: the bytes are too few to tell, but what there is agrees with the format (a cut, not a corruption). */
  | { ok: false; partial: boolean; reason: string };

/** Checks the first MEMBER_HEADER_BYTES of a member (fewer at the end of a file). */
export function readMemberHeader(bytes: Buffer): MemberHeader {
  const fixed = Math.min(bytes.length, HEADER_TEMPLATE.length);
  if (!bytes.subarray(0, fixed).equals(HEADER_TEMPLATE.subarray(0, fixed))) {
    return { ok: false, partial: false, reason: 'no srvlens gzip member header where one should start' };
  }
  if (bytes.length < MEMBER_HEADER_BYTES) return { ok: false, partial: true, reason: 'incomplete member header' };
  const length = bytes.readUInt32LE(HEADER_TEMPLATE.length);
  if (length < MIN_MEMBER_BYTES || length > MAX_MEMBER_BYTES) {
    return { ok: false, partial: false, reason: `impossible member length ${length}` };
  }
  return { ok: true, length };
}

/** The JSON line a whole member holds; throws when the data does not match its checksum or length. */
export function decodeMember(member: Buffer): string {
  const text = gunzipSync(member).toString('utf8');
  // One line exactly: more would mean the length field swallowed the next member.
  if (text.indexOf('\n') !== text.length - 1) throw new Error('member does not hold exactly one JSON line');
  return text;
}
