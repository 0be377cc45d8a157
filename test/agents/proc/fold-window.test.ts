import { describe, expect, it } from 'vitest';
import { foldWindow, type FoldOptions } from '../../../agents/proc/fold-window.js';
import { TCP_LISTEN } from '../../../agents/proc/proc-parse.js';
import type { ProcessReading, ThreadReading, TreeSnapshot } from '../../../agents/proc/tree-snapshot.js';

const OPTS: FoldOptions = { rootPid: 10, rootEnded: false, intervalMs: 100, ticksPerSecond: 100, cores: 2, backlogs: new Map([[500, 128]]) };

function thread(tid: number, n: number, over: Partial<ThreadReading> = {}): ThreadReading {
  return {
    tid,
    start: 1000 + tid,
    comm: 'srv',
    state: 'S',
    user_ticks: n,
    system_ticks: n,
    voluntary: 10 * n,
    involuntary: n,
    oncpu_ns: n * 20e6,
    runqueue_ns: n * 1e6,
    timeslices: 10 * n,
    wchan: 'do_epoll_wait',
    ...over,
  };
}

function proc(pid: number, threads: ThreadReading[], sockets: number[], over: Partial<ProcessReading> = {}): ProcessReading {
  return {
    pid,
    ppid: 1,
    start: 1000 + pid,
    comm: 'srv',
    exe: '/usr/bin/srv',
    cpu_ticks: threads.reduce((s, t) => s + t.user_ticks + t.system_ticks, 0),
    reaped_ticks: 0,
    rss_bytes: 1 << 20,
    fds: sockets.length + 3,
    sockets,
    threads,
    ...over,
  };
}

const listen = (rx: number, port = 8080, inode = 500) => ({ inode, local: `127.0.0.1:${port}`, port, remote: '0.0.0.0:0', state: TCP_LISTEN, rx_queue: rx });
/** An established socket, its peer a client outside the tree unless given. */
const conn = (inode: number, port = 8080, remote = `127.0.0.1:${50000 + inode}`) => ({ inode, local: `127.0.0.1:${port}`, port, remote, state: 1, rx_queue: 0 });

describe('folding snapshots into a window', () => {
  it('counts growth from the first sample, and from zero for a context created during the window', () => {
    const snaps: TreeSnapshot[] = [
      { at_ms: 0, processes: [proc(10, [thread(10, 5)], [500])], tcp: [listen(0)] },
      { at_ms: 100, processes: [proc(10, [thread(10, 7), thread(11, 2)], [500, 601, 602])], tcp: [listen(3), conn(601), conn(602)] },
      // thread 11 ended; an outbound call (local port not a listening one) is not an accepted connection
      { at_ms: 200, processes: [proc(10, [thread(10, 9)], [500, 601, 700], { cpu_ticks: 22 })], tcp: [listen(1), conn(601), conn(700, 40000)] },
    ];
    const w = foldWindow(snaps, OPTS);
    expect(w.samples).toBe(3);
    expect(w.duration_ms).toBe(200);
    const [main, helper] = w.contexts;
    expect(main).toMatchObject({ tid: 10, born: false, ended: false, cpu_ms: 80, user_ms: 40, voluntary: 40, involuntary: 4, oncpu_ms: 80, runqueue_wait_ms: 4, timeslices: 40 });
    expect(helper).toMatchObject({ tid: 11, born: true, ended: true, cpu_ms: 40, voluntary: 20, states: { S: 1 }, wait: 'do_epoll_wait' });
    expect(w.processes).toEqual([
      expect.objectContaining({ pid: 10, cpu_ms: 120, threads_max: 2, inbound_max: 2, outbound_max: 1, holds_listener: true, sockets_readable: true }),
    ]);
    expect(w.listeners).toEqual([{ listen: '127.0.0.1:8080', inode: 500, pids: [10], length: 1, peak: 3, max: 128 }]);
  });

  it('tells a reused id from the context that had it before', () => {
    const snaps: TreeSnapshot[] = [
      { at_ms: 0, processes: [proc(10, [thread(10, 5), thread(11, 50)], [])], tcp: [] },
      { at_ms: 100, processes: [proc(10, [thread(10, 6), thread(11, 1, { start: 99999 })], [])], tcp: [] },
    ];
    const w = foldWindow(snaps, OPTS);
    const elevens = w.contexts.filter((c) => c.tid === 11);
    expect(elevens.map((c) => [c.born, c.ended, c.cpu_ms])).toEqual([
      [false, true, 0],
      [true, false, 20],
    ]);
  });

  it('does not count a connection between two sockets of the tree as a client', () => {
    // The server calls a backend that listens in the same tree (port 9000): its end of that call is outbound, and
    // the backend's end (seen by a dual-stack socket) is no client of the tree.
    const tcp = [listen(0), listen(0, 9000, 501), conn(601), conn(700, 45000, '127.0.0.1:9000'), conn(701, 9000, '[::ffff:127.0.0.1]:45000')];
    const snaps: TreeSnapshot[] = [0, 100].map((at) => ({ at_ms: at, processes: [proc(10, [thread(10, 1)], [500, 501, 601, 700, 701])], tcp }));
    expect(foldWindow(snaps, OPTS).processes[0]).toMatchObject({ inbound_max: 1, outbound_max: 1 });
  });

  it('counts connections only in snapshots that read the TCP tables', () => {
    const sockets = [500, 601, 602];
    const snaps: TreeSnapshot[] = [
      { at_ms: 0, processes: [proc(10, [thread(10, 1)], sockets)], tcp: [listen(1), conn(601), conn(602)] },
      { at_ms: 100, processes: [proc(10, [thread(10, 2)], sockets)], tcp: null },
      { at_ms: 200, processes: [proc(10, [thread(10, 3)], [500])], tcp: [listen(0)] },
    ];
    const w = foldWindow(snaps, OPTS);
    expect(w.processes[0]).toMatchObject({ inbound_max: 2, holds_listener: true });
    expect(w.listeners[0]).toMatchObject({ length: 0, peak: 1 });
    expect(w.contexts[0].cpu_ms).toBe(40);
  });

  it('leaves what could not be read unknown, not zero', () => {
    const snaps: TreeSnapshot[] = [0, 100].map((at) => ({
      at_ms: at,
      processes: [proc(10, [thread(10, at / 100, { oncpu_ns: null, runqueue_ns: null, timeslices: null })], [], { sockets: null, fds: null, rss_bytes: null })],
      tcp: [],
    }));
    const w = foldWindow(snaps, { ...OPTS, backlogs: new Map() });
    expect(w.contexts[0]).toMatchObject({ oncpu_ms: null, runqueue_wait_ms: null, timeslices: null, cpu_ms: 20 });
    expect(w.processes[0]).toMatchObject({ sockets_readable: false, fds: null, rss_bytes: null });
  });
});
