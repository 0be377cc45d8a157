/**
 * Folds successive snapshots of a tree into one window: per context and process, the counters' growth from the first
 * sample that saw it (or from zero, for one created during the window) to the last; per process, the most threads
 * and connections seen at once; per listening socket, its accept queue. Pure, so it is tested on made-up snapshots.
 */
import { TCP_LISTEN, type TcpEntry } from './proc-parse.js';
import type { ProcessReading, ThreadReading, TreeSnapshot } from './tree-snapshot.js';
import type { ContextWindow, ListenerWindow, ProcessWindow, WindowSummary } from '../../src/vocabulary/window-summary.js';

export interface FoldOptions {
  rootPid: number;
  rootEnded: boolean;
  intervalMs: number;
  ticksPerSecond: number;
  cores: number;
  /** Listening socket inode -> backlog, where known. */
  backlogs: ReadonlyMap<number, number>;
}

/** A reading's life across the samples: ids are reused, so a context is its id and its start time together. */
interface Life<R> {
  first: R;
  last: R;
  firstIndex: number;
  lastIndex: number;
}

interface ThreadLife extends Life<ThreadReading> {
  pid: number;
  states: Record<string, number>;
  waits: Map<string, number>;
}

interface ProcessLife extends Life<ProcessReading> {
  threadsMax: number;
  inMax: number;
  outMax: number;
  listener: boolean;
}

type ListenerMap = Map<number, Omit<ListenerWindow, 'max' | 'pids'> & { pids: Set<number> }>;

const lifeFrom = <R>(reading: R, index: number): Life<R> => ({ first: reading, last: reading, firstIndex: index, lastIndex: index });

const mostFrequent = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;

/** An IPv4 peer seen from a dual-stack socket (`[::ffff:127.0.0.1]:80`) is the same endpoint as `127.0.0.1:80`. */
const endpoint = (address: string) => address.replace(/^\[::ffff:([\d.]+)\]/, '$1');

/** One snapshot's TCP sockets of the tree, indexed for sorting each process's sockets. */
interface TcpIndex {
  byInode: Map<number, TcpEntry>;
  listenPorts: Set<number>;
  /** Local endpoints of the tree's own sockets: a connection whose peer is one of them stays inside the tree. */
  ownEndpoints: Set<string>;
}

function indexTcp(tcp: TcpEntry[]): TcpIndex {
  return {
    byInode: new Map(tcp.map((e) => [e.inode, e])),
    listenPorts: new Set(tcp.filter((e) => e.state === TCP_LISTEN).map((e) => e.port)),
    ownEndpoints: new Set(tcp.map((e) => endpoint(e.local))),
  };
}

/**
 * Sorts a process's sockets at one snapshot: listeners (and their queues), connections accepted from clients, and
 * its own calls out. A connection between two sockets of the tree (a backend or sidecar in the same tree) is
 * neither: counting its accepting end as a client would make a server one connection at a time look like it
 * multiplexes.
 */
function countSockets(p: ProcessReading, proc: ProcessLife, tcp: TcpIndex, listeners: ListenerMap): void {
  let inbound = 0;
  let outbound = 0;
  for (const inode of p.sockets ?? []) {
    const e = tcp.byInode.get(inode);
    if (e === undefined) continue; // not TCP (unix, UDP)
    if (e.state === TCP_LISTEN) {
      proc.listener = true;
      const l = listeners.get(inode) ?? { listen: e.local, inode, pids: new Set<number>(), length: 0, peak: 0 };
      l.pids.add(p.pid);
      l.length = e.rx_queue;
      l.peak = Math.max(l.peak, e.rx_queue);
      listeners.set(inode, l);
    } else if (tcp.ownEndpoints.has(endpoint(e.remote))) {
      if (!tcp.listenPorts.has(e.port)) outbound++;
    } else if (tcp.listenPorts.has(e.port)) inbound++;
    else outbound++;
  }
  proc.inMax = Math.max(proc.inMax, inbound);
  proc.outMax = Math.max(proc.outMax, outbound);
}

export function foldWindow(snapshots: readonly TreeSnapshot[], o: FoldOptions): WindowSummary {
  const n = snapshots.length;
  const msPerTick = 1000 / o.ticksPerSecond;
  const threads = new Map<string, ThreadLife>();
  const processes = new Map<string, ProcessLife>();
  const listeners: ListenerMap = new Map();

  snapshots.forEach((snap, i) => {
    const tcp = snap.tcp === null ? null : indexTcp(snap.tcp);
    for (const p of snap.processes) {
      const pKey = `${p.pid}/${p.start}`;
      let proc = processes.get(pKey);
      if (proc === undefined) {
        proc = { ...lifeFrom(p, i), threadsMax: 0, inMax: 0, outMax: 0, listener: false };
        processes.set(pKey, proc);
      }
      proc.last = p;
      proc.lastIndex = i;
      proc.threadsMax = Math.max(proc.threadsMax, p.threads.length);
      if (tcp !== null) countSockets(p, proc, tcp, listeners);
      for (const t of p.threads) {
        const tKey = `${p.pid}/${t.tid}/${t.start}`;
        let ctx = threads.get(tKey);
        if (ctx === undefined) {
          ctx = { ...lifeFrom(t, i), pid: p.pid, states: {}, waits: new Map() };
          threads.set(tKey, ctx);
        }
        ctx.last = t;
        ctx.lastIndex = i;
        ctx.states[t.state] = (ctx.states[t.state] ?? 0) + 1;
        if (t.wchan !== null) ctx.waits.set(t.wchan, (ctx.waits.get(t.wchan) ?? 0) + 1);
      }
    }
  });

  const born = (s: Life<unknown>) => s.firstIndex > 0;
  const ended = (s: Life<unknown>) => s.lastIndex < n - 1;
  // A context created during the window did all its work in it: its counters grew from zero.
  const delta = <R>(s: Life<R>, get: (r: R) => number | null): number | null => {
    const last = get(s.last);
    const base = born(s) ? 0 : get(s.first);
    return last === null || base === null ? null : last - base;
  };

  const contexts: ContextWindow[] = [...threads.values()].map((s) => {
    const user = delta(s, (t) => t.user_ticks)! * msPerTick;
    const system = delta(s, (t) => t.system_ticks)! * msPerTick;
    const ns = (get: (t: ThreadReading) => number | null) => {
      const d = delta(s, get);
      return d === null ? null : d / 1e6;
    };
    return {
      pid: s.pid,
      tid: s.last.tid,
      name: s.last.comm,
      state: s.last.state,
      states: s.states,
      wait: mostFrequent(s.waits),
      born: born(s),
      ended: ended(s),
      cpu_ms: user + system,
      user_ms: user,
      system_ms: system,
      voluntary: delta(s, (t) => t.voluntary)!,
      involuntary: delta(s, (t) => t.involuntary)!,
      oncpu_ms: ns((t) => t.oncpu_ns),
      runqueue_wait_ms: ns((t) => t.runqueue_ns),
      timeslices: delta(s, (t) => t.timeslices),
    };
  });

  const procs: ProcessWindow[] = [...processes.values()].map((s) => ({
    pid: s.last.pid,
    ppid: s.last.ppid,
    name: s.last.comm,
    // A process on its way out may no longer show its executable.
    exe: s.last.exe ?? s.first.exe,
    born: born(s),
    ended: ended(s),
    cpu_ms: delta(s, (p) => p.cpu_ticks)! * msPerTick,
    reaped_children_cpu_ms: delta(s, (p) => p.reaped_ticks)! * msPerTick,
    rss_bytes: s.last.rss_bytes,
    fds: s.last.fds,
    threads_max: s.threadsMax,
    inbound_max: s.inMax,
    outbound_max: s.outMax,
    holds_listener: s.listener,
    sockets_readable: s.last.sockets !== null,
  }));

  const byId = (a: { pid: number; tid?: number }, b: { pid: number; tid?: number }) => a.pid - b.pid || (a.tid ?? 0) - (b.tid ?? 0);
  return {
    root_pid: o.rootPid,
    root_ended: o.rootEnded,
    duration_ms: n > 1 ? snapshots[n - 1].at_ms - snapshots[0].at_ms : 0,
    interval_ms: o.intervalMs,
    samples: n,
    cores: o.cores,
    processes: procs.sort(byId),
    contexts: contexts.sort(byId),
    listeners: [...listeners.values()]
      .map((l) => ({ ...l, pids: [...l.pids].sort((a, b) => a - b), max: o.backlogs.get(l.inode) ?? null }))
      .sort((a, b) => a.listen.localeCompare(b.listen)),
  };
}
