/**
 * Timeline frames from /proc alone (`srvlens attach --dashboard`): any process tree, in any language, without an
 * agent. Snapshots are taken on the interval grid (a few per interval); each interval's are folded by the /proc
 * agent's own fold (fold-window.ts) into one frame: per thread CPU, run-queue wait and context switches, and the
 * accept queue of the tree's listening sockets. The model is named by the agent's own detection over the last few
 * seconds, again at every interval. Requests are invisible from /proc: frames carry no server or generator data
 * (null, not zeros), and the views say so.
 */
import { availableParallelism } from 'node:os';
import { detectModel, type ModelFinding } from '../analysis/detect-model.js';
import { foldWindow, type FoldOptions } from '../../agents/proc/fold-window.js';
import { readBacklogs } from '../../agents/proc/listen-backlog.js';
import { TCP_LISTEN } from '../../agents/proc/proc-parse.js';
import { clockTicksPerSecond } from '../../agents/proc/proc-read.js';
import { ProcessGoneError } from '../../agents/proc/sample-tree.js';
import { readTreeSnapshot, type TreeSnapshot } from '../../agents/proc/tree-snapshot.js';
import type { WindowSummary } from '../vocabulary/window-summary.js';
import { intervalIndex, monoMs, type AcceptQueueInterval, type ContextInterval, type Frame } from '../vocabulary/index.js';

/** The model is named from this much of the recent past: `srvlens attach`'s default window. */
export const DETECT_WINDOW_MS = 5000;
/** `ss` (the listeners' backlogs, for the evidence) is a process to start: asked this often at most. */
const BACKLOG_EVERY_MS = 10_000;

/** One interval's frame from the snapshots taken in it, the first at its start and the last at its end. */
export function procFrame(run: number, index: number, intervalMs: number, snapshots: readonly TreeSnapshot[], fold: FoldOptions): Frame {
  const w = foldWindow(snapshots, fold);
  return {
    kind: 'frame',
    run,
    index,
    t_ms: index * intervalMs,
    interval_ms: intervalMs,
    phase: null,
    generator: null,
    server: null,
    contexts: contextsOf(w),
    backend: null,
    ...acceptQueueOf(snapshots.slice(0, -1)),
  };
}

function contextsOf(w: WindowSummary): ContextInterval[] {
  const rss = new Map(w.processes.map((p) => [p.pid, p.rss_bytes]));
  return w.contexts.map((c) => {
    // schedstat's ns where the kernel has them; the 10 ms ticks only split them into user and system. A thread that
    // ran less than a tick has no split to go by: its CPU is counted as user time.
    const ticks = c.user_ms + c.system_ms;
    const cpu = c.oncpu_ms ?? ticks;
    const user = ticks > 0 ? (cpu * c.user_ms) / ticks : cpu;
    return {
      key: `${c.pid}/${c.tid}`,
      pid: c.pid,
      tid: c.tid,
      name: `${c.tid} ${c.name}`,
      role: 'thread',
      cpu_user_ms: user,
      cpu_system_ms: cpu - user,
      ctx_voluntary: c.voluntary_ctx,
      ctx_involuntary: c.involuntary_ctx,
      runqueue_wait_ms: c.runqueue_wait_ms,
      eventloop_delay: null,
      eventloop_utilization: null,
      // The process's memory, on its main thread's row: threads share one address space.
      rss_bytes: c.tid === c.pid ? (rss.get(c.pid) ?? null) : null,
    };
  });
}

/** Connections waiting to be accepted, summed over the tree's listeners, at each snapshot that read the TCP tables. */
function acceptQueueOf(snapshots: readonly TreeSnapshot[]): { accept_queue?: AcceptQueueInterval } {
  const lengths = snapshots.flatMap((s) => (s.tcp === null ? [] : [s.tcp.filter((e) => e.state === TCP_LISTEN).reduce((t, e) => t + e.rx_queue, 0)]));
  if (lengths.length === 0) return {};
  return { accept_queue: { length_max: Math.max(...lengths), length_mean: lengths.reduce((a, b) => a + b, 0) / lengths.length, samples: lengths.length } };
}

export interface ProcFrameSource {
  /** The root process's name (comm), from the first snapshot. */
  readonly name: string;
  /** Resolves when sampling stops: stop() was called, or the root process ended (`ended` true). */
  readonly done: Promise<{ ended: boolean }>;
  stop(): void;
}

export interface ProcFrameOptions {
  pid: number;
  intervalMs: number;
  /** Snapshots per interval: the accept queue and the thread states are seen only at those instants. */
  samplesPerInterval: number;
  onFrame(frame: Frame): void;
  onFinding(finding: ModelFinding): void;
}

/** Throws ProcessGoneError when there is no such process. */
export function watchProcFrames(o: ProcFrameOptions): ProcFrameSource {
  const first = readTreeSnapshot(o.pid, monoMs());
  if (first === null) throw new ProcessGoneError(o.pid);
  const rootStart = first.processes.find((p) => p.pid === o.pid)!.start;
  const step = o.intervalMs / Math.max(1, o.samplesPerInterval);
  const fold: FoldOptions = { rootPid: o.pid, rootEnded: false, intervalMs: step, ticksPerSecond: clockTicksPerSecond(), cores: availableParallelism(), backlogs: new Map() };
  let backlogsAt = -Infinity;
  /** Snapshots of the interval in progress, from the one at its start. */
  let current: TreeSnapshot[] = [];
  let currentIndex = intervalIndex(first.at_ms, o.intervalMs);
  /** The last DETECT_WINDOW_MS of snapshots, for the model. */
  const recent: TreeSnapshot[] = [first];
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let finish!: (r: { ended: boolean }) => void;
  const done = new Promise<{ ended: boolean }>((resolve) => (finish = resolve));

  const end = (ended: boolean) => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    finish({ ended });
  };

  const sample = () => {
    timer = null;
    const snap = readTreeSnapshot(o.pid, monoMs());
    // A root with another start time is a new process that was given the ended one's id.
    if (snap === null || snap.processes.find((p) => p.pid === o.pid)?.start !== rootStart) return end(true);
    const index = intervalIndex(snap.at_ms, o.intervalMs);
    if (index !== currentIndex) {
      // The first snapshot of an interval also closes the one before. After a stall of more than an interval the
      // snapshots span several: no frame then, rather than one interval's figures made of two. Nor for the first
      // interval, joined in its middle.
      const fromStart = current.length > 0 && current[0].at_ms - currentIndex * o.intervalMs < step;
      if (index === currentIndex + 1 && fromStart) {
        o.onFrame(procFrame(0, currentIndex, o.intervalMs, [...current, snap], fold));
        o.onFinding(detect());
      }
      current = [];
      currentIndex = index;
    }
    current.push(snap);
    recent.push(snap);
    while (recent.length > 2 && snap.at_ms - recent[0].at_ms > DETECT_WINDOW_MS) recent.shift();
    arm();
  };

  const detect = (): ModelFinding => {
    const now = monoMs();
    if (now - backlogsAt >= BACKLOG_EVERY_MS) {
      fold.backlogs = readBacklogs();
      backlogsAt = now;
    }
    return detectModel(foldWindow(recent, fold));
  };

  const arm = () => {
    if (stopped) return;
    // On the grid, a millisecond past each point, so that a snapshot at a boundary is in the interval it starts.
    const due = (Math.floor(monoMs() / step) + 1) * step + 1;
    timer = setTimeout(sample, Math.max(0, due - monoMs()));
  };
  arm();
  return { name: first.processes.find((p) => p.pid === o.pid)!.comm, done, stop: () => end(false) };
}
