/**
 * The workload's CPU stages: burn a given number of microseconds of the calling thread's CPU time.
 *
 * CPU time, not wall time. A spin until a wall-clock deadline ends on time however often its thread is preempted,
 * so on an oversubscribed machine (8 pool threads on 2 cores) each stage would burn a fraction of its CPU and the
 * model would look able to do more work than the machine has; its run-queue waits would hide inside the spin. On
 * the thread's own clock a stage costs the same CPU in every model, and the time its thread waited for a CPU shows
 * as what it is.
 *
 * The thread's clock (CLOCK_THREAD_CPUTIME_ID, from the native addon) is a system call (~1 µs), so it is read
 * between chunks of plain arithmetic of about CHUNK_US each, not in a tight loop: a tight loop would burn its time
 * as system CPU, in the kernel, instead of the user CPU a handler's logic is.
 */
import { blocking } from '../native.js';

/** Read the clock every ~50 µs: ~2 % of a stage spent reading it, and a stage ends within a few µs of its due. */
const CHUNK_US = 50;

/** Iterations of `spin` per µs of CPU, learnt from each chunk (JIT tiers and CPU speed change it). */
let itersPerUs = 100;
/** Where the spin's result goes, so the compiler cannot drop the loop. */
let sink = 0;

function spin(iterations: number): void {
  let x = sink;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  sink = x;
}

export function burnCpu(us: number): void {
  if (!(us > 0)) return;
  const clock = blocking().threadCpuUs;
  let now = clock();
  const end = now + us;
  while (now < end) {
    const iterations = Math.max(1, Math.round(Math.min(end - now, CHUNK_US) * itersPerUs));
    spin(iterations);
    const after = clock();
    // A chunk that took under a µs says little about the rate: keep the last estimate.
    if (after - now >= 1) itersPerUs = iterations / (after - now);
    now = after;
  }
}
