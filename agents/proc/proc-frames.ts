/**
 * One interval's frame from the /proc snapshots taken in it (on the interval grid, the first at its start and the
 * last at its end), folded by the window fold (fold-window.ts): per thread CPU, run-queue wait and context switches,
 * and the accept queue of the tree's listening sockets. The same frame whether the server runs under `srvlens run`,
 * `srvlens attach --dashboard` or is only watched for its accept queue. Requests are invisible from /proc: the frame
 * carries no server or generator data (null, not zeros).
 */
import { foldWindow, type FoldOptions } from './fold-window.js';
import { TCP_LISTEN } from './proc-parse.js';
import type { TreeSnapshot } from './tree-snapshot.js';
import type { AcceptQueueInterval, ContextInterval, Frame } from '../../src/vocabulary/frames.js';
import { ranMs, type WindowSummary } from '../../src/vocabulary/window-summary.js';

/** The role of a context measured from outside, per thread (the agent's own are server, js, runtime...). */
export const THREAD_ROLE = 'thread';

/**
 * The process's CPU comes in ticks (truncated from the kernel's ns, so off by less than one), its threads' in
 * schedstat's ns. More than a tick left over is CPU of threads that ran and ended between two snapshots (a thread
 * per short connection): not seen as rows of their own, but not lost either.
 */
const TICK_SLACK = 1;

export function procFrame(run: number, index: number, intervalMs: number, snapshots: readonly TreeSnapshot[], fold: FoldOptions): Frame {
  const w = foldWindow(snapshots, fold);
  const q = acceptQueueOf(snapshots.slice(0, -1));
  return {
    kind: 'frame',
    run,
    index,
    t_ms: index * intervalMs,
    interval_ms: intervalMs,
    phase: null,
    generator: null,
    server: null,
    contexts: [...threadContexts(w), ...unseenThreads(w, 1000 / fold.ticksPerSecond)],
    backend: null,
    ...(q ? { accept_queue: q } : {}),
  };
}

function threadContexts(w: WindowSummary): ContextInterval[] {
  const rss = new Map(w.processes.map((p) => [p.pid, p.rss_bytes]));
  return w.contexts.map((c) => {
    // schedstat's ns where the kernel has them; the 10 ms ticks only split them into user and system. A thread that
    // ran less than a tick has no split to go by: its CPU is counted as user time.
    const ticks = c.user_ms + c.system_ms;
    const cpu = ranMs(c);
    const user = ticks > 0 ? (cpu * c.user_ms) / ticks : cpu;
    return {
      ...emptyContext(`${c.pid}/${c.tid}`, c.pid, c.tid, `${c.tid} ${c.name}`),
      cpu_user_ms: user,
      cpu_system_ms: cpu - user,
      ctx_voluntary: c.voluntary_ctx,
      ctx_involuntary: c.involuntary_ctx,
      runqueue_wait_ms: c.runqueue_wait_ms,
      // The process's memory, on its main thread's row: threads share one address space.
      rss_bytes: c.tid === c.pid ? (rss.get(c.pid) ?? null) : null,
    };
  });
}

/**
 * Per process, a row for the CPU of threads that no snapshot saw (TICK_SLACK), as user time: there is nothing to
 * split it by. Its run-queue wait is not known (null); its switches are not counted. Without schedstat the threads'
 * own ticks are as coarse as the process's, and no remainder can be told from rounding.
 */
function unseenThreads(w: WindowSummary, msPerTick: number): ContextInterval[] {
  const out: ContextInterval[] = [];
  for (const p of w.processes) {
    const threads = w.contexts.filter((c) => c.pid === p.pid);
    if (threads.some((c) => c.oncpu_ms === null)) continue;
    const left = p.cpu_ms - threads.reduce((s, c) => s + ranMs(c), 0);
    if (left <= TICK_SLACK * msPerTick) continue;
    out.push({ ...emptyContext(`${p.pid}/unseen`, p.pid, null, `${p.pid} ${p.name}: threads between samples`), cpu_user_ms: left, runqueue_wait_ms: null });
  }
  return out;
}

function emptyContext(key: string, pid: number, tid: number | null, name: string): ContextInterval {
  return {
    key,
    pid,
    tid,
    name,
    role: THREAD_ROLE,
    cpu_user_ms: 0,
    cpu_system_ms: 0,
    ctx_voluntary: 0,
    ctx_involuntary: 0,
    runqueue_wait_ms: 0,
    eventloop_delay: null,
    eventloop_utilization: null,
    rss_bytes: null,
  };
}

/** Connections waiting to be accepted, summed over the tree's listeners, at each snapshot that read the TCP tables. */
function acceptQueueOf(snapshots: readonly TreeSnapshot[]): AcceptQueueInterval | null {
  const lengths = snapshots.flatMap((s) => (s.tcp === null ? [] : [s.tcp.filter((e) => e.state === TCP_LISTEN).reduce((t, e) => t + e.rx_queue, 0)]));
  if (lengths.length === 0) return null;
  return { length_max: Math.max(...lengths), length_mean: lengths.reduce((a, b) => a + b, 0) / lengths.length, samples: lengths.length };
}
