/**
 * Windows as the sampler would fold them for servers of each model, made from a seeded generator with noise in the
 * figures (CPU, connections, helper activity, sizes), so the detection is tested on many plausible windows per model
 * and a failure names the seed that reproduces it.
 */
import type { ContextWindow, ListenerWindow, ProcessWindow, WindowSummary } from '../../src/vocabulary/window-summary.js';
import { mulberry32 } from '../../src/vocabulary/random.js';

/** The project's seeded generator (mulberry32): the same sequence for the same seed everywhere. */
export const seeded = mulberry32;

export type Rng = () => number;
const between = (r: Rng, lo: number, hi: number) => lo + (hi - lo) * r();
const int = (r: Rng, lo: number, hi: number) => Math.floor(between(r, lo, hi + 1));

export function ctx(pid: number, tid: number, cpuMs: number, over: Partial<ContextWindow> = {}): ContextWindow {
  return {
    pid,
    tid,
    name: 'srv',
    state: 'S',
    states: { S: 20 },
    wait: null,
    born: false,
    ended: false,
    cpu_ms: Math.round(cpuMs / 10) * 10,
    user_ms: Math.round(cpuMs / 20) * 10,
    system_ms: Math.round(cpuMs / 20) * 10,
    voluntary: Math.round(cpuMs * 3),
    involuntary: Math.round(cpuMs / 10),
    oncpu_ms: cpuMs,
    runqueue_wait_ms: cpuMs / 20,
    timeslices: Math.round(cpuMs * 3),
    ...over,
  };
}

export function proc(pid: number, ppid: number, threads: ContextWindow[], over: Partial<ProcessWindow> = {}): ProcessWindow {
  return {
    pid,
    ppid,
    name: 'srv',
    exe: '/usr/sbin/srv',
    born: false,
    ended: false,
    cpu_ms: threads.filter((t) => t.pid === pid).reduce((s, t) => s + (t.oncpu_ms ?? t.cpu_ms), 0),
    reaped_children_cpu_ms: 0,
    rss_bytes: 8 << 20,
    fds: 12,
    threads_max: threads.filter((t) => t.pid === pid && !t.born).length || 1,
    inbound_max: 0,
    outbound_max: 0,
    holds_listener: pid === ROOT,
    sockets_readable: true,
    ...over,
  };
}

export const ROOT = 100;

export function window(processes: ProcessWindow[], contexts: ContextWindow[], queue: Partial<ListenerWindow> = {}): WindowSummary {
  return {
    root_pid: ROOT,
    root_ended: false,
    duration_ms: 2000,
    interval_ms: 100,
    samples: 21,
    cores: 2,
    processes,
    contexts,
    listeners: [{ listen: '127.0.0.1:8080', inode: 1, pids: processes.filter((p) => p.holds_listener).map((p) => p.pid), length: 0, peak: 0, max: 128, ...queue }],
  };
}

/** n helper threads of a runtime (GC, I/O pool) from tid `firstTid`, each doing `shareEach` of the main thread's CPU or idle. */
function helpers(r: Rng, pid: number, firstTid: number, n: number, mainMs: number, shareEach: [number, number]): ContextWindow[] {
  return Array.from({ length: n }, (_, i) => ctx(pid, firstTid + i, r() < 0.4 ? 0 : mainMs * between(r, ...shareEach)));
}

/** One builder per model, each a plausible window under concurrent load. */
export const UNDER_LOAD = {
  iterative(r: Rng): WindowSummary {
    const main = ctx(ROOT, ROOT, between(r, 20, 900));
    return window([proc(ROOT, 1, [main], { inbound_max: 1 })], [main], { peak: int(r, 1, 5), length: int(r, 0, 5) });
  },
  'event-loop'(r: Rng): WindowSummary {
    // Node: the loop thread and 10 helpers, the 4 GC helpers busy up to 8 % of the loop's CPU each under load.
    const mainMs = between(r, 200, 1800);
    const threads = [ctx(ROOT, ROOT, mainMs), ...helpers(r, ROOT, ROOT + 1, 10, mainMs, [0.005, 0.08])];
    return window([proc(ROOT, 1, threads, { inbound_max: int(r, 2, 200) })], threads);
  },
  'thread-pool'(r: Rng): WindowSummary {
    // Threads that take connections in turn share the work about evenly.
    const n = int(r, 4, 32);
    const threads = Array.from({ length: n }, (_, i) => ctx(ROOT, ROOT + 1 + i, between(r, 60, 120)));
    const acceptor = ctx(ROOT, ROOT, between(r, 0, 5));
    return window([proc(ROOT, 1, [acceptor, ...threads], { inbound_max: int(r, 2, n) })], [acceptor, ...threads], { peak: int(r, 0, 4) });
  },
  'thread-per-connection'(r: Rng): WindowSummary {
    const made = int(r, 3, 120);
    const main = ctx(ROOT, ROOT, between(r, 5, 100));
    const threads = Array.from({ length: made }, (_, i) => ctx(ROOT, ROOT + 1 + i, between(r, 0, 10), { born: true, ended: r() < 0.9 || i < 3 }));
    return window([proc(ROOT, 1, [main, ...threads], { inbound_max: int(r, 2, 10), threads_max: int(r, 2, 11) })], [main, ...threads]);
  },
  prefork(r: Rng): WindowSummary {
    const n = int(r, 2, 16);
    const master = ctx(ROOT, ROOT, 0);
    const workers = Array.from({ length: n }, (_, i) => ctx(ROOT + 1 + i, ROOT + 1 + i, between(r, 0, 300)));
    // Recycling: up to 2 workers replaced during the window, fewer than there are workers.
    const recycled = Math.min(int(r, 0, 2), n - 1);
    const fresh = Array.from({ length: recycled }, (_, i) => ctx(ROOT + 50 + i, ROOT + 50 + i, 5, { born: true }));
    const processes = [
      proc(ROOT, 1, [master], { holds_listener: true }),
      ...workers.map((w, i) => proc(w.pid, ROOT, [w], { holds_listener: true, inbound_max: i < 2 ? 1 : int(r, 0, 1) })),
      ...fresh.map((f) => proc(f.pid, ROOT, [f], { born: true, holds_listener: true })),
    ];
    return window(processes, [master, ...workers, ...fresh], { peak: int(r, 0, 3) });
  },
  'fork-per-connection'(r: Rng): WindowSummary {
    const made = int(r, 3, 60);
    const master = ctx(ROOT, ROOT, between(r, 10, 200));
    const kids = Array.from({ length: made }, (_, i) => ctx(ROOT + 1 + i, ROOT + 1 + i, between(r, 0, 20), { born: true, ended: true }));
    const processes = [
      proc(ROOT, 1, [master], { reaped_children_cpu_ms: between(r, 0, 300) }),
      ...kids.map((k) => proc(k.pid, ROOT, [k], { born: true, ended: true, inbound_max: 1 })),
    ];
    return window(processes, [master, ...kids]);
  },
  'event-loop-per-core'(r: Rng): WindowSummary {
    const n = int(r, 2, 8);
    // nginx: single-threaded workers; Node cluster: each worker a loop with its helpers.
    const node = r() < 0.5;
    const master = ctx(ROOT, ROOT, between(r, 0, 20));
    const threads: ContextWindow[] = [master];
    const processes = [proc(ROOT, 1, [master], { holds_listener: true })];
    for (let i = 0; i < n; i++) {
      const pid = ROOT + 100 * (i + 1);
      const mainMs = between(r, 100, 900);
      const own = [ctx(pid, pid, mainMs), ...(node ? helpers(r, pid, pid + 1, 10, mainMs, [0.005, 0.08]) : [])];
      threads.push(...own);
      processes.push(proc(pid, ROOT, own, { holds_listener: true, inbound_max: i === 0 ? int(r, 2, 100) : int(r, 0, 100) }));
    }
    return window(processes, threads);
  },
  hybrid(r: Rng): WindowSummary {
    // A loop that hands CPU stages to a pool of 2-8 worker threads, which do 15-40 % of the loop's CPU each.
    const mainMs = between(r, 300, 900);
    const pool = Array.from({ length: int(r, 2, 8) }, (_, i) => ctx(ROOT, ROOT + 1 + i, mainMs * between(r, 0.35, 0.9)));
    const threads = [ctx(ROOT, ROOT, mainMs), ...pool, ...helpers(r, ROOT, ROOT + 20, 4, mainMs, [0, 0.05])];
    return window([proc(ROOT, 1, threads, { inbound_max: pool.length + int(r, 2, 100) })], threads);
  },
} satisfies Record<string, (r: Rng) => WindowSummary>;

/** Node's threads in one process, by role, as ms of CPU in the window; the ones not given ran nothing. */
interface NodeThreads {
  loop: number;
  /** srvlens's agent thread (a worker thread reading /proc and exporting once a second). */
  agent: number;
  /** V8's 4 platform threads (GC, JIT). */
  v8: number[];
  /** Worker threads the app made to take its CPU stages (the hybrid's pool). */
  pool?: number[];
}

/** A Node process as /proc shows it: its main thread, the roles above, and idle libuv and scheduler threads. */
export function nodeProcess(pid: number, ppid: number, t: NodeThreads, over: Partial<ProcessWindow> = {}) {
  const busy = [t.agent, ...t.v8, ...(t.pool ?? [])];
  const threads = [ctx(pid, pid, t.loop), ...busy.map((ms, i) => ctx(pid, pid + 1 + i, ms)), ...[0, 0, 0, 0, 0].map((ms, i) => ctx(pid, pid + 20 + i, ms))];
  return { proc: proc(pid, ppid, threads, over), threads };
}

/** A master (its loop and agent) over workers, in a 5 s window as `srvlens attach` takes by default. */
export function clusterWindow(workers: { t: NodeThreads; inbound: number }[]): WindowSummary {
  const master = nodeProcess(ROOT, 1, { loop: 30, agent: 20, v8: [2, 0, 0, 0] }, { holds_listener: true });
  const kids = workers.map((k, i) => nodeProcess(ROOT + 100 * (i + 1), ROOT, k.t, { holds_listener: true, inbound_max: k.inbound }));
  const all = [master, ...kids];
  return { ...window(all.map((x) => x.proc), all.flatMap((x) => x.threads)), duration_ms: 5000, samples: 26 };
}

/**
 * Light load, where the threads a runtime runs for itself rival the one that serves. Measured on the reference servers
 * under srvlens's agent (Node 20, 2 cores, 5 s windows, 10-25 req/s over 10 keep-alive connections, 2 workers):
 * a worker's loop 45-110 ms, the agent's thread 12-25 ms, V8's 4 threads 0-5 ms each; in some windows one worker runs
 * a GC cycle, its V8 threads 10-50 ms each at once and its agent thread up to 55 ms. The hybrid at 10-25 req/s: the
 * loop 50-105 ms, each of its 2-4 pool threads 40-85 % of that.
 */
export const LIGHT_LOAD = {
  'event-loop-per-core'(r: Rng): WindowSummary {
    const n = int(r, 2, 4);
    const gc = r() < 0.7 ? int(r, 0, n - 1) : -1;
    const workers = Array.from({ length: n }, (_, i) => ({
      t: {
        loop: between(r, 45, 110),
        agent: i === gc ? between(r, 12, 55) : between(r, 12, 25),
        v8: [0, 1, 2, 3].map(() => (i === gc ? between(r, 10, 50) : r() < 0.5 ? 0 : between(r, 0.3, 5))),
      },
      inbound: int(r, 2, 8),
    }));
    return clusterWindow(workers);
  },
  hybrid(r: Rng): WindowSummary {
    const loop = between(r, 50, 105);
    const t = { loop, agent: between(r, 12, 25), v8: [0, 1, 2, 3].map(() => between(r, 0, 10)), pool: Array.from({ length: int(r, 2, 4) }, () => loop * between(r, 0.4, 0.85)) };
    const { proc: p, threads } = nodeProcess(ROOT, 1, t, { inbound_max: int(r, 10, 60) });
    return { ...window([p], threads), duration_ms: 5000, samples: 26 };
  },
} satisfies Record<string, (r: Rng) => WindowSummary>;
