import { describe, expect, it } from 'vitest';
import { parseVary } from '../../src/scenario/capacity/vary.js';
import { sweepPredictions } from '../../src/analysis/sweep-predictions.js';

describe('--vary', () => {
  it('reads a size and its values, and says what is wrong otherwise', () => {
    expect(parseVary('threads=16,4,8,4')).toEqual({ key: 'threads', values: [4, 8, 16] });
    expect(parseVary('threads=4')).toMatch(/two or more values/);
    expect(parseVary('threads=0,4')).toMatch(/1 or more/);
    expect(parseVary('4,8')).toMatch(/such as threads=4,8,16,32/);
  });

  it('predicts each size of a law-abiding sweep from the others, and says why where it cannot', () => {
    // A pool of n: 50 req/s per thread with mild contention (sigma 0.02, kappa 0.0005), no noise.
    const law = (n: number) => (50 * n) / (1 + 0.02 * (n - 1) + 0.0005 * n * (n - 1));
    const a = sweepPredictions([2, 4, 8, 16].map((n) => ({ n, measured_rps: law(n) })), { rps: 50, basis: '1000 / 20 ms' });
    for (const p of a.points) expect(Math.abs(p.error!), `n ${p.n}`).toBeLessThan(0.01);
    expect(a.fit.ok).toBe(true);
    // Without lambda, three sizes cannot fit three parameters: each point says so.
    const blind = sweepPredictions([2, 4, 8, 16].map((n) => ({ n, measured_rps: law(n) })), null);
    for (const p of blind.points) expect(p.basis).toMatch(/^not predicted: 3 points cannot test a 3-parameter fit/);
  });
});
