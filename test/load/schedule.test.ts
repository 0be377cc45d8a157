import { describe, expect, it } from 'vitest';
import { Backlog } from '../../src/load/arrivals/backlog.js';
import type { PhaseConfig } from '../../src/load/config.js';
import { Random } from '../../src/vocabulary/random.js';
import { planPhases, segmentAt, targetRate, type Share } from '../../src/load/arrivals/plan.js';
import { Schedule } from '../../src/load/arrivals/schedule.js';

const IV = 500;
const ALONE: Share = { index: 0, count: 1 };

/** Every intended time the schedule produces for `phases` (open loop only), walking it to its end. */
function arrivals(phases: PhaseConfig[], share = ALONE, seed = 1): { times: number[]; due: number[] } {
  const plan = planPhases(phases, 10, IV);
  const schedule = new Schedule(plan, share, new Random(seed));
  const backlog = new Backlog();
  schedule.takeDue(plan.end_index * IV, backlog);
  const times: number[] = [];
  while (backlog.length > 0) times.push(backlog.shift());
  return { times, due: Array.from(schedule.due) };
}

describe('planPhases', () => {
  it('lays a warm-up before its phase at the starting load, flagged, and rounds each stretch up to whole intervals', () => {
    const plan = planPhases([{ name: 'r', kind: 'ramp', from: 100, to: 300, duration_s: 2, warmup_s: 0.7 }], 10, IV);
    expect(plan.segments.map((s) => [s.warmup, s.from, s.to, s.end_ms - s.start_ms])).toEqual([
      [true, 100, 100, 1000],
      [false, 100, 300, 2000],
    ]);
    expect(plan.end_index - plan.first_index).toBe(6);
    // A ramp's target is its mean rate over each interval.
    expect([12, 13, 14, 15].map((i) => targetRate(segmentAt(plan, i)!, i, IV))).toEqual([125, 175, 225, 275]);
  });
});

describe('Schedule, open loop', () => {
  it('spaces a ramp so that each interval gets the integral of the rate over it', () => {
    const { times, due } = arrivals([{ name: 'r', kind: 'ramp', from: 100, to: 300, duration_s: 2 }]);
    // Λ at the boundaries is 0, 62.5, 150, 262.5, 400: request k is due when Λ reaches k.
    expect(due).toEqual([63, 87, 113, 137]);
    expect(times).toHaveLength(400);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // The gap shrinks from 1/100 s to 1/300 s.
    expect(gaps[0]).toBeCloseTo(10, 0);
    expect(gaps.at(-1)!).toBeCloseTo(3.33, 1);
    expect(gaps.every((g, i) => i === 0 || g <= gaps[i - 1] + 1e-9)).toBe(true);
  });

  it('ramps down, and from zero', () => {
    expect(arrivals([{ name: 'r', kind: 'ramp', from: 300, to: 100, duration_s: 2 }]).due).toEqual([138, 112, 88, 62]);
    expect(arrivals([{ name: 'r', kind: 'ramp', from: 0, to: 400, duration_s: 2 }]).due.reduce((a, b) => a + b, 0)).toBe(400);
  });

  it('keeps a constant rate exact at interval boundaries', () => {
    expect(arrivals([{ name: 'c', kind: 'constant', rate: 200, duration_s: 2 }]).due).toEqual([100, 100, 100, 100]);
  });

  it('draws Poisson arrivals from the seed: the same seed, the same times; exponential gaps at the rate', () => {
    const phase: PhaseConfig[] = [{ name: 'p', kind: 'constant', rate: 1000, duration_s: 10, arrivals: 'poisson' }];
    const a = arrivals(phase, ALONE, 7);
    expect(arrivals(phase, ALONE, 7).times).toEqual(a.times);
    expect(arrivals(phase, ALONE, 8).times).not.toEqual(a.times);
    // 10 000 expected; a Poisson count's standard deviation is 100.
    expect(Math.abs(a.times.length - 10_000)).toBeLessThan(400);
    const gaps = a.times.slice(1).map((t, i) => t - a.times[i]);
    const mean = gaps.reduce((x, g) => x + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((x, g) => x + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeCloseTo(1, 1);
    // Exponential: the standard deviation equals the mean (even spacing would give 0).
    expect(sd / mean).toBeGreaterThan(0.9);
    expect(sd / mean).toBeLessThan(1.1);
    // Per interval the counts vary, unlike even spacing.
    expect(new Set(a.due).size).toBeGreaterThan(3);
  });

  it('splits an even schedule over threads so that their union is the whole schedule', () => {
    const phases: PhaseConfig[] = [
      { name: 's', kind: 'step', rates: [100, 300], step_s: 1 },
      { name: 'r', kind: 'ramp', from: 300, to: 50, duration_s: 1.5 },
    ];
    const whole = arrivals(phases);
    const parts = [0, 1, 2].map((index) => arrivals(phases, { index, count: 3 }));
    const union = parts.flatMap((p) => p.times).sort((x, y) => x - y);
    expect(union).toHaveLength(whole.times.length);
    union.forEach((t, i) => expect(t).toBeCloseTo(whole.times[i], 6));
    expect(whole.due.map((_, i) => parts.reduce((a, p) => a + p.due[i], 0))).toEqual(whole.due);
  });
});

describe('Schedule, closed loop', () => {
  it('starts each user once, spread over a think time, and wakes a user a think time after its answer', () => {
    const plan = planPhases([{ name: 'c', kind: 'closed', users: 4, think_ms: 100, duration_s: 1 }], 10, IV);
    const schedule = new Schedule(plan, ALONE, new Random(1));
    const backlog = new Backlog();
    schedule.takeDue(5000 + 1000, backlog);
    const starts: number[] = [];
    while (backlog.length > 0) starts.push(backlog.shift());
    expect(starts).toEqual([5000, 5025, 5050, 5075]);
    // No answer, no next request: a closed loop never sends more than its users.
    expect(schedule.next).toBe(Infinity);
    schedule.userDone(5000, 5040, false);
    expect(schedule.next).toBe(5140);
    // An answer after the phase ended sends nothing more.
    schedule.userDone(5025, 5950, false);
    expect(schedule.next).toBe(5140);
  });

  it('gives each thread its own users', () => {
    const phases: PhaseConfig[] = [{ name: 'c', kind: 'closed', users: 5, duration_s: 1 }];
    const counts = [0, 1].map((index) => {
      const schedule = new Schedule(planPhases(phases, 10, IV), { index, count: 2 }, new Random(1));
      const backlog = new Backlog();
      schedule.takeDue(6000, backlog);
      return backlog.length;
    });
    expect(counts).toEqual([3, 2]);
  });
});
