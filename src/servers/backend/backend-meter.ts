/**
 * The backend tier's per-interval counters (BackendInterval), aligned on the shared clock so its intervals line up
 * with the generator's and the agents' without any exchange between processes.
 *
 * Every event carries its own `now` and first closes the intervals that ended before it, so the numbers do not
 * depend on when the boundary timer happens to fire; the timer only makes sure quiet intervals are emitted too.
 */
import { intervalIndex } from '../../vocabulary/clock.js';
import type { BackendInterval } from '../../vocabulary/frames.js';

export class BackendMeter {
  private index: number;
  /** Since when the current queue length has held (the queue mean is time-weighted). */
  private sinceMs: number;
  private queueLen = 0;
  private inService = 0;
  private calls = 0;
  private completed = 0;
  private queueMax = 0;
  private queueAreaMs = 0;
  private inServiceMax = 0;
  private sumServiceMs = 0;
  private sumQueueMs = 0;
  private sumLateMs = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly limit: number,
    nowMs: number,
    private readonly emit: (index: number, data: BackendInterval) => void,
  ) {
    this.index = intervalIndex(nowMs, intervalMs);
    this.sinceMs = nowMs;
  }

  /** Emits every interval that ended at or before `nowMs`, quiet ones included. */
  advance(nowMs: number): void {
    const target = intervalIndex(nowMs, this.intervalMs);
    while (this.index < target) {
      const endMs = (this.index + 1) * this.intervalMs;
      this.queueAreaMs += this.queueLen * (endMs - this.sinceMs);
      const data: BackendInterval = {
        calls: this.calls,
        completed: this.completed,
        queue_max: this.queueMax,
        queue_mean: this.queueAreaMs / this.intervalMs,
        in_service_max: this.inServiceMax,
        limit: this.limit,
        sum_service_ms: this.sumServiceMs,
        sum_queue_ms: this.sumQueueMs,
        sum_late_ms: this.sumLateMs,
      };
      const index = this.index;
      this.index++;
      this.sinceMs = endMs;
      // Queue and service carry over into the next interval, so its maxima start from where they are.
      this.calls = this.completed = this.queueAreaMs = this.sumServiceMs = this.sumQueueMs = this.sumLateMs = 0;
      this.queueMax = this.queueLen;
      this.inServiceMax = this.inService;
      this.emit(index, data);
    }
  }

  /** Milliseconds from `nowMs` to the end of the current interval. */
  msToBoundary(nowMs: number): number {
    return (this.index + 1) * this.intervalMs - nowMs;
  }

  arrived(nowMs: number): void {
    this.advance(nowMs);
    this.calls++;
  }

  queueLength(nowMs: number, length: number): void {
    this.advance(nowMs);
    this.queueAreaMs += this.queueLen * (nowMs - this.sinceMs);
    this.sinceMs = nowMs;
    this.queueLen = length;
    if (length > this.queueMax) this.queueMax = length;
  }

  inServiceCount(nowMs: number, count: number): void {
    this.advance(nowMs);
    this.inService = count;
    if (count > this.inServiceMax) this.inServiceMax = count;
  }

  /**
   * Counted in the interval of completion, so sums divided by `completed` are per-call means. `lateMs`: how much
   * later than its drawn service time the call's timer ran (timer rounding, the loop busy, the process waiting for a
   * CPU): the backend's own measure of the time it added beyond what it was asked to take.
   */
  completedCall(nowMs: number, serviceMs: number, queueMs: number, lateMs: number): void {
    this.advance(nowMs);
    this.completed++;
    this.sumServiceMs += serviceMs;
    this.sumQueueMs += queueMs;
    this.sumLateMs += lateMs;
  }
}
