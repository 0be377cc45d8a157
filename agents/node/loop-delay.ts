/**
 * Event-loop delay as a mergeable histogram: a timer asks to run every RESOLUTION_MS and records how late it ran,
 * into the thread's shared ring; each tick also publishes the loop's cumulative idle/active time there, from which
 * the agent thread computes utilization per interval.
 *
 * Not `monitorEventLoopDelay`: its histogram cannot be exported bucket by bucket (only percentiles, which do not
 * merge), and it records the whole timer period, not the lateness, so its floor is the resolution itself.
 * The timer is unref'd so it never keeps the host alive.
 */
import { performance } from 'node:perf_hooks';
import { monoMs } from '../../src/vocabulary/clock.js';
import { H_ELU_ACTIVE, H_ELU_IDLE, type ThreadRing } from './thread-ring.js';

/**
 * 20 Hz: at 100 Hz the timer alone cost the main thread 12-20 ms of CPU a second (bench/agent-overhead, hello
 * workload), 1-2 % of a core; a delay that matters (a blocked loop) lasts longer than 50 ms anyway, and shorter
 * ones still land in the histogram whenever a tick falls in them.
 */
const RESOLUTION_MS = 50;

export class LoopDelaySampler {
  private timer: NodeJS.Timeout | null = null;
  private due = 0;

  constructor(private readonly ring: ThreadRing) {}

  start(): void {
    this.publishUtilization();
    this.due = performance.now() + RESOLUTION_MS;
    this.timer = setTimeout(this.tick, RESOLUTION_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private publishUtilization(): void {
    const elu = performance.eventLoopUtilization();
    this.ring.f64[H_ELU_IDLE] = elu.idle;
    this.ring.f64[H_ELU_ACTIVE] = elu.active;
  }

  private readonly tick = (): void => {
    const now = performance.now();
    // libuv timers have millisecond granularity: lateness under 1 ms is the timer, not the loop.
    this.ring.delayAt(this.ring.bucketFor(monoMs())).record(Math.max(0, now - this.due) / 1000);
    this.publishUtilization();
    this.due = now + RESOLUTION_MS;
    this.timer = setTimeout(this.tick, RESOLUTION_MS);
    this.timer.unref();
  };
}
