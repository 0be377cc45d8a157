import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../src/recording/reader.js';
import { replayOn, reportOn, smallRecording } from '../helpers/damaged-recordings.js';

const dir = mkdtempSync(join(tmpdir(), 'srvlens-damaged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'damaged.srvlens.gz');

describe('report and replay of a small recording damaged at every byte (issue 19)', () => {
  it('cut at every offset: the complete records before the cut, and where it is', async () => {
    const small = await smallRecording(dir);
    let lost = 0;
    for (let length = 0; length <= small.bytes.length; length++) {
      const outcome = await reportOn(path, small.bytes.subarray(0, length));
      const complete = small.ends.filter((e) => e <= length).length;
      if (complete === 0) expect(outcome.records, `cut at ${length}`).toBeNull();
      else {
        expect(outcome.damageOffset, `cut at ${length}`).toBe(length === small.bytes.length ? null : small.ends[complete - 1]);
        lost += complete - (outcome.records ?? 0);
      }
    }
    console.log(`recording cuts: ${small.bytes.length + 1} lengths of a ${small.bytes.length}-byte recording of ${small.records.length} records, 0 crashes, ${lost} complete records lost`);
    expect(lost).toBe(0);
  });

  it('one bit flipped in every byte: the records before it, never a crash', async () => {
    const small = await smallRecording(dir);
    let refused = 0;
    let harmless = 0;
    for (let at = 0; at < small.bytes.length; at++) {
      const bytes = Buffer.from(small.bytes);
      bytes[at] ^= 1 << at % 8;
      const outcome = await reportOn(path, bytes);
      const before = small.ends.filter((e) => e <= at).length;
      if (outcome.records === null) refused++;
      if (before > 0) expect(outcome.records, `byte ${at}`).toBeGreaterThanOrEqual(before);
      if (outcome.records === small.records.length) {
        // A bit deflate never reads (the padding after a member's last block): the data read must be the data written.
        harmless++;
        expect((await readRecording(path)).records, `byte ${at}`).toEqual(small.records);
      }
    }
    console.log(`recording bit flips: ${small.bytes.length} flips, 0 crashes, 0 altered records, ${refused} refused as no recording (the flip in its header), ${harmless} in bits deflate does not read`);
  });

  it('replayed when cut at each record boundary and just after: up to the damage, saying where', async () => {
    const small = await smallRecording(dir);
    for (const end of small.ends.slice(0, -1)) {
      for (const length of [end, end + 1]) {
        const result = await replayOn(path, small.bytes.subarray(0, length), 300);
        const { damage, records } = await readRecording(path);
        const frames = records.filter((r) => r.kind === 'frame').length;
        // No frames: refused with a UserError ("nothing to replay"), which says the damage too.
        if (frames === 0) expect(result, `cut at ${length}`).toBeNull();
        else expect(result?.damage, `cut at ${length}`).toBe(damage?.message);
      }
    }
  });
});
