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
 *
 * Where the addon does not load (no prebuilt binary fits and none was compiled), Node 20 has no clock of one
 * thread's CPU (`process.threadCpuUsage` is Node 23.9+; /proc/thread-self/schedstat is updated at the scheduler's
 * tick, so for the running thread it lagged CLOCK_THREAD_CPUTIME_ID by up to 4 ms here, 80 times a chunk). The
 * fallback is the truest clock the calling thread has without it:
 * - the main thread: the process's CPU (`process.cpuUsage()`, getrusage). The models that run without the addon
 *   burn on one JavaScript thread per process (the event loops; the hybrid's loop hands its stages to workers), so
 *   the process's clock is this thread's plus what the agent thread, GC helpers and libuv's pool spend meanwhile:
 *   a stage ends early by that little, never after a fraction of its CPU (measured: 500 µs stages cost the thread
 *   1.028-1.031 of their due on this clock, 1.026 on the thread's own).
 * - a worker thread (the hybrid's pool): the wall clock. Its siblings burn at the same time, so on the process's
 *   clock each of n busy workers would stop after about 1/n of its CPU; on the wall clock a stage burns all of it
 *   while its thread has a core (two workers at once on 2 cores: 0.999-1.007 of their due), and less only while it
 *   waits for one (that wait then hides inside the stage, which the thread clock is there to prevent).
 * Either way the agent measures the CPU each request really cost from the kernel's counters: the fallback changes
 * how much work a stage is, not what the figures say of it.
 */
import { isMainThread } from 'node:worker_threads';
import { addonIfLoaded } from '../native.js';

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

/** µs on the clock a stage burns by (see the header): the thread's CPU, else the process's, else the wall. */
function stageClock(): () => number {
  const addon = addonIfLoaded();
  if (addon !== null) return addon.threadCpuUs;
  if (isMainThread) {
    return () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    };
  }
  return () => performance.now() * 1000;
}

let clock: (() => number) | undefined;

export function burnCpu(us: number): void {
  if (!(us > 0)) return;
  clock ??= stageClock();
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
