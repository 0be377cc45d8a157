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
import type { WindowSummary } from '../../src/vocabulary/window-summary.js';
import { UserError } from '../../src/vocabulary/errors.js';

/**
 * The TCP tables (connections held, accept queues) are read at most this often, and at the first and last
 * snapshot: each table costs ~10 ms to read (tree-snapshot.ts), so at a 50 ms interval reading them every time
 * would make the sampler a load of its own. Threads and CPU are still read at every interval, for short-lived ones.
 */
export const TCP_MIN_INTERVAL_MS = 200;

export interface SampleOptions {
  pid: number;
  durationMs: number;
  intervalMs: number;
  /** Called after each snapshot, e.g. for a progress line. */
  onSnapshot?: (elapsedMs: number, snapshot: TreeSnapshot) => void;
  /** Stops early; the window covers what was sampled until then. */
  signal?: AbortSignal;
}

/** A user's mistake: the PID they named is not (or no longer) there. */
export class ProcessGoneError extends UserError {
  override readonly code = 'PROC_NO_SUCH_PID';
  constructor(readonly pid: number) {
    super(`no process with PID ${pid}`, 'PROC_NO_SUCH_PID');
  }
}

/** Throws ProcessGoneError when the process is not there at the first snapshot. */
export async function sampleTree(o: SampleOptions): Promise<WindowSummary> {
  const snapshots: TreeSnapshot[] = [];
  const start = performance.now();
  let rootEnded = false;
  const tcpEvery = Math.max(1, Math.round(TCP_MIN_INTERVAL_MS / o.intervalMs));
  const rootStart = (s: TreeSnapshot) => s.processes.find((p) => p.pid === o.pid)?.start;
  for (let k = 0; ; k++) {
    // Each snapshot is due at start + k * interval, so the time a snapshot takes does not stretch the window.
    const offset = Math.min(k * o.intervalMs, o.durationMs);
    const due = start + offset;
    const last = offset >= o.durationMs;
    // Waits even when late: the reads are synchronous, and the process's other work (a test's clients, signal
    // handlers) must get its turn between two snapshots.
    await sleep(Math.max(0, due - performance.now()), undefined, { signal: o.signal }).catch(() => undefined);
    const snap = readTreeSnapshot(o.pid, performance.now(), k % tcpEvery === 0 || last || o.signal?.aborted === true);
    // A root with another start time is a new process that was given the ended one's id.
    if (snap !== null && snapshots.length > 0 && rootStart(snap) !== rootStart(snapshots[0])) {
      rootEnded = true;
      break;
    }
    if (snap === null) {
      if (snapshots.length === 0) throw new ProcessGoneError(o.pid);
      rootEnded = true;
      break;
    }
    snapshots.push(snap);
    o.onSnapshot?.(snap.at_ms - start, snap);
    if (o.signal?.aborted || last) break;
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
