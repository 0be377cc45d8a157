/**
 * Reads a recording member by member (format.ts), never holding more than one record's bytes at a time.
 * A recording that stops early or is damaged is still read: every intact record before the damage, then a report of
 * where the damage starts. Only a file that is no recording at all is an error.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { READABLE_RECORDING_SCHEMAS, type Frame, type RecordingHeader, type RecordingRecord } from '../vocabulary/index.js';
import { RecordingError } from './errors.js';
import { gunzipSync } from 'node:zlib';
import { MAX_MEMBER_HEADER_BYTES, decodeMember, memberIntact, readMemberHeader, type FrameSummary } from './format.js';
import { upgradeFrame } from './upgrade-frame.js';

export interface Damage {
  /** truncated: the file stops early (the writer was stopped); corrupt: bytes were changed. */
  kind: 'truncated' | 'corrupt';
  /** Compressed byte offset where the damage starts: the end of the last intact record. */
  offset: number;
  /** Intact records before it. */
  afterRecords: number;
  message: string;
}

export type RecordingEntry =
  /** `offset` and `bytes` locate the record's member in the file, for indexes and seeking. */
  | { type: 'record'; record: RecordingRecord; offset: number; bytes: number }
  /** A frame not parsed, with `summaries` on: what its member's header says of it (format.ts), its member intact. */
  | { type: 'summary'; summary: FrameSummary; offset: number; bytes: number }
  /** Always the last entry when present. */
  | { type: 'damage'; damage: Damage };

export interface Recording {
  header: RecordingHeader | null;
  /** Every intact record in file order, the header first. */
  records: RecordingRecord[];
  damage: Damage | null;
}

export async function readRecording(path: string): Promise<Recording> {
  const result: Recording = { header: null, records: [], damage: null };
  for await (const entry of iterateRecording(path)) {
    if (entry.type === 'damage') result.damage = entry.damage;
    else if (entry.type === 'record') result.records.push(entry.record);
  }
  const first = result.records[0];
  result.header = first?.kind === 'header' ? first : null;
  return result;
}

const LATER_KINDS = new Set<string>(['run-start', 'frame', 'run-end', 'end']);

/** A /4 frame member whose summary is yielded in place of the frame, once its run of such members is checked. */
interface Pending {
  summary: FrameSummary;
  offset: number;
  bytes: number;
}

/**
 * Yields each intact record, then a damage entry if the file does not end with an intact end record. Frames come in
 * the current schema's shape (upgrade-frame.ts); the header still names the schema the file was written in.
 * With `summaries`, a frame whose member carries a summary (schema /4 on) is yielded as that summary instead, its
 * JSON not parsed (an hour of nine servers is 168 MB of it). Its member is still checked: from /5 by its CRCs
 * (format.ts memberIntact), without inflating it; in /4 by inflating it, with its neighbours in one call. A member
 * that fails its check is parsed as without `summaries`, so damage is found and reported the same either way.
 * Throws RecordingError when the file is missing or is not a recording (its first record is no srvlens header).
 */
export async function* iterateRecording(path: string, options: { summaries?: boolean } = {}): AsyncGenerator<RecordingEntry, void, undefined> {
  const fh = await openRecording(path);
  try {
    const size = (await fh.stat()).size;
    const file = new ReadWindow(fh, size);
    let offset = 0;
    let count = 0;
    let ended = false;
    let schema = '';
    let pending: Pending[] = [];
    const damage = (kind: Damage['kind'], message: string): RecordingEntry => ({
      type: 'damage',
      damage: { kind, offset, afterRecords: count, message },
    });
    const corrupt = (reason: string) => damage('corrupt', `corrupt at byte ${offset}: ${reason}; ${intactBefore(count)}`);
    /** Parses the member at `offset` (whose header said `length`): the record, or the damage entry. */
    const parse = async (length: number): Promise<{ record: RecordingRecord } | { damage: RecordingEntry }> => {
      let record: unknown;
      try {
        record = JSON.parse(decodeMember(await file.bytes(offset, length)));
      } catch (err) {
        return { damage: corrupt(`record ${count + 1} is damaged (${(err as Error).message})`) };
      }
      const kind = (record as { kind?: unknown } | null)?.kind;
      if (count === 0) {
        schema = checkHeader(path, record);
      } else if (ended) {
        return { damage: corrupt('data after the end record') };
      } else if (typeof kind !== 'string' || !LATER_KINDS.has(kind)) {
        return { damage: corrupt(`record ${count + 1} is ${kind === 'header' ? 'a second header' : `of unknown kind ${JSON.stringify(kind)}`}`) };
      } else if (kind === 'frame') {
        upgradeFrame(record as Frame, schema);
      }
      return { record: record as RecordingRecord };
    };
    /**
     * The pending summaries, once their members are checked together; where that fails, they are parsed one by one
     * as without `summaries`, which yields the same records and finds the damage where it is. Leaves `offset` and
     * `count` after them, or at the damage (then the last entry yielded is the damage).
     */
    async function* flush(): AsyncGenerator<RecordingEntry, boolean, undefined> {
      if (pending.length === 0) return true;
      const run = pending;
      pending = [];
      const first = run[0].offset;
      const last = run[run.length - 1];
      if (checkRun(await file.bytes(first, last.offset + last.bytes - first), run.length)) {
        for (const p of run) {
          yield { type: 'summary', ...p };
          offset = p.offset + p.bytes;
          count++;
        }
        return true;
      }
      offset = first;
      for (const p of run) {
        const got = await parse(p.bytes);
        if ('damage' in got) {
          yield got.damage;
          return false;
        }
        yield { type: 'record', record: got.record, offset, bytes: p.bytes };
        offset += p.bytes;
        count++;
      }
      return true;
    }

    /** The next member to look at: past `offset` by the pending summaries' members. */
    let at = 0;
    while (at < size) {
      const headBytes = Math.min(MAX_MEMBER_HEADER_BYTES, size - at);
      // The pending members are in the window: check them before the window moves on, or they would be read twice.
      if (pending.length > 0 && !file.holds(at, headBytes) && !(yield* flush())) return;
      const head = await file.bytes(at, headBytes);
      const member = readMemberHeader(head);
      const available = size - at;
      const summary =
        member.ok && member.length <= available && options.summaries && member.summary && count + pending.length > 0 && !ended ? parseSummary(member.summary) : null;
      if (summary && member.ok && member.check === null) {
        pending.push({ summary, offset: at, bytes: member.length });
        at += member.length;
        continue;
      }
      if (summary && member.ok) {
        // Guarded: /5 frames leave nothing pending, and an async generator made per member for nothing made replay's
        // open of an hour of 9 servers ~365 ms against ~325 (medians of 8, fresh processes).
        if (pending.length > 0 && !(yield* flush())) return;
        if (memberIntact(await file.bytes(at, member.length), member)) {
          yield { type: 'summary', summary, offset, bytes: member.length };
          offset += member.length;
          at = offset;
          count++;
          continue;
        }
        // Damaged, or harmlessly so: parsed below, which says which.
      }
      // Anything else: the summaries before it first, so that entries stay in file order and damage is told from
      // the end of the intact records (offset === at from here).
      if (!(yield* flush())) return;
      if (!member.ok && member.partial) {
        yield damage('truncated', cutShort(offset, count, `${available} bytes of its header are there`));
        return;
      }
      if (!member.ok) {
        if (count === 0) throw notARecording(path, head);
        yield corrupt(`record ${count + 1}: ${member.reason}`);
        return;
      }
      if (member.length > available) {
        yield damage('truncated', cutShort(offset, count, `${available} of its ${member.length} bytes are there`));
        return;
      }
      const got = await parse(member.length);
      if ('damage' in got) {
        yield got.damage;
        return;
      }
      yield { type: 'record', record: got.record, offset, bytes: member.length };
      ended = got.record.kind === 'end';
      offset += member.length;
      at = offset;
      count++;
    }
    if (!(yield* flush())) return;
    if (!ended) {
      yield damage(
        'truncated',
        count === 0
          ? 'the file is empty: the run stopped before it wrote the recording header'
          : `ends at byte ${offset} after ${count === 1 ? '1 record' : `${count} records`}, without an end record: the run was stopped before it finished`,
      );
    }
  } finally {
    await fh.close();
  }
}

/** A summary's JSON, or null when it is not one (the member is then parsed, and its damage found there). */
function parseSummary(bytes: Buffer): FrameSummary | null {
  try {
    const s = JSON.parse(bytes.toString('utf8')) as FrameSummary;
    return Number.isInteger(s?.run) && Number.isInteger(s.index) ? s : null;
  } catch {
    return null;
  }
}

/** Consecutive members inflated at once (gunzip reads member after member): every CRC holds and each is one line. */
function checkRun(members: Buffer, count: number): boolean {
  let text: Buffer;
  try {
    text = gunzipSync(members);
  } catch {
    return false;
  }
  let lines = 0;
  for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) lines++;
  return lines === count && text[text.length - 1] === 10;
}

function cutShort(offset: number, count: number, have: string): string {
  return `cut short at byte ${offset}: record ${count + 1} is incomplete (${have}); ${intactBefore(count)}. The writer was probably stopped while writing it`;
}

function intactBefore(count: number): string {
  if (count === 0) return 'nothing before it was recorded';
  return count === 1 ? 'the record before it is intact' : `the ${count} records before it are intact`;
}

async function openRecording(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new RecordingError('RECORDING_NOT_FOUND', path, `recording not found: ${path}`);
    throw new RecordingError('RECORDING_INVALID', path, `cannot read recording ${path}: ${e.message}`);
  }
}

/**
 * The bytes of a file a window at a time: a record is a member of ~1-2 KB, and two reads of the file for each (its
 * header, then its member) cost more than inflating and parsing it (110 of 160 µs a frame, measured on 10,000).
 * A window is at least WINDOW_BYTES, so a file is read in a few hundred calls; what `bytes` returns is valid until
 * the next call.
 */
const WINDOW_BYTES = 1 << 20;

class ReadWindow {
  private buffer = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  /** Whether [position, position + length) is in the window: `bytes` returns it without reading. */
  holds(position: number, length: number): boolean {
    return position >= this.start && position + length <= this.start + this.buffer.length;
  }

  async bytes(position: number, length: number): Promise<Buffer> {
    const end = position + length;
    if (!this.holds(position, length)) {
      const want = Math.min(Math.max(length, WINDOW_BYTES), this.size - position);
      const buffer = Buffer.allocUnsafe(want);
      let done = 0;
      while (done < want) {
        const { bytesRead } = await this.fh.read(buffer, done, want - done, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      this.buffer = buffer.subarray(0, done);
      this.start = position;
    }
    return this.buffer.subarray(position - this.start, Math.min(end, this.start + this.buffer.length) - this.start);
  }
}

/** The header's schema, once it is one this srvlens reads. */
function checkHeader(path: string, record: unknown): string {
  const header = record as Partial<RecordingHeader> | null;
  if (header?.kind !== 'header') {
    throw new RecordingError('RECORDING_INVALID', path, `${path} is not a srvlens recording: its first record is not a recording header`);
  }
  if (!READABLE_RECORDING_SCHEMAS.includes(header.schema as string)) {
    throw new RecordingError(
      'RECORDING_UNSUPPORTED',
      path,
      `${path} is a recording of schema ${JSON.stringify(header.schema)}, which this srvlens cannot read (it reads ${READABLE_RECORDING_SCHEMAS.join(', ')}); use the srvlens version that wrote it`,
    );
  }
  return header.schema as string;
}

function notARecording(path: string, head: Buffer): RecordingError {
  const reason =
    head[0] === 0x1f && head[1] === 0x8b
      ? 'it is gzip, but without the per-record framing srvlens writes (was it decompressed and compressed again?)'
      : `it is not gzip-compressed (it starts with ${JSON.stringify(head.subarray(0, 16).toString('latin1'))})`;
  return new RecordingError('RECORDING_INVALID', path, `${path} is not a srvlens recording: ${reason}`);
}
