/**
 * The schedule: when each request is due. Phases are laid on the shared interval grid so that every interval has
 * one phase and one target rate, and the number of requests due in an interval is a property of the schedule (open
 * loop) or of the users' own pace (closed loop), not of how promptly the generator ran.
 */
import type { Arrivals, PhaseConfig } from './config.js';
import type { Backlog } from './backlog.js';
import { ClosedUsers } from './closed-users.js';
import type { Random } from './random.js';

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

/**
 * Open-loop arrivals of one segment, in "count space": request k is due when the segment's cumulative expected
 * count Λ(t) reaches λ_k. Even spacing takes λ = offset, offset + stride, ...; Poisson takes gaps of stride times an
 * exponential draw. With stride = threads and offset = thread index the threads' union is the whole schedule,
 * evenly spaced or Poisson (a Poisson process split over n threads is n Poisson processes of a n-th of the rate).
 */
function timeAt(s: Segment, lambda: number): number {
  // Constant rate: k * 1000 / rate exactly, as a running sum would drift and floating noise could move a request
  // across an interval boundary (k = 100 at 200 req/s must land on 500 ms, not 499.9999).
  if (s.from === s.to) return s.start_ms + (lambda * 1000) / s.from;
  // Linear rate from `from` to `to` over D ms: Λ(t) = (from t + (to - from) t² / 2D) / 1000; this root form is
  // stable for ramps up and down and for from = 0.
  const d = s.end_ms - s.start_ms;
  const a = (s.to - s.from) / (2000 * d);
  const b = s.from / 1000;
  if (lambda <= 0) return s.start_ms;
  return s.start_ms + (2 * lambda) / (b + Math.sqrt(Math.max(0, b * b + 4 * a * lambda)));
}

/**
 * Walks the schedule of this thread's share. `takeDue(t)` moves every request due before `t` into the backlog and
 * counts it in the interval of its intended time; closed-loop users enter the backlog the same way when they are
 * done thinking, and `userDone` tells the schedule that one of them got its answer.
 */
export class Schedule {
  /** Intended time of the next request, ms on the shared clock; Infinity when nothing more is due. */
  next = Infinity;
  /** Requests due so far, per interval of the plan (index - first_index). */
  readonly due: Int32Array;
  total = 0;
  private seg = -1;
  private lambda = 0;
  private nextOpen = Infinity;
  private stopAt = Infinity;
  private readonly users: ClosedUsers;

  constructor(
    private readonly plan: Plan,
    private readonly share: Share,
    private readonly random: Random,
  ) {
    this.due = new Int32Array(plan.segment_of.length);
    this.users = new ClosedUsers(plan, share, random);
    this.nextSegment();
  }

  takeDue(before: number, backlog: Backlog): void {
    const { plan, due, users } = this;
    for (;;) {
      const fromUsers = users.next < this.nextOpen;
      const t = fromUsers ? users.next : this.nextOpen;
      if (!(t < before) || t >= this.stopAt) break;
      backlog.push(t);
      due[Math.floor(t / plan.interval_ms) - plan.first_index]++;
      this.total++;
      if (fromUsers) users.pop();
      else this.advance();
    }
    this.updateNext();
  }

  /** A closed-loop user's request (intended at `tIntended`) ended at `t`; it thinks, then goes again. */
  userDone(tIntended: number, t: number, failed: boolean): void {
    this.users.done(tIntended, t, failed);
    this.updateNext();
  }

  /** Nothing is due from `t` on (the run was stopped). Call `takeDue(t)` first to keep what was already due. */
  stop(t: number): void {
    this.stopAt = t;
    this.updateNext();
  }

  private updateNext(): void {
    const t = Math.min(this.nextOpen, this.users.next);
    this.next = t < this.stopAt ? t : Infinity;
  }

  private advance(): void {
    const s = this.plan.segments[this.seg];
    this.lambda += s.arrivals === 'poisson' ? this.share.count * this.random.exp1() : this.share.count;
    const t = timeAt(s, this.lambda);
    if (t < s.end_ms) this.nextOpen = t;
    else this.nextSegment();
  }

  private nextSegment(): void {
    const segs = this.plan.segments;
    const { index, count } = this.share;
    for (;;) {
      this.seg++;
      if (this.seg >= segs.length) {
        this.nextOpen = Infinity;
        return;
      }
      const s = segs[this.seg];
      if (s.closed || (s.from <= 0 && s.to <= 0)) continue;
      this.lambda = s.arrivals === 'poisson' ? count * this.random.exp1() : index;
      const t = timeAt(s, this.lambda);
      if (t < s.end_ms) {
        this.nextOpen = t;
        return;
      }
    }
  }
}
