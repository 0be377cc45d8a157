/**
 * The interval grid as a timer: without a load generator to report each interval, something must say "interval k
 * is over". Ticks follow the shared monotonic clock (model/clock.ts), so they fall on the very boundaries the agents
 * put their intervals on, whatever process they run in.
 */
import { intervalIndex, monoMs } from '../vocabulary/index.js';

export interface IntervalClock {
  stop(): void;
}

/**
 * Calls `onTick(index)` once interval `index` is over, `graceMs` after its end. A tick delayed past several
 * boundaries (a stalled loop) reports the last interval over: the consumers catch up on ranges, not single steps.
 */
export function startIntervalClock(intervalMs: number, graceMs: number, onTick: (index: number) => void): IntervalClock {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let last = intervalIndex(monoMs() - graceMs, intervalMs) - 1;
  const arm = () => {
    if (stopped) return;
    const due = (intervalIndex(monoMs() - graceMs, intervalMs) + 1) * intervalMs + graceMs;
    timer = setTimeout(fire, Math.max(0, due - monoMs()));
  };
  const fire = () => {
    const over = intervalIndex(monoMs() - graceMs, intervalMs) - 1;
    // Armed before the tick, so that a tick that stops the clock stops it for good.
    arm();
    if (over > last) {
      last = over;
      onTick(over);
    }
  };
  arm();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
