/**
 * Damaged copies of a small real recording, for issue 19's bad-input checks of `report` and `replay`: cut at a
 * byte offset, or with one bit flipped. The recording is the first frames of a real run (test/dashboard's fixture),
 * written anew so that it is a few KB and every offset of it can be tried.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRecording } from '../../src/recording/reader.js';
import { RecordingWriter } from '../../src/recording/writer.js';
import { UserError } from '../../src/vocabulary/errors.js';
import type { RecordingRecord } from '../../src/vocabulary/index.js';
import { reportFromFile } from '../../src/report/load-report.js';
import { renderText } from '../../src/report/text-report.js';
import { renderMarkdown } from '../../src/report/markdown-report.js';

export interface SmallRecording {
  bytes: Buffer;
  records: RecordingRecord[];
  /** Where each record's member ends. */
  ends: number[];
}

/** Header, the first run's start, `frames` of its frames, its end, the end record. */
export async function smallRecording(dir: string, frames = 3): Promise<SmallRecording> {
  const { records } = await readRecording('test/dashboard/fixtures/three-loops.srvlens.gz');
  const run0 = records.filter((r) => (r.kind === 'run-start' || r.kind === 'run-end' || r.kind === 'frame') && r.run === 0);
  const picked = [records[0], run0[0], ...run0.filter((r) => r.kind === 'frame').slice(0, frames), run0.find((r) => r.kind === 'run-end')!, records.at(-1)!];
  const path = join(dir, 'small.srvlens.gz');
  const writer = RecordingWriter.open(path);
  const ends: number[] = [];
  for (const r of picked) {
    writer.write(r);
    ends.push(writer.offset);
  }
  writer.close();
  return { bytes: readFileSync(path), records: picked, ends };
}

export interface ReportOutcome {
  /** Records read before the damage (null: refused as no recording, with a UserError). */
  records: number | null;
  damageOffset: number | null;
}

/**
 * `srvlens report`'s work on `bytes`: read, build, render as text and Markdown. Resolves with what it read; throws
 * whatever is not a user-facing refusal (a crash) or a report that claims more than the file holds.
 */
export async function reportOn(path: string, bytes: Buffer): Promise<ReportOutcome> {
  writeFileSync(path, bytes);
  try {
    const report = await reportFromFile(path);
    renderText(report);
    renderMarkdown(report);
    const { records, damage } = await readRecording(path);
    if ((report.damage === null) !== (damage === null)) throw new Error(`the report and the reader disagree on damage: ${JSON.stringify(report.damage)} vs ${JSON.stringify(damage)}`);
    return { records: records.length, damageOffset: damage?.offset ?? null };
  } catch (err) {
    if (err instanceof UserError) return { records: null, damageOffset: null };
    throw err;
  }
}

/**
 * `srvlens replay` of `bytes` in a terminal of memory, stopped after `forMs` as Ctrl-C would: the damage it says,
 * or null when it refused the file with a UserError (no header, no frames). Throws on a crash.
 */
export async function replayOn(path: string, bytes: Buffer, forMs = 400): Promise<{ damage: string | null } | null> {
  writeFileSync(path, bytes);
  const { fakeTerminal } = await import('../dashboard/fake-terminal.js');
  const { replayRecording } = await import('../../dashboard/replay.js');
  const term = fakeTerminal(100, 30);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), forMs);
  try {
    return await replayRecording(path, { input: term.input, output: term.output, speed: 100, stop: stop.signal });
  } catch (err) {
    if (err instanceof UserError) return null;
    throw err;
  } finally {
    clearTimeout(timer);
    term.screen.destroy();
  }
}
