import { describe, expect, it } from 'vitest';
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { mergeHdr, summariseHdr } from '../../src/vocabulary/hdr.js';
import { seeded } from '../analysis/synthetic-windows.js';

function encoded(values: readonly number[]): string {
  const h = build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  for (const v of values) h.recordValue(v);
  const out = encodeIntoCompressedBase64(h);
  h.destroy();
  return out;
}

describe('HDR merging', () => {
  it('reads percentiles from the merge, not an average of the parts', () => {
    // A fast worker and a slow one: their p99s average to ~5 ms, the merge's p99 is the slow worker's 10 ms.
    const fast = encoded(Array.from({ length: 500 }, () => 100));
    const slow = encoded(Array.from({ length: 500 }, () => 10_000));
    const s = summariseHdr([fast, '', slow])!;
    expect(s.count).toBe(1000);
    expect(s.p50_us).toBeCloseTo(100, -1);
    expect(s.p99_us).toBeGreaterThan(9_990);
    expect(s.max_us).toBeGreaterThan(9_990);
  });

  it('adds encoded histograms bucket by bucket, whatever the split (seeded values)', () => {
    const r = seeded(21);
    const values = Array.from({ length: 3000 }, () => 1 + Math.floor(r() * 50_000));
    const whole = summariseHdr([encoded(values)]);
    const merged = mergeHdr([encoded(values.slice(0, 1000)), encoded(values.slice(1000, 1200)), encoded(values.slice(1200))]);
    expect(decodeFromCompressedBase64(merged).totalCount).toBe(3000);
    expect(summariseHdr([merged])).toEqual(whole);
  });

  it('has no summary (null) for no values', () => {
    expect(summariseHdr([])).toBeNull();
    expect(summariseHdr([encoded([])])).toBeNull();
  });
});
