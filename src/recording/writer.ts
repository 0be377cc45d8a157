/**
 * Writes a recording, one gzip member per record (format.ts), each with one synchronous write(2) on the file
 * descriptor: once write() returns, the record is in the kernel's page cache and survives the process being killed,
 * even with SIGKILL. (Surviving a power cut would take an fsync per record; a profiler does not need that.)
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { RecordingRecord } from '../vocabulary/index.js';
import { encodeMember } from './format.js';

export class RecordingWriter {
  private fd: number | null;
  private records = 0;
  /** Bytes written so far: where the next record's member starts. */
  private bytes = 0;

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

  write(record: RecordingRecord): void {
    if (this.fd === null) throw new Error(`recording ${this.path} is closed`);
    // The reader takes a file whose first record is not a header for something else than a recording.
    if (this.records === 0 && record.kind !== 'header') throw new Error(`the first record of a recording must be its header, not "${record.kind}"`);
    const member = encodeMember(record);
    // write(2) may write less than asked; loop so that only a kill can leave a member short.
    for (let done = 0; done < member.length; ) done += writeSync(this.fd, member, done, member.length - done);
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
