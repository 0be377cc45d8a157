/**
 * Event-loop delay as a mergeable histogram: a timer asks to run every RESOLUTION_MS and records how late it ran.
 *
 * Not `monitorEventLoopDelay`: its histogram cannot be exported bucket by bucket (only percentiles, which do not
 * merge), and it records the whole timer period, not the lateness, so its floor is the resolution itself.
 * 100 wakeups a second cost nothing measurable; the timer is unref'd so it never keeps the host alive.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { ExpHistogram } from '../../src/model/index.js';

const RESOLUTION_MS = 10;

export class LoopDelaySampler {
  private readonly hist = new ExpHistogram(1e-6, 1e3);
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private elu: EventLoopUtilization = performance.eventLoopUtilization();

  start(): void {
    this.due = performance.now() + RESOLUTION_MS;
    this.timer = setTimeout(this.tick, RESOLUTION_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly tick = (): void => {
    const now = performance.now();
    // libuv timers have millisecond granularity: lateness under 1 ms is the timer, not the loop.
    this.hist.record(Math.max(0, now - this.due) / 1000);
    this.due = now + RESOLUTION_MS;
    this.timer = setTimeout(this.tick, RESOLUTION_MS);
    this.timer.unref();
  };

  /** The interval's delay histogram (seconds) and utilization (0..1); starts the next interval. */
  take(): { delay: ReturnType<ExpHistogram['toData']>; utilization: number } {
    const delay = this.hist.toData();
    this.hist.reset();
    const elu = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(elu, this.elu).utilization;
    this.elu = elu;
    return { delay, utilization };
  }
}
