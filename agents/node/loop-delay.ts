/**
 * Event-loop delay as a mergeable histogram: a timer asks to run every RESOLUTION_MS and records how late it ran,
 * into the thread's shared ring; each tick also publishes the loop's cumulative idle/active time there, from which
 * the agent thread computes utilization per interval (over the ticks last before two harvests: an interval's
 * length, up to RESOLUTION_MS before its bounds).
 *
 * Not `monitorEventLoopDelay`: its histogram cannot be exported bucket by bucket (only percentiles, which do not
 * merge), and it records the whole timer period, not the lateness, so its floor is the resolution itself (and its
 * values hold 3 significant digits: ~33 µs steps at a 50 ms period, coarser than the lateness of an idle loop).
 * The timer is unref'd so it never keeps the host alive.
 */
import { performance } from 'node:perf_hooks';
import { monoMs } from '../../src/vocabulary/clock.js';
import { H_ELU_ACTIVE, H_ELU_IDLE, type ThreadRing } from './thread-ring.js';

/**
 * 10 Hz. The sampler is the agent's one cost on a thread with a loop that does not depend on the load: a wake-up of
 * an idle loop for a JavaScript timer cost ~120-250 µs of its CPU on the project's VMs, whatever the callback does
 * (the kernel's wake-up and Node's timer machinery; the callback's own JavaScript is a few µs). At 100 Hz the timer
 * cost the main thread 12-20 ms of CPU a second (bench/agent-overhead, hello workload); at 20 Hz an idle server's
 * main thread spent 4.3-5.2 ms/s on it, at 10 Hz 2.2-3.0 (bench/agent-idle-cost, and four idle servers side by side
 * with only the timer, 2026-12-07): the largest part of what every process with a loop pays for the agent.
 * A delay that matters (a blocked loop) lasts longer than 100 ms anyway; a shorter one still lands in the histogram
 * whenever a tick falls due in it (a block of D ms with probability D/100), so the percentiles are of the same
 * lateness, sampled half as often. Not a native timer (monitorEventLoopDelay, ~2.3 ms/s at 20 Hz): see above.
 */
const RESOLUTION_MS = 100;

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
