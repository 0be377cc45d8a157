/**
 * Kneedle on synthetic curves with known knees, from fixed seeds: throughput that follows the offered load up to a
 * capacity and flattens (or collapses), latency flat until a queue forms; a straight line has no knee.
 */
import { describe, expect, it } from 'vitest';
import { kneedle } from '../../src/analysis/knee.js';
import { seeded } from './synthetic-windows.js';

const STEP = 10;
const offered = Array.from({ length: 20 }, (_, i) => (i + 1) * STEP);

/** Achieved: the offered rate up to `capacity`, then `capacity` (x `after` of it past the knee), with noise. */
function throughput(seed: number, capacity: number, noise: number, after = 1): number[] {
  const r = seeded(seed);
  return offered.map((o) => (o <= capacity ? o : capacity * after) * (1 + noise * (2 * r() - 1)));
}

describe('kneedle', () => {
  it.each([
    [1, 60],
    [2, 90],
    [3, 130],
    [4, 50],
    [5, 170],
  ])('finds the knee of throughput within one step (seed %i, capacity %i req/s, 3 % noise)', (seed, capacity) => {
    const i = kneedle([0, ...offered], [0, ...throughput(seed, capacity, 0.03)], 'concave');
    expect(i).not.toBeNull();
    expect(Math.abs([0, ...offered][i!] - capacity), `knee at ${[0, ...offered][i!]}`).toBeLessThanOrEqual(STEP);
  });

  it('finds the knee of a curve that collapses past its peak', () => {
    const i = kneedle([0, ...offered], [0, ...throughput(7, 80, 0.02, 0.1)], 'concave');
    expect([0, ...offered][i!]).toBe(80);
  });

  it.each([1, 2, 3])('finds where latency turns up, within one step (seed %i)', (seed) => {
    const r = seeded(seed);
    // 20 ms until 120 req/s, then a queue growing with the excess.
    const latency = offered.map((o) => (20 + (o > 120 ? (o - 120) * 15 : 0)) * (1 + 0.05 * (2 * r() - 1)));
    const i = kneedle(offered, latency, 'convex');
    expect(Math.abs(offered[i!] - 120)).toBeLessThanOrEqual(STEP);
  });

  it('calls no knee on a straight line or a flat one, and none on too few points', () => {
    expect(kneedle(offered, offered, 'concave')).toBeNull();
    expect(kneedle(offered, offered.map(() => 5), 'concave')).toBeNull();
    expect(kneedle([1, 2], [1, 2], 'concave')).toBeNull();
    // A bend at the very last point cannot be confirmed by the points after it.
    expect(kneedle([0, 10, 20, 30], [0, 10, 20, 21], 'concave')).toBeNull();
  });
});
