import { describe, expect, it } from 'vitest';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { mergeHdr, summariseHdr } from '../../src/vocabulary/hdr.js';
import { seeded } from '../analysis/synthetic-windows.js';
import { encodeLatencies } from '../helpers/latency-hdr.js';

describe('HDR merging', () => {
  it('reads percentiles from the merge, not an average of the parts', () => {
    // A fast worker and a slow one: their p99s average to ~5 ms, the merge's p99 is the slow worker's 10 ms.
    const fast = encodeLatencies(Array.from({ length: 500 }, () => 100));
    const slow = encodeLatencies(Array.from({ length: 500 }, () => 10_000));
    const s = summariseHdr([fast, '', slow])!;
    expect(s.count).toBe(1000);
    expect(s.p50_us).toBeCloseTo(100, -1);
    expect(s.p99_us).toBeGreaterThan(9_990);
    expect(s.max_us).toBeGreaterThan(9_990);
  });

  it('adds encoded histograms bucket by bucket, whatever the split (seeded values)', () => {
    const r = seeded(21);
    const values = Array.from({ length: 3000 }, () => 1 + Math.floor(r() * 50_000));
    const whole = summariseHdr([encodeLatencies(values)]);
    const merged = mergeHdr([encodeLatencies(values.slice(0, 1000)), encodeLatencies(values.slice(1000, 1200)), encodeLatencies(values.slice(1200))]);
    expect(decodeFromCompressedBase64(merged).totalCount).toBe(3000);
    expect(summariseHdr([merged])).toEqual(whole);
  });

  it('has no summary (null) for no values', () => {
    expect(summariseHdr([])).toBeNull();
    expect(summariseHdr([encodeLatencies([])])).toBeNull();
  });
});
