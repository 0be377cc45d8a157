/**
 * Per-interval counters of this process from the kernel: CPU (user, system), context switches (voluntary,
 * involuntary), run-queue wait summed over all threads (schedstat), RSS. Read once per interval, off the hot path.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessSample {
  cpu_user_ms: number;
  cpu_system_ms: number;
  ctx_voluntary: number;
  ctx_involuntary: number;
  runqueue_wait_ms: number | null;
  rss_bytes: number;
}

interface Totals {
  user: number;
  system: number;
  vol: number;
  invol: number;
  rq: number | null;
}

function readTotals(): Totals {
  const ru = process.resourceUsage();
  return {
    user: ru.userCPUTime / 1000,
    system: ru.systemCPUTime / 1000,
    vol: ru.voluntaryContextSwitches,
    invol: ru.involuntaryContextSwitches,
    rq: readRunqueueWaitMs(),
  };
}

/** Sum of the second schedstat field (ns runnable but waiting) over every thread; null where /proc lacks it. */
export function readRunqueueWaitMs(pid: number | 'self' = 'self'): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      ns += Number(fields[1]);
    }
    return ns / 1e6;
  } catch {
    return null;
  }
}

export class ProcessSampler {
  private last: Totals = readTotals();

  take(): ProcessSample {
    const now = readTotals();
    const prev = this.last;
    this.last = now;
    return {
      cpu_user_ms: now.user - prev.user,
      cpu_system_ms: now.system - prev.system,
      ctx_voluntary: now.vol - prev.vol,
      ctx_involuntary: now.invol - prev.invol,
      runqueue_wait_ms: now.rq !== null && prev.rq !== null ? now.rq - prev.rq : null,
      rss_bytes: process.memoryUsage.rss(),
    };
  }
}
