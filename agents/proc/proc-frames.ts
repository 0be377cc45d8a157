/**
 * One interval's frame from the /proc snapshots taken in it (on the interval grid, the first at its start and the
 * last at its end), folded by the window fold (fold-window.ts): per thread CPU, run-queue wait and context switches,
 * and the accept queue of the tree's listening sockets. The same frame whether the server runs under `srvlens run`,
 * `srvlens attach --dashboard` or is only watched for its accept queue. Requests are invisible from /proc: the frame
 * carries no server or generator data (null, not zeros).
 */
import { foldWindow, type FoldOptions } from './fold-window.js';
import { TCP_LISTEN } from './proc-parse.js';
import type { ProcessReading, TreeSnapshot } from './tree-snapshot.js';
import type { AcceptQueueInterval, ContextInterval, Frame } from '../../src/vocabulary/frames.js';
import { ranMs, type WindowSummary } from '../../src/vocabulary/window-summary.js';

/** The role of a context /proc measured from outside (an agent names its own: server, js, runtime...). */
const THREAD_ROLE = 'thread';

/**
 * The process's CPU comes in ticks (truncated from the kernel's ns, so off by less than one), its threads' in
 * schedstat's ns. More than a tick left over is CPU of threads that ran and ended between two snapshots (a thread
 * per short connection): they have no rows of their own, and what of theirs exceeds the rounding is kept on one row
 * per process. Less is dropped, so this undercounts them, never counts what did not run.
 */
const TICK_SLACK = 1;

/**
 * Per parent PID, CPU of its ended children that frames have already counted (as the children's own rows, or before
 * the watch began) and that the parent's reaped-children CPU will count again once it waits for them. Kept from
 * frame to frame by the watch: a parent may wait for a child intervals after it ended.
 */
export type Unreaped = Map<number, number>;

/**
 * The frame of interval `index`. `unreaped` is the watch's, brought up to date: the one thing a frame carries over
 * from the frames before it.
 */
export function procFrame(run: number, index: number, intervalMs: number, snapshots: readonly TreeSnapshot[], fold: FoldOptions, unreaped: Unreaped): Frame {
  const w = foldWindow(snapshots, fold);
  const msPerTick = 1000 / fold.ticksPerSecond;
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
    contexts: [...threadContexts(w), ...unseen(w, reapedUnseen(snapshots, w, unreaped, msPerTick), msPerTick)],
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
      voluntary: c.voluntary,
      involuntary: c.involuntary,
      runqueue_wait_ms: c.runqueue_wait_ms,
      // The process's memory, on its main thread's row: threads share one address space.
      rss_bytes: c.tid === c.pid ? (rss.get(c.pid) ?? null) : null,
    };
  });
}

/**
 * Per process, a row for the CPU of threads (TICK_SLACK) and child processes (`reaped`) that no snapshot saw, as
 * user time: there is nothing to split it by. Its run-queue wait is not known (null); its switches are not counted.
 * Without schedstat the threads' own ticks are as coarse as the process's, and no remainder can be told from rounding.
 */
function unseen(w: WindowSummary, reaped: ReadonlyMap<number, number>, msPerTick: number): ContextInterval[] {
  const out: ContextInterval[] = [];
  for (const p of w.processes) {
    const threads = w.contexts.filter((c) => c.pid === p.pid);
    const fromThreads = threads.some((c) => c.oncpu_ms === null) ? 0 : p.cpu_ms - threads.reduce((s, c) => s + ranMs(c), 0);
    const left = (fromThreads > TICK_SLACK * msPerTick ? fromThreads : 0) + (reaped.get(p.pid) ?? 0);
    if (left <= 0) continue;
    out.push({ ...emptyContext(`${p.pid}/unseen`, p.pid, null, `${p.pid} ${p.name}: threads and children between samples`), cpu_user_ms: left, runqueue_wait_ms: null });
  }
  return out;
}

/**
 * Per process, the CPU its reaped children used that no frame counted: children born and ended between two
 * snapshots (a process per short connection), and what the others ran after the last snapshot that saw them.
 * Updates `unreaped` with the children that ended in this interval (seen in a snapshot, not in the last).
 */
function reapedUnseen(snapshots: readonly TreeSnapshot[], w: WindowSummary, unreaped: Unreaped, msPerTick: number): Map<number, number> {
  const key = (p: ProcessReading) => `${p.pid}/${p.start}`;
  const atEnd = new Set(snapshots[snapshots.length - 1].processes.map(key));
  const lastSeen = new Map<string, ProcessReading>();
  for (const s of snapshots) for (const p of s.processes) lastSeen.set(key(p), p);
  for (const [k, p] of lastSeen) {
    // Its parent's reaped CPU will count its whole life, its own children's included.
    if (!atEnd.has(k)) unreaped.set(p.ppid, (unreaped.get(p.ppid) ?? 0) + (p.cpu_ticks + p.reaped_ticks) * msPerTick);
  }
  const out = new Map<number, number>();
  for (const p of w.processes) {
    const owed = unreaped.get(p.pid) ?? 0;
    if (p.reaped_children_cpu_ms > owed) out.set(p.pid, p.reaped_children_cpu_ms - owed);
    if (owed > 0) unreaped.set(p.pid, Math.max(0, owed - p.reaped_children_cpu_ms));
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
    voluntary: 0,
    involuntary: 0,
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
