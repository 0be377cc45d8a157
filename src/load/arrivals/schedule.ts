/**
 * The schedule: when each request is due. Phases are laid on the shared interval grid so that every interval has
 * one phase and one target rate, and the number of requests due in an interval is a property of the schedule (open
 * loop) or of the users' own pace (closed loop), not of how promptly the generator ran.
 */
import type { Backlog } from './backlog.js';
import { ClosedUsers } from './closed-users.js';
import type { Random } from '../../vocabulary/random.js';
import type { Plan, Segment, Share } from './plan.js';

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
