/**
 * One monotonic clock for every process on a host.
 *
 * `process.hrtime` is CLOCK_MONOTONIC, shared by all processes on Linux, but `hrtime.bigint()` allocates a BigInt
 * per call. `performance.now()` reads the same clock minus a per-process constant and returns a plain double, so we
 * measure that constant once and add it back: `monoMs()` is allocation-free and comparable across processes.
 */
import { performance } from 'node:perf_hooks';

function measureOffsetMs(): number {
  // Take the tightest of a few bracketed readings; the two reads are ~100 ns apart.
  let best = Infinity;
  let offset = 0;
  for (let i = 0; i < 20; i++) {
    const a = performance.now();
    const h = Number(process.hrtime.bigint()) / 1e6;
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = h - (a + b) / 2;
    }
  }
  return offset;
}

const OFFSET_MS = measureOffsetMs();

/** Milliseconds on the host's monotonic clock (CLOCK_MONOTONIC), sub-microsecond resolution, no allocation. */
export function monoMs(): number {
  return performance.now() + OFFSET_MS;
}

/** Microseconds on the host's monotonic clock. */
export function monoUs(): number {
  return (performance.now() + OFFSET_MS) * 1000;
}

/** Unix epoch milliseconds of a monotonic instant, in this process's mapping (for OTLP timestamps). */
export function monoToEpochMs(mono: number): number {
  return mono - OFFSET_MS + performance.timeOrigin;
}

/** Monotonic milliseconds of a Unix epoch instant, in this process's mapping. */
export function epochToMonoMs(epoch: number): number {
  return epoch - performance.timeOrigin + OFFSET_MS;
}

/**
 * Intervals are aligned on the shared clock (index = floor(t / interval)) so that the generator and the agents,
 * in different processes, put the same instants into the same interval without talking to each other.
 */
export function intervalIndex(monoMillis: number, intervalMs: number): number {
  return Math.floor(monoMillis / intervalMs);
}
