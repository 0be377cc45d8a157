import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../src/recording/reader.js';
import { replayOn, reportOn, smallRecording } from '../helpers/damaged-recordings.js';

// The fast share of issue 19's cuts and flips (test/reliability/damaged-recordings.test.ts tries every offset).
const dir = mkdtempSync(join(tmpdir(), 'srvlens-damaged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'damaged.srvlens.gz');

describe('report and replay of a damaged recording', () => {
  it('cut anywhere: report the complete records before the cut and say where it is', async () => {
    const small = await smallRecording(dir);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: small.bytes.length }), async (length) => {
        const outcome = await reportOn(path, small.bytes.subarray(0, length));
        const complete = small.ends.filter((e) => e <= length).length;
        if (complete === 0) return void expect(outcome.records, `cut at ${length}`).toBeNull();
        expect(outcome.records, `cut at ${length}`).toBe(complete);
        expect(outcome.damageOffset, `cut at ${length}`).toBe(length === small.bytes.length ? null : small.ends[complete - 1]);
      }),
      { numRuns: 40, seed: 19 },
    );
  });

  it('with a bit flipped: report at most the records before it, never a crash', async () => {
    const small = await smallRecording(dir);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: small.bytes.length - 1 }), fc.integer({ min: 0, max: 7 }), async (at, bit) => {
        const bytes = Buffer.from(small.bytes);
        bytes[at] ^= 1 << bit;
        const outcome = await reportOn(path, bytes);
        const before = small.ends.filter((e) => e <= at).length;
        // Every record ending before the flipped byte is read; the one holding it is not (its CRC says so).
        if (before > 0) expect(outcome.records, `bit ${bit} of byte ${at}`).toBeGreaterThanOrEqual(before);
        // All of them only when the bit is one deflate does not read: then what is read is what was written.
        if (outcome.records === small.records.length) expect((await readRecording(path)).records).toEqual(small.records);
      }),
      { numRuns: 40, seed: 19 },
    );
  });

  it('replay a cut recording up to its damage, saying where', async () => {
    const small = await smallRecording(dir);
    const cut = small.bytes.subarray(0, small.ends[3] + 10); // header, run start, two frames, 10 bytes of the third
    const result = await replayOn(path, cut);
    expect(result?.damage).toMatch(new RegExp(`^cut short at byte ${small.ends[3]}: record 5 is incomplete`));
    expect(result?.damage).toBe((await readRecording(path)).damage?.message);
  });
});
