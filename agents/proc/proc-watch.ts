/**
 * The /proc agent watching a process tree on the interval grid, a few snapshots per interval: each interval's frame
 * (proc-frames.ts) as soon as the next has begun, and on demand the recent past folded into one window, from which
 * the analysis names the model (src/analysis/detect-model.ts). One mechanism for every use: `srvlens attach
 * --dashboard`, and `srvlens run` for the server under test (its accept queue always, its threads when no agent
 * in it reports its own), so a server looks the same under both.
 */
import { availableParallelism } from 'node:os';
import { foldWindow, type FoldOptions } from './fold-window.js';
import { readBacklogs } from './listen-backlog.js';
import { procFrame, type Unreaped } from './proc-frames.js';
import { clockTicksPerSecond } from './proc-read.js';
import { ProcessGoneError } from './sample-tree.js';
import { readTreeSnapshot, type TreeSnapshot } from './tree-snapshot.js';
import { intervalIndex, monoMs } from '../../src/vocabulary/clock.js';
import type { FrameSink, FrameSource } from '../../src/vocabulary/frame-source.js';
import type { WindowSummary } from '../../src/vocabulary/window-summary.js';

/** `ss` (the listeners' backlogs, for the evidence) is a process to start: asked this often at most. */
const BACKLOG_EVERY_MS = 10_000;

export interface ProcWatchOptions {
  pid: number;
  /** The run its frames belong to. */
  run: number;
  intervalMs: number;
  /** Snapshots per interval: the accept queue and the thread states are seen only at those instants. */
  samplesPerInterval: number;
  /** false: frames carry only the accept queue, for a server whose own agent reports its threads. */
  contexts: boolean;
  /** How far back window() reaches: a few seconds for a live view, Infinity for a whole run. */
  windowMs: number;
}

export interface ProcWatch extends FrameSource {
  /** The root process's name (comm), from the first snapshot. */
  readonly name: string;
  /** Resolves when sampling stops: stop() was called, or the root process ended (`ended` true). */
  readonly done: Promise<{ ended: boolean }>;
  /** The last interval whose frame has gone out; -1 before the first. */
  readonly lastIndex: number;
  /** The last `windowMs` of snapshots as one window. */
  window(): WindowSummary;
  stop(): void;
}

/** Throws ProcessGoneError when there is no such process. */
export function watchProc(o: ProcWatchOptions): ProcWatch {
  const first = readTreeSnapshot(o.pid, monoMs());
  if (first === null) throw new ProcessGoneError(o.pid);
  const rootStart = first.processes.find((p) => p.pid === o.pid)!.start;
  const step = o.intervalMs / Math.max(1, o.samplesPerInterval);
  const fold: FoldOptions = { rootPid: o.pid, rootEnded: false, intervalMs: step, ticksPerSecond: clockTicksPerSecond(), cores: availableParallelism(), backlogs: new Map() };
  let backlogsAt = -Infinity;
  /** Snapshots of the interval in progress, from the one at its start. */
  let current: TreeSnapshot[] = [];
  let currentIndex = intervalIndex(first.at_ms, o.intervalMs);
  const recent: TreeSnapshot[] = [first];
  const unreaped: Unreaped = new Map();
  let sink: FrameSink = () => undefined;
  let lastIndex = -1;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let finish!: (r: { ended: boolean }) => void;
  const done = new Promise<{ ended: boolean }>((resolve) => (finish = resolve));

  const end = (ended: boolean) => {
    if (stopped) return;
    stopped = true;
    fold.rootEnded = ended;
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
        const frame = procFrame(o.run, currentIndex, o.intervalMs, [...current, snap], fold, unreaped);
        lastIndex = currentIndex;
        sink(o.contexts ? frame : { ...frame, contexts: [] });
      }
      current = [];
      currentIndex = index;
    }
    current.push(snap);
    recent.push(snap);
    while (recent.length > 2 && snap.at_ms - recent[0].at_ms > o.windowMs) recent.shift();
    arm();
  };

  const arm = () => {
    if (stopped) return;
    // On the grid, a millisecond past each point, so that a snapshot at a boundary is in the interval it starts.
    const due = (Math.floor(monoMs() / step) + 1) * step + 1;
    timer = setTimeout(sample, Math.max(0, due - monoMs()));
  };
  arm();

  return {
    name: first.processes.find((p) => p.pid === o.pid)!.comm,
    done,
    get lastIndex() {
      return lastIndex;
    },
    pipe(s: FrameSink) {
      sink = s;
    },
    window() {
      const now = monoMs();
      if (now - backlogsAt >= BACKLOG_EVERY_MS) {
        fold.backlogs = readBacklogs();
        backlogsAt = now;
      }
      return foldWindow(recent, fold);
    },
    stop: () => end(false),
  };
}
