/**
 * Samples a process tree over a window: a snapshot every interval, folded into deltas at the end. The root may end
 * at any moment; sampling then stops and the window covers the time until its last snapshot.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { foldWindow } from './fold-window.js';
import { readBacklogs } from './listen-backlog.js';
import { clockTicksPerSecond } from './proc-read.js';
import { readTreeSnapshot, type TreeSnapshot } from './tree-snapshot.js';
import type { WindowSummary } from './window-summary.js';

export interface SampleOptions {
  pid: number;
  durationMs: number;
  intervalMs: number;
  /** Called after each snapshot, e.g. for a progress line. */
  onSnapshot?: (elapsedMs: number, snapshot: TreeSnapshot) => void;
  /** Stops early; the window covers what was sampled until then. */
  signal?: AbortSignal;
}

export class ProcessGoneError extends Error {
  readonly code = 'PROC_NO_SUCH_PID';
  constructor(readonly pid: number) {
    super(`no process with PID ${pid}`);
  }
}

/** Throws ProcessGoneError when the process is not there at the first snapshot. */
export async function sampleTree(o: SampleOptions): Promise<WindowSummary> {
  const snapshots: TreeSnapshot[] = [];
  const start = performance.now();
  let rootEnded = false;
  for (let k = 0; ; k++) {
    // Each snapshot is due at start + k * interval, so the time a snapshot takes does not stretch the window.
    const due = start + Math.min(k * o.intervalMs, o.durationMs);
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal: o.signal }).catch(() => undefined);
    const snap = readTreeSnapshot(o.pid, performance.now());
    if (snap === null) {
      if (snapshots.length === 0) throw new ProcessGoneError(o.pid);
      rootEnded = true;
      break;
    }
    snapshots.push(snap);
    o.onSnapshot?.(snap.at_ms - start, snap);
    if (o.signal?.aborted || due - start >= o.durationMs) break;
  }
  return foldWindow(snapshots, {
    rootPid: o.pid,
    rootEnded,
    intervalMs: o.intervalMs,
    ticksPerSecond: clockTicksPerSecond(),
    cores: availableParallelism(),
    backlogs: readBacklogs(),
  });
}
