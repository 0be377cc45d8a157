import { describe, expect, it } from 'vitest';
import type { FoldOptions } from '../../../agents/proc/fold-window.js';
import { TCP_LISTEN } from '../../../agents/proc/proc-parse.js';
import { procFrame } from '../../../agents/proc/proc-frames.js';
import type { ProcessReading, ThreadReading, TreeSnapshot } from '../../../agents/proc/tree-snapshot.js';

/** 100 ticks a second: a tick is 10 ms. */
const FOLD: FoldOptions = { rootPid: 10, rootEnded: false, intervalMs: 250, ticksPerSecond: 100, cores: 2, backlogs: new Map() };

/** A thread that ran `ms` of CPU so far, as schedstat (exact) and ticks (user and system halves). */
function thread(tid: number, ms: number, over: Partial<ThreadReading> = {}): ThreadReading {
  return { tid, start: 1000 + tid, comm: 'srv', state: 'S', user_ticks: ms / 20, system_ticks: ms / 20, voluntary: ms, involuntary: 0, oncpu_ns: ms * 1e6, runqueue_ns: ms * 1e5, timeslices: ms, wchan: null, ...over };
}

function proc(threads: ThreadReading[], cpuTicks = threads.reduce((s, t) => s + t.user_ticks + t.system_ticks, 0), over: Partial<ProcessReading> = {}): ProcessReading {
  return { pid: 10, ppid: 1, start: 1010, comm: 'srv', exe: '/usr/bin/srv', cpu_ticks: cpuTicks, reaped_ticks: 0, rss_bytes: 1 << 20, fds: 4, sockets: [500], threads, ...over };
}

const listen = (rx: number) => [{ inode: 500, local: '127.0.0.1:8080', port: 8080, remote: '0.0.0.0:0', state: TCP_LISTEN, rx_queue: rx }];

describe('a frame from one interval of /proc snapshots', () => {
  it('has a context per thread, the accept queue of the interval\'s own snapshots, and nothing /proc cannot see', () => {
    const snaps: TreeSnapshot[] = [
      { at_ms: 1000, processes: [proc([thread(10, 100)])], tcp: listen(2) },
      { at_ms: 1500, processes: [proc([thread(10, 200), thread(11, 40)])], tcp: listen(4) },
      // The next interval's first snapshot closes this one; its queue is the next interval's.
      { at_ms: 2000, processes: [proc([thread(10, 300), thread(11, 60)])], tcp: listen(100) },
    ];
    const f = procFrame(3, 1, 1000, snaps, FOLD, new Map());
    expect(f).toMatchObject({ kind: 'frame', run: 3, index: 1, t_ms: 1000, interval_ms: 1000, generator: null, server: null, backend: null, phase: null });
    expect(f.accept_queue).toEqual({ length_max: 4, length_mean: 3, samples: 2 });
    expect(f.contexts.map((c) => [c.key, c.role, c.cpu_user_ms + c.cpu_system_ms, c.voluntary, c.rss_bytes])).toEqual([
      ['10/10', 'thread', 200, 200, 1 << 20],
      ['10/11', 'thread', 60, 60, null],
    ]);
    expect(f.contexts[0].runqueue_wait_ms).toBeCloseTo(20);
  });

  it('keeps the CPU of threads that ran and ended between two snapshots, on a row of their own', () => {
    const snaps: TreeSnapshot[] = [
      { at_ms: 0, processes: [proc([thread(10, 100)])], tcp: null },
      // The process's ticks grew by 30 ms more than its one thread's: threads no snapshot saw.
      { at_ms: 1000, processes: [proc([thread(10, 200)], 10 + 10 + 3)], tcp: null },
    ];
    const f = procFrame(0, 0, 1000, snaps, FOLD, new Map());
    expect(f.accept_queue).toBeUndefined();
    const unseen = f.contexts.find((c) => c.key === '10/unseen')!;
    expect(unseen.cpu_user_ms + unseen.cpu_system_ms).toBeCloseTo(130 - 100);
    expect(unseen.runqueue_wait_ms).toBeNull();
  });

  it('takes less than a tick between the process\'s ticks and its threads\' ns for rounding, not a thread', () => {
    const snaps: TreeSnapshot[] = [
      { at_ms: 0, processes: [proc([thread(10, 100)])], tcp: null },
      { at_ms: 1000, processes: [proc([thread(10, 195)], 10 + 10)], tcp: null },
    ];
    expect(procFrame(0, 0, 1000, snaps, FOLD, new Map()).contexts.map((c) => c.key)).toEqual(['10/10']);
  });

  it('keeps the CPU of child processes no frame counted, once their parent has waited for them, intervals later or not', () => {
    const parent = (reapedTicks: number) => proc([thread(10, 100)], undefined, { reaped_ticks: reapedTicks });
    const child = proc([thread(20, 100, { user_ticks: 3, system_ticks: 2 })], 5, { pid: 20, ppid: 10, start: 1020 });
    const unreaped = new Map<number, number>();
    // The child ends in the first interval, after 50 ms of CPU a snapshot saw; its parent waits for it in the second.
    const first = procFrame(0, 0, 1000, [
      { at_ms: 0, processes: [parent(0), child], tcp: null },
      { at_ms: 1000, processes: [parent(0)], tcp: null },
    ], FOLD, unreaped);
    expect(first.contexts.find((c) => c.key === '10/unseen')).toBeUndefined();
    // Reaped: that child's 8 ticks in all (3 after the last snapshot saw it), and 4 of a child no snapshot saw.
    const second = procFrame(0, 1, 1000, [
      { at_ms: 1000, processes: [parent(0)], tcp: null },
      { at_ms: 2000, processes: [parent(12)], tcp: null },
    ], FOLD, unreaped);
    const unseen = second.contexts.find((c) => c.key === '10/unseen')!;
    expect(unseen.cpu_user_ms + unseen.cpu_system_ms).toBeCloseTo(30 + 40);
    expect(unreaped.get(10)).toBe(0);
  });
});
