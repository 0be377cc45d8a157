/**
 * The plan of a run: its phases laid end to end on the shared interval grid, each interval with one phase and one
 * target rate. The schedule (schedule.ts) and the closed-loop users (closed-users.ts) both walk it.
 */
import type { Arrivals, PhaseConfig } from '../config.js';

/** A closed-loop phase's users, as configured (all threads together). */
export interface ClosedLoop {
  users: number;
  think_ms: number;
  think: 'fixed' | 'exponential';
}

/**
 * A stretch of one phase that starts and ends on interval boundaries: a constant phase, one step of a step phase,
 * a ramp, a closed-loop phase, or the warm-up before any of them. Open-loop rates go linearly from `from` to `to`
 * (equal except in a ramp), req/s; a closed-loop segment has `closed` and rates of 0.
 */
export interface Segment {
  phase: string;
  phase_index: number;
  from: number;
  to: number;
  start_ms: number;
  end_ms: number;
  warmup: boolean;
  arrivals: Arrivals;
  closed: ClosedLoop | null;
  /** End of the whole phase (warm-up and all its segments): closed-loop users stop there. */
  phase_end_ms: number;
}

export interface Plan {
  interval_ms: number;
  segments: Segment[];
  /** First interval of the first phase, and the interval just after the last phase (exclusive end). */
  first_index: number;
  end_index: number;
  /** For interval `first_index + i`, the index into `segments`. */
  segment_of: Int32Array;
}

/** Whole intervals a stretch of `seconds` takes. The epsilon keeps 0.3 s / 0.1 s from becoming 4 intervals. */
function intervalsOf(seconds: number, intervalMs: number): number {
  return Math.max(1, Math.ceil((seconds * 1000) / intervalMs - 1e-9));
}

/**
 * Lays the phases end to end from interval `firstIndex`. Every stretch lasts a whole number of intervals: a
 * duration that is not a multiple of the interval is rounded UP (2.2 s at 1 s intervals runs 3 s), so that each
 * interval reports exactly one target rate and the agents' intervals line up with the phases. A step phase's
 * steps are rounded the same way, each on its own; a warm-up is its own stretch at the phase's starting load.
 */
export function planPhases(phases: readonly PhaseConfig[], firstIndex: number, intervalMs: number): Plan {
  const segments: Segment[] = [];
  const segmentOf: number[] = [];
  let index = firstIndex;
  phases.forEach((p, phaseIndex) => {
    const first = segments.length;
    const arrivals = p.kind === 'closed' ? 'even' : (p.arrivals ?? 'even');
    const closed = p.kind === 'closed' ? { users: p.users, think_ms: p.think_ms ?? 0, think: p.think ?? 'fixed' } : null;
    const add = (from: number, to: number, seconds: number, warmup: boolean): void => {
      const n = intervalsOf(seconds, intervalMs);
      segments.push({ phase: p.name, phase_index: phaseIndex, from, to, start_ms: index * intervalMs, end_ms: (index + n) * intervalMs, warmup, arrivals, closed, phase_end_ms: 0 });
      for (let i = 0; i < n; i++) segmentOf.push(segments.length - 1);
      index += n;
    };
    const startRate = p.kind === 'constant' ? p.rate : p.kind === 'step' ? p.rates[0] : p.kind === 'ramp' ? p.from : 0;
    if (p.warmup_s) add(startRate, startRate, p.warmup_s, true);
    if (p.kind === 'constant' || p.kind === 'closed') add(startRate, startRate, p.duration_s, false);
    else if (p.kind === 'ramp') add(p.from, p.to, p.duration_s, false);
    else for (const r of p.rates) add(r, r, p.step_s, false);
    for (let s = first; s < segments.length; s++) segments[s].phase_end_ms = index * intervalMs;
  });
  return { interval_ms: intervalMs, segments, first_index: firstIndex, end_index: index, segment_of: Int32Array.from(segmentOf) };
}

/** The segment covering interval `index`, or null outside the plan. */
export function segmentAt(plan: Plan, index: number): Segment | null {
  const i = index - plan.first_index;
  return i >= 0 && i < plan.segment_of.length ? plan.segments[plan.segment_of[i]] : null;
}

/** The rate an open-loop segment asks for over interval `index`: for a ramp, its mean over the interval. */
export function targetRate(s: Segment, index: number, intervalMs: number): number {
  if (s.from === s.to) return s.from;
  const mid = (index + 0.5) * intervalMs;
  return s.from + ((s.to - s.from) * (mid - s.start_ms)) / (s.end_ms - s.start_ms);
}

/** Which part of the load this generator thread sends: thread `index` of `count`. */
export interface Share {
  index: number;
  count: number;
}
