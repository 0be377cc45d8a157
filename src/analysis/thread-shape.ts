/**
 * How one process spreads its work over its threads in a window: one thread, one busy thread with helpers, a set
 * of threads sharing the work, or threads made and ended as it goes. Pure, from the window; the tree-level detection
 * (detect-model.ts) combines it with connections and the process tree.
 */
import { AGENT_THREAD_COMM } from '../vocabulary/stage-hook.js';
import { ranMs, type ContextWindow, type ProcessWindow } from '../vocabulary/window-summary.js';

/**
 * Threads of one process created during the window, and threads ended, at least this many each. A pool replaces a
 * thread now and then; a server that makes one per connection makes one per connection. Three is past "now and
 * then" in a few seconds. (Created alone is not enough: libuv starts its 4 pool threads on first use, then keeps them.)
 */
export const MIN_THREAD_CHURN = 3;

/**
 * Below this much CPU in a process over the window, how it is shared over threads is housekeeping (timers, GC), not
 * serving: a thread that serves load runs hundreds of ms in a few seconds.
 */
export const MIN_CPU_MS_FOR_SHARES = 50;

/**
 * One thread doing at least this share of its process's CPU is the process's worker, the rest are helpers. Measured
 * on node:http under load with 20 connections: the loop thread 82 %, each of V8's 4 helper threads 4-5 %.
 */
export const DOMINANT_THREAD_SHARE = 0.5;

/**
 * Beside a dominant thread, a helper doing at least this share does real work handed over to it (a hybrid), not
 * GC or bookkeeping: three times the 5 % of a V8 GC helper measured above.
 */
export const HELPER_WORK_SHARE = 0.15;

/**
 * Threads beside the busiest that must do real work before a process counts as handing work to threads, whether or
 * not the busiest dominates (it only decides which of two readings: helpers, or a pool). One is not enough: a runtime
 * or an observer keeps a busy thread of its own, which at light load rivals the serving one. Measured in 5 s windows
 * on event-loop-per-core workers (Node 20, srvlens's agent preloaded, policy rr, 3 req/s over 2 workers): the loop
 * 32-45 ms, the agent's thread 25-31 ms, so the loop fell under DOMINANT_THREAD_SHARE, and a loop beside the agent
 * counted as two threads sharing the work where the same two with the loop at 51 % counted as one thread.
 */
export const MIN_WORKING_HELPERS = 2;

/**
 * Without a dominant thread, the threads doing at least this fraction of the busiest thread's CPU are the ones
 * sharing the work. Relative, not absolute: 16 pool threads each have ~6 % of the CPU and all work.
 */
export const WORKING_RELATIVE_TO_BUSIEST = 0.25;

export type ThreadShape =
  /** One thread serves: the only one, or one that dominates idle or light helpers. */
  | { kind: 'one'; evidence: string }
  /** One dominant thread, and helpers doing real work beside it. */
  | { kind: 'one-with-helpers'; helpers: number; evidence: string }
  /** Several threads share the work. */
  | { kind: 'shared'; working: number; evidence: string }
  /** Threads created and ended as it runs. */
  | { kind: 'churn'; created: number; ended: number; evidence: string }
  /** Two threads did most of the work, neither dominant: one serving beside one busy helper, or a pool of two. */
  | { kind: 'pair'; evidence: string }
  /** Several threads, and no way to tell which serve: too little CPU, or spread too thin. */
  | { kind: 'unclear'; evidence: string };

const pct = (share: number) => `${Math.round(share * 100)} %`;


export function threadShape(p: ProcessWindow, all: readonly ContextWindow[]): ThreadShape {
  // The srvlens agent's own thread, when the server runs under it, observes: it is not how the server works.
  const threads = all.filter((c) => c.pid === p.pid && c.name !== AGENT_THREAD_COMM);
  // The main thread is born and ends with its process; only the others say how the process uses threads.
  const others = threads.filter((c) => c.tid !== p.pid);
  const created = others.filter((c) => c.born).length;
  const ended = others.filter((c) => c.ended).length;
  if (Math.min(created, ended) >= MIN_THREAD_CHURN) {
    return { kind: 'churn', created, ended, evidence: `threads created during the window: ${created}, ended: ${ended} (up to ${p.threads_max} alive at once)` };
  }
  if (threads.length <= 1) return { kind: 'one', evidence: `PID ${p.pid} has 1 thread` };
  const total = threads.reduce((s, c) => s + ranMs(c), 0);
  if (total < MIN_CPU_MS_FOR_SHARES) {
    return { kind: 'unclear', evidence: `PID ${p.pid}: ${threads.length} threads ran ${total.toFixed(1)} ms of CPU in all: too little to tell which serve` };
  }
  const sorted = [...threads].sort((a, b) => ranMs(b) - ranMs(a));
  const top = ranMs(sorted[0]) / total;
  if (top >= DOMINANT_THREAD_SHARE) {
    const helpers = sorted.slice(1).filter((c) => ranMs(c) / total >= HELPER_WORK_SHARE).length;
    const lead = `1 thread of PID ${p.pid} did ${pct(top)} of its CPU`;
    if (helpers >= MIN_WORKING_HELPERS) return { kind: 'one-with-helpers', helpers, evidence: `${lead}, and ${helpers} helper threads did at least ${pct(HELPER_WORK_SHARE)} each` };
    return { kind: 'one', evidence: `${lead}; its ${threads.length - 1} other threads are helpers (${pct(1 - top)} together)` };
  }
  const working = sorted.filter((c) => ranMs(c) >= WORKING_RELATIVE_TO_BUSIEST * ranMs(sorted[0])).length;
  if (working - 1 >= MIN_WORKING_HELPERS) {
    return { kind: 'shared', working, evidence: `${working} threads of PID ${p.pid} shared the work, the busiest doing ${pct(top)} of its CPU` };
  }
  if (working === 2) {
    return { kind: 'pair', evidence: `2 threads of PID ${p.pid} did most of its CPU, the busiest ${pct(top)}: one thread serving beside one busy helper (a runtime's or an agent's), or a pool of two` };
  }
  return { kind: 'unclear', evidence: `no thread of PID ${p.pid} stands out: the busiest did ${pct(top)} of its CPU, ${threads.length - 1} others shared the rest in small pieces` };
}
