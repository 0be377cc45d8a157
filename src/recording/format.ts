/**
 * The recording file format: a sequence of gzip members (RFC 1952), one per record, each holding one JSON line.
 *
 * One member per record means a file cut anywhere loses at most the record being written, and any gunzip reads
 * the whole file as JSON lines (`zcat run.srvlens.gz | jq`). Each member's header carries the member's total length
 * in an FEXTRA subfield "SL", as BGZF (samtools' indexed gzip) does with its "BC" subfield: a reader finds the next
 * member without inflating this one, which is what seeking and resynchronising after damage build on.
 *
 * From schema /4 a frame's member also carries "SX": the few fields an index needs (run, interval, phase), as JSON,
 * so that replay indexes an hour of frames without parsing them (reader.ts, `summaries`). Its header then has the
 * gzip header CRC (FHCRC), which gunzip checks, so a summary is as trustworthy as the record it sums up.
 * From /5 a frame's member also carries "SC" before "SX": the CRC32 of the member's bytes after its header (the
 * deflate stream and gzip's trailer). With FHCRC over the header, every byte of the member is checked without
 * inflating it (memberIntact): the bytes are the ones the writer wrote, which is what inflating an hour of frames
 * (168 MB of JSON, ~0.7 s) checked for replay's index; a CRC32 of the 53 MB they compress to takes ~20 ms.
 */
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import type { Frame, RecordingRecord } from '../vocabulary/index.js';

const FLG_FHCRC = 0x02;
const FLG_FEXTRA = 0x04;
/** Magic, deflate, flags (at FLG_AT), no mtime (the record carries its own time), no extra flags, OS unknown. */
const FIXED = Buffer.from([0x1f, 0x8b, 8, FLG_FEXTRA, 0, 0, 0, 0, 0, 255]);
const FLG_AT = 3;
/** XLEN, then the "SL" subfield: id, its length (4), the member's total length as uint32 little-endian. */
const SL = Buffer.from([0x53, 0x4c, 4, 0]);
const SL_AT = FIXED.length + 2;
const LENGTH_AT = SL_AT + SL.length;
/** Every member's header is at least this long (one without a summary is exactly this). */
export const MEMBER_HEADER_BYTES = LENGTH_AT + 4;
/** The "SC" subfield (from /5, frames only): id, its length (4), the CRC32 of the member after its header. */
const SC = Buffer.from([0x53, 0x43, 4, 0]);
const SC_BYTES = SC.length + 4;
const SX = Buffer.from([0x53, 0x58]);
/** XLEN is 16 bits: a summary longer than this (a phase named at length) is left out, and the frame is parsed. */
const MAX_SUMMARY_BYTES = 4096;
/** The longest header a reader must look at to know a member's length and summary. */
export const MAX_MEMBER_HEADER_BYTES = MEMBER_HEADER_BYTES + SC_BYTES + 4 + MAX_SUMMARY_BYTES + 2;
/** zlib writes a 10-byte gzip header (no optional fields); ours replaces it. */
const ZLIB_HEADER_BYTES = 10;
/** Smallest member: our header, an empty deflate stream (2 bytes), CRC32 and ISIZE (8). */
const MIN_MEMBER_BYTES = MEMBER_HEADER_BYTES + 2 + 8;
/**
 * Far above any real record (a frame of 10,000 thread contexts is a few MB of JSON before compression), so a
 * larger length can only be a damaged length field.
 */
const MAX_MEMBER_BYTES = 64 * 1024 * 1024;

/** What an index needs of a frame: its run, its interval on the clock, and its phase (null without a generator). */
export interface FrameSummary {
  run: number;
  index: number;
  phase: string | null;
  phase_index: number | null;
}

export function frameSummary(f: Frame): FrameSummary {
  return { run: f.run, index: f.index, phase: f.generator?.phase ?? null, phase_index: f.generator?.phase_index ?? null };
}

export function encodeMember(record: RecordingRecord): Buffer {
  const gz = gzipSync(`${JSON.stringify(record)}\n`);
  const body = gz.subarray(ZLIB_HEADER_BYTES);
  let summary = record.kind === 'frame' ? Buffer.from(JSON.stringify(frameSummary(record))) : null;
  if (summary && summary.length > MAX_SUMMARY_BYTES) summary = null;
  const head = Buffer.alloc(MEMBER_HEADER_BYTES + (summary ? SC_BYTES + 4 + summary.length + 2 : 0));
  FIXED.copy(head);
  SL.copy(head, SL_AT);
  head.writeUInt16LE(SL.length + 4 + (summary ? SC_BYTES + 4 + summary.length : 0), FIXED.length);
  if (summary) {
    head[FLG_AT] = FLG_FEXTRA | FLG_FHCRC;
    SC.copy(head, MEMBER_HEADER_BYTES);
    head.writeUInt32LE(crc32(body), MEMBER_HEADER_BYTES + SC.length);
    SX.copy(head, MEMBER_HEADER_BYTES + SC_BYTES);
    head.writeUInt16LE(summary.length, MEMBER_HEADER_BYTES + SC_BYTES + 2);
    summary.copy(head, MEMBER_HEADER_BYTES + SC_BYTES + 4);
  }
  const length = head.length + body.length;
  head.writeUInt32LE(length, LENGTH_AT);
  // FHCRC: the low 16 bits of the CRC32 of the header before it (RFC 1952 2.3.1).
  if (summary) head.writeUInt16LE(crc32(head.subarray(0, head.length - 2)) & 0xffff, head.length - 2);
  return Buffer.concat([head, body], length);
}

export type MemberHeader =
  /**
   * `summary`: the SX subfield's bytes (a frame of /4 on); `check`: the SC subfield's CRC32 (a frame of /5 on), else
   * null; `headerBytes`: where the member's deflate stream starts. Summary and check are vouched for only by
   * inflating the member, or by memberIntact.
   */
  | { ok: true; length: number; headerBytes: number; summary: Buffer | null; check: number | null }
  /** `partial`: the bytes are too few to tell, but what there is agrees with the format (a cut, not a corruption). */
  | { ok: false; partial: boolean; reason: string };

/**
 * Whether the bytes at `at` are `want`, or as much of it as there is. A loop, not a subarray and equals: three of
 * those per member made replay's open of an hour of 9 servers ~370 ms against ~325 (medians of 8, fresh processes).
 */
const agrees = (bytes: Buffer, at: number, want: Buffer): boolean => {
  for (let i = 0; i < want.length && at + i < bytes.length; i++) if (bytes[at + i] !== want[i]) return false;
  return true;
};

/** Checks the header at the start of `bytes` (MAX_MEMBER_HEADER_BYTES of a member, fewer at the end of a file). */
export function readMemberHeader(bytes: Buffer): MemberHeader {
  const flags = bytes[FLG_AT];
  const withSummary = flags === (FLG_FEXTRA | FLG_FHCRC);
  const fixedOk =
    agrees(bytes, 0, FIXED.subarray(0, FLG_AT)) && (flags === undefined || flags === FLG_FEXTRA || withSummary) && agrees(bytes, FLG_AT + 1, FIXED.subarray(FLG_AT + 1));
  if (!fixedOk || !agrees(bytes, SL_AT, SL)) return { ok: false, partial: false, reason: 'no srvlens gzip member header where one should start' };
  const short = { ok: false, partial: true, reason: 'incomplete member header' } as const;
  if (bytes.length < MEMBER_HEADER_BYTES) return short;
  const xlen = bytes.readUInt16LE(FIXED.length);
  let summary: Buffer | null = null;
  let check: number | null = null;
  let headerBytes = MEMBER_HEADER_BYTES;
  if (withSummary) {
    // /5 puts the check before the summary; /4 has the summary alone.
    const checked = agrees(bytes, MEMBER_HEADER_BYTES, SC);
    const sxAt = MEMBER_HEADER_BYTES + (checked ? SC_BYTES : 0);
    if (bytes.length < sxAt + 4) return agrees(bytes, sxAt, SX) ? short : { ok: false, partial: false, reason: 'a flagged summary is missing' };
    const n = bytes.readUInt16LE(sxAt + 2);
    if (!agrees(bytes, sxAt, SX) || n > MAX_SUMMARY_BYTES || xlen !== sxAt - SL_AT + 4 + n) {
      return { ok: false, partial: false, reason: 'a damaged summary subfield' };
    }
    headerBytes = sxAt + 4 + n + 2;
    if (bytes.length < headerBytes) return short;
    summary = bytes.subarray(sxAt + 4, sxAt + 4 + n);
    if (checked) check = bytes.readUInt32LE(MEMBER_HEADER_BYTES + SC.length);
  } else if (xlen !== SL.length + 4) {
    return { ok: false, partial: false, reason: `an extra field of ${xlen} bytes where srvlens writes ${SL.length + 4}` };
  }
  const length = bytes.readUInt32LE(LENGTH_AT);
  if (length < MIN_MEMBER_BYTES || length > MAX_MEMBER_BYTES) {
    return { ok: false, partial: false, reason: `impossible member length ${length}` };
  }
  return { ok: true, length, headerBytes, summary, check };
}

/**
 * Whether a whole member (`header` read from it) is as written, without inflating it: its header CRC and its SC
 * check hold. False for a member without SC (before /5), and for one where either fails: inflating it then tells
 * the damage (decodeMember), or finds it harmless (a flipped bit in deflate's padding, which the CRC32 counts).
 */
export function memberIntact(member: Buffer, header: Extract<MemberHeader, { ok: true }>): boolean {
  const h = header.headerBytes;
  return (
    header.check !== null &&
    member.length === header.length &&
    (crc32(member.subarray(0, h - 2)) & 0xffff) === member.readUInt16LE(h - 2) &&
    crc32(member.subarray(h)) === header.check
  );
}

/** The JSON line a whole member holds; throws when the data does not match its checksum or length. */
export function decodeMember(member: Buffer): string {
  const text = gunzipSync(member).toString('utf8');
  // One line exactly: more would mean the length field swallowed the next member.
  if (text.indexOf('\n') !== text.length - 1) throw new Error('member does not hold exactly one JSON line');
  return text;
}
