/**
 * Writes a recording, one gzip member per record (format.ts), each with one synchronous write(2) on the file
 * descriptor: once write() returns, the record is in the kernel's page cache and survives the process being killed,
 * even with SIGKILL. (Surviving a power cut would take an fsync per record; a profiler does not need that.)
 */
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { RecordingRecord } from '../vocabulary/index.js';
import { encodeMember } from './format.js';
import { RecordingDiskFull } from './errors.js';

/** Errors that mean the file can take no more: a full disk, a quota, a file size limit. */
const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

export class RecordingWriter {
  private fd: number | null;
  private records = 0;
  /** Bytes written so far: where the next record's member starts. */
  private bytes = 0;
  /** Set once the disk filled: later records are dropped, not written after a gap. */
  private full: RecordingDiskFull | null = null;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Creates (or truncates) the file. */
  static open(path: string): RecordingWriter {
    return new RecordingWriter(path, openSync(path, 'w'));
  }

  get offset(): number {
    return this.bytes;
  }

  /** Throws RecordingDiskFull once when the disk fills; the records after it are dropped. */
  write(record: RecordingRecord): void {
    if (this.fd === null) throw new Error(`recording ${this.path} is closed`);
    if (this.full) return;
    // The reader takes a file whose first record is not a header for something else than a recording.
    if (this.records === 0 && record.kind !== 'header') throw new Error(`the first record of a recording must be its header, not "${record.kind}"`);
    const member = encodeMember(record);
    try {
      // write(2) may write less than asked; loop so that only a kill can leave a member short.
      for (let done = 0; done < member.length; ) done += writeSync(this.fd, member, done, member.length - done);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (!FULL.has(e.code ?? '')) throw err;
      // The part of the member that fitted goes: the file ends at the last whole record, as a reader expects.
      ftruncateSync(this.fd, this.bytes);
      this.full = new RecordingDiskFull(this.path, e, this.records, this.bytes);
      throw this.full;
    }
    this.bytes += member.length;
    this.records++;
  }

  /** Closes the file; closing again does nothing. */
  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
