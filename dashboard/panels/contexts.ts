/**
 * Per execution context in the cursor's interval: the share of the interval spent on a CPU, runnable but waiting
 * for one (run-queue wait), and neither (blocked or idle). For a context with several threads (a process counted as
 * a whole) CPU and run-queue time add up over its threads and can pass 100 %; "blocked" is then not a share of
 * anything and is left out.
 */
import { lastOf, type PanelInput } from './input.js';

/**
 * How far CPU + run-queue may pass the interval and still be one busy thread (blocked 0): the counters are read a
 * few ms off the interval's boundaries, and a saturated loop was seen here at 69 % + 31 % of a 500 ms interval.
 */
export const READ_SKEW = 0.05;

export interface ContextRow {
  key: string;
  name: string;
  role: string;
  cpu_share: number;
  runq_share: number | null;
  blocked_share: number | null;
  rss_bytes: number | null;
}

export interface ContextsPanel {
  /** Busiest first. */
  rows: ContextRow[];
  interval_ms: number | null;
}

export function contextsPanel({ frames }: PanelInput): ContextsPanel {
  const last = lastOf(frames);
  if (!last) return { rows: [], interval_ms: null };
  const wall = last.interval_ms;
  const rows = last.contexts.map((c): ContextRow => {
    const cpu = (c.cpu_user_ms + c.cpu_system_ms) / wall;
    const runq = c.runqueue_wait_ms === null ? null : c.runqueue_wait_ms / wall;
    const rest = runq === null ? null : 1 - cpu - runq;
    const blocked = rest === null || rest < -READ_SKEW ? null : Math.max(0, rest);
    return { key: c.key, name: c.name, role: c.role, cpu_share: cpu, runq_share: runq, blocked_share: blocked, rss_bytes: c.rss_bytes };
  });
  rows.sort((a, b) => b.cpu_share - a.cpu_share);
  return { rows, interval_ms: wall };
}
