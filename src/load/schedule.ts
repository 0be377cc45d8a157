/**
 * The open-loop schedule: when each request is due, whatever the server does. Phases are laid on the shared
 * interval grid so that every interval has one phase and one target rate, and the number of requests due in an
 * interval is a property of the schedule, not of how promptly the generator ran.
 */
import type { PhaseConfig } from './config.js';
import { Backlog } from './backlog.js';

/** A stretch of constant rate: a constant phase, or one step of a step phase. Starts and ends on boundaries. */
export interface Segment {
  phase: string;
  phase_index: number;
  rate: number;
  start_ms: number;
  end_ms: number;
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

/**
 * Lays the phases end to end from interval `firstIndex`. Every stretch lasts a whole number of intervals: a
 * duration that is not a multiple of the interval is rounded UP (2.2 s at 1 s intervals runs 3 s), so that each
 * interval reports exactly one target rate and the agents' intervals line up with the phases. A step phase's
 * steps are rounded the same way, each on its own.
 */
export function planPhases(phases: readonly PhaseConfig[], firstIndex: number, intervalMs: number): Plan {
  const segments: Segment[] = [];
  const segmentOf: number[] = [];
  let index = firstIndex;
  const add = (p: PhaseConfig, phaseIndex: number, rate: number, seconds: number): void => {
    // The epsilon keeps 0.3 s / 0.1 s from becoming 4 intervals through floating-point noise.
    const intervals = Math.max(1, Math.ceil((seconds * 1000) / intervalMs - 1e-9));
    segments.push({ phase: p.name, phase_index: phaseIndex, rate, start_ms: index * intervalMs, end_ms: (index + intervals) * intervalMs });
    for (let i = 0; i < intervals; i++) segmentOf.push(segments.length - 1);
    index += intervals;
  };
  phases.forEach((p, i) => {
    if (p.kind === 'constant') add(p, i, p.rate, p.duration_s);
    else for (const r of p.rates) add(p, i, r, p.step_s);
  });
  return { interval_ms: intervalMs, segments, first_index: firstIndex, end_index: index, segment_of: Int32Array.from(segmentOf) };
}

/** The segment covering interval `index`, or null outside the plan. */
export function segmentAt(plan: Plan, index: number): Segment | null {
  const i = index - plan.first_index;
  return i >= 0 && i < plan.segment_of.length ? plan.segments[plan.segment_of[i]] : null;
}

/**
 * Walks the schedule: request k of a segment is due at start + k/rate (evenly spaced). `takeDue(t)` moves every
 * request due before `t` into the backlog and counts it in the interval of its intended time.
 */
export class ArrivalCursor {
  /** Intended time of the next request, ms on the shared clock; Infinity when the schedule is exhausted. */
  next = Infinity;
  /** Requests due so far, per interval of the plan (index - first_index). */
  readonly due: Int32Array;
  total = 0;
  private seg = -1;
  private k = 0;
  private stopAt = Infinity;

  constructor(private readonly plan: Plan) {
    this.due = new Int32Array(plan.segment_of.length);
    this.nextSegment();
  }

  takeDue(before: number, backlog: Backlog): void {
    const { plan, due } = this;
    while (this.next < before) {
      const t = this.next;
      backlog.push(t);
      due[Math.floor(t / plan.interval_ms) - plan.first_index]++;
      this.total++;
      this.k++;
      this.advance();
    }
  }

  /** Nothing is due from `t` on (the run was stopped). Call `takeDue(t)` first to keep what was already due. */
  stop(t: number): void {
    this.stopAt = t;
    if (this.next >= t) this.next = Infinity;
  }

  private advance(): void {
    const s = this.plan.segments[this.seg];
    // k * 1000 / rate rather than a running sum: no drift over millions of requests.
    const t = s.start_ms + (this.k * 1000) / s.rate;
    if (t < s.end_ms) this.setNext(t);
    else this.nextSegment();
  }

  private nextSegment(): void {
    const segs = this.plan.segments;
    do this.seg++;
    while (this.seg < segs.length && segs[this.seg].rate <= 0);
    this.k = 0;
    this.setNext(this.seg < segs.length ? segs[this.seg].start_ms : Infinity);
  }

  private setNext(t: number): void {
    this.next = t < this.stopAt ? t : Infinity;
  }
}
