/**
 * Classic buckets read as an exponential histogram: the quantiles read back agree with histogram_quantile's own
 * linear interpolation (written out here from Prometheus's documentation), and counts and sums are kept exactly.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { classicToExp } from '../../src/collect/prometheus/classic-buckets.js';
import { expQuantile, mergeExpHistograms } from '../../src/vocabulary/index.js';

/** histogram_quantile(q, ...) as Prometheus computes it from cumulative buckets (rank q x total), or at a rank given. */
function histogramQuantile(q: number, le: number[], cumulative: number[], at?: number): number {
  const total = cumulative[cumulative.length - 1];
  const rank = at ?? q * total;
  const i = cumulative.findIndex((c) => c >= rank);
  if (le[i] === Infinity) return le[le.length - 2];
  const lo = i === 0 ? 0 : le[i - 1];
  const below = i === 0 ? 0 : cumulative[i - 1];
  const inBucket = cumulative[i] - below;
  return lo + ((le[i] - lo) * (rank - below)) / inBucket;
}

const LE = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, Infinity];

describe('classicToExp', () => {
  it('keeps count and sum, and reads quantiles as histogram_quantile does (within half a bucket, 2.2 %)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(500), { minLength: LE.length, maxLength: LE.length }), fc.constantFrom(0.5, 0.9, 0.99), (perBucket, q) => {
        // At least something in a finite bucket, and (as in practice) not everything past the last bound.
        fc.pre(perBucket.slice(0, -1).some((c) => c > 0));
        const cumulative = perBucket.map((_, i) => perBucket.slice(0, i + 1).reduce((s, c) => s + c, 0));
        const h = classicToExp({ le: LE, cumulative, sum: 12.5 });
        expect(h.count).toBe(cumulative[cumulative.length - 1]);
        expect(h.sum).toBe(12.5);
        // expQuantile takes the ceil(q x total)-th value, Prometheus interpolates at q x total: between the two, a
        // bucket of a few counts moves by a count's share of its width. Within half an exponential bucket of that.
        const total = cumulative[cumulative.length - 1];
        const lo = histogramQuantile(q, LE, cumulative);
        const hi = histogramQuantile(q, LE, cumulative, Math.ceil(q * total));
        const got = expQuantile(h, q)!;
        expect(got).toBeGreaterThanOrEqual(lo * (1 - 0.023));
        expect(got).toBeLessThanOrEqual(hi * (1 + 0.023));
      }),
      { numRuns: 300 },
    );
  });

  it('reaches a rank the spread fractions sum to within rounding (fast-check seed 1571844628\'s counterexample)', () => {
    // 33 counts spread over (25, 50] ms sum to 858.9999999999995 at 50 ms; rank 859 is there, not past the empty
    // (50, 75] ms bucket at 76 ms.
    const perBucket = [497, 256, 73, 33, 0, 255, 205, 5, 6, 387];
    const cumulative = perBucket.map((_, i) => perBucket.slice(0, i + 1).reduce((s, c) => s + c, 0));
    const got = expQuantile(classicToExp({ le: LE, cumulative, sum: 1 }), 0.5)!;
    expect(got).toBeGreaterThanOrEqual(histogramQuantile(0.5, LE, cumulative) * (1 - 0.023));
    expect(got).toBeLessThanOrEqual(0.05 * (1 + 0.023));
  });

  it('merges exactly: two instances\' buckets merged read the quantile of their summed buckets', () => {
    const a = [0, 10, 40, 80, 90, 95, 99, 100, 100, 100];
    const b = [5, 5, 5, 10, 20, 60, 70, 90, 100, 100];
    const merged = mergeExpHistograms([classicToExp({ le: LE, cumulative: a, sum: 1 }), classicToExp({ le: LE, cumulative: b, sum: 2 })]);
    const summed = a.map((v, i) => v + b[i]);
    for (const q of [0.5, 0.9, 0.99]) {
      const want = histogramQuantile(q, LE, summed);
      expect(Math.abs(expQuantile(merged, q)! - want) / want).toBeLessThan(0.023);
    }
    expect(merged.count).toBe(200);
  });

  it('is empty for an interval with nothing in it, and never counts a bucket twice when a counter reads lower', () => {
    expect(classicToExp({ le: LE, cumulative: LE.map(() => 0), sum: 0 }).count).toBe(0);
    // A cumulative count lower than the one below it (a scrape mid-update) adds nothing negative.
    const h = classicToExp({ le: [0.01, 0.1, Infinity], cumulative: [10, 8, 12], sum: 0.3 });
    expect(h.count).toBe(12);
  });
});
