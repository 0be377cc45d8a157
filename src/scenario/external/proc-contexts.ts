/**
 * What a server without the in-process agent costs, per interval, from the /proc snapshots the runner already takes
 * of it (proc-watch.ts): one frame context per process of its tree, with CPU, context switches, run-queue wait and
 * memory, in the shape the agent's contexts have, so the report's per-request costs come out the same way. The
 * request-side parts stay unmeasured: /proc cannot see requests.
 *
 * Snapshots are taken every 250 ms, not on interval boundaries: each growth between two snapshots is spread over
 * the intervals it spans in proportion to the time it spent in each (so counts can be fractional). What /proc cannot
 * give: context switches and run-queue wait of threads born and ended between two snapshots (a thread per short
 * connection) are missed; their CPU is not, since a process's CPU counts its ended threads, and the CPU of child
 * processes that ended comes back through their parent's reaped-children CPU.
 */
import type { ProcessReading, ThreadReading, TreeSnapshot } from '../../../agents/proc/tree-snapshot.js';
import { intervalIndex, type ContextInterval } from '../../vocabulary/index.js';

/** Growth of one process's counters between two snapshots. */
interface Growth {
  cpu_user_ms: number;
  cpu_system_ms: number;
  ctx_voluntary: number;
  ctx_involuntary: number;
  runqueue_wait_ms: number | null;
}

/** The role of these contexts in frames: measured from outside, by /proc (the agent's say server, js, runtime...). */
export const PROC_ROLE = 'proc';

export class ProcContexts {
  private processes = new Map<string, ProcessReading>();
  private threads = new Map<string, ThreadReading>();
  /** CPU ticks counted so far per live process, and per parent the ticks of ended children not yet reaped. */
  private counted = new Map<string, number>();
  private unreaped = new Map<number, number>();
  private lastAt: number | null = null;
  private readonly byIndex = new Map<number, Map<number, ContextInterval>>();

  constructor(
    private readonly serverName: string,
    private readonly intervalMs: number,
    private readonly msPerTick: number,
  ) {}

  /** The time of the last snapshot, monotonic ms: intervals that end before it have all their data. */
  get sampledUntil(): number {
    return this.lastAt ?? -Infinity;
  }

  /** Folds in a snapshot taken at `atMs` (monotonic ms). */
  add(snap: TreeSnapshot, atMs: number): void {
    const keys = new Set(snap.processes.map(processKey));
    for (const [key, p] of this.processes) {
      if (keys.has(key)) continue;
      // Ended: what it used after our last look shows up in its parent's reaped-children CPU, minus what we counted.
      this.unreaped.set(p.ppid, (this.unreaped.get(p.ppid) ?? 0) + (this.counted.get(key) ?? 0));
      this.counted.delete(key);
    }
    const first = this.lastAt === null;
    const threads = new Map<string, ThreadReading>();
    for (const p of snap.processes) {
      const key = processKey(p);
      const growth = this.growth(p, threads);
      this.processes.set(key, p);
      // The first snapshot is the baseline: what grew before it belongs to no interval of the run.
      if (!first) this.spread(p, growth, this.lastAt!, atMs);
    }
    for (const key of this.processes.keys()) if (!keys.has(key)) this.processes.delete(key);
    this.threads = threads;
    this.lastAt = atMs;
  }

  /** The contexts of interval `index`, once; what is kept of earlier intervals is dropped. */
  take(index: number): ContextInterval[] {
    const out = [...(this.byIndex.get(index)?.values() ?? [])];
    for (const i of this.byIndex.keys()) if (i <= index) this.byIndex.delete(i);
    return out;
  }

  private growth(p: ProcessReading, threads: Map<string, ThreadReading>): Growth {
    const key = processKey(p);
    const before = this.processes.get(key);
    // A process or thread not seen before was born since the last snapshot: all its counters grew in between.
    let ticks = p.cpu_ticks - (before?.cpu_ticks ?? 0);
    const reaped = p.reaped_ticks - (before?.reaped_ticks ?? 0);
    const owed = this.unreaped.get(p.pid) ?? 0;
    ticks += Math.max(0, reaped - owed);
    if (owed > 0) this.unreaped.set(p.pid, Math.max(0, owed - reaped));
    this.counted.set(key, (this.counted.get(key) ?? 0) + ticks);

    let user = 0;
    let system = 0;
    let voluntary = 0;
    let involuntary = 0;
    let runqueueNs: number | null = 0;
    for (const t of p.threads) {
      const tKey = `${p.pid}/${t.tid}/${t.start}`;
      threads.set(tKey, t);
      const b = this.threads.get(tKey);
      user += t.user_ticks - (b?.user_ticks ?? 0);
      system += t.system_ticks - (b?.system_ticks ?? 0);
      voluntary += t.voluntary - (b?.voluntary ?? 0);
      involuntary += t.involuntary - (b?.involuntary ?? 0);
      runqueueNs = runqueueNs === null || t.runqueue_ns === null ? null : runqueueNs + t.runqueue_ns - (b?.runqueue_ns ?? 0);
    }
    // The process's CPU is the whole (its ended threads and reaped children too); only its threads say how it
    // splits into user and system. Unseen threads' CPU is taken to split as the seen threads' did (user when none ran).
    const userShare = user + system > 0 ? user / (user + system) : 1;
    const cpuMs = Math.max(0, ticks) * this.msPerTick;
    return {
      cpu_user_ms: cpuMs * userShare,
      cpu_system_ms: cpuMs * (1 - userShare),
      ctx_voluntary: Math.max(0, voluntary),
      ctx_involuntary: Math.max(0, involuntary),
      runqueue_wait_ms: runqueueNs === null ? null : Math.max(0, runqueueNs) / 1e6,
    };
  }

  /** Adds `g`, which grew between `from` and `to`, to the intervals in that span, in proportion to the time in each. */
  private spread(p: ProcessReading, g: Growth, from: number, to: number): void {
    const span = to - from;
    if (span <= 0) return;
    for (let index = intervalIndex(from, this.intervalMs); index * this.intervalMs < to; index++) {
      const start = Math.max(from, index * this.intervalMs);
      const end = Math.min(to, (index + 1) * this.intervalMs);
      const share = (end - start) / span;
      if (share <= 0) continue;
      let contexts = this.byIndex.get(index);
      if (!contexts) this.byIndex.set(index, (contexts = new Map()));
      const c = contexts.get(p.pid) ?? this.emptyContext(p);
      c.cpu_user_ms += g.cpu_user_ms * share;
      c.cpu_system_ms += g.cpu_system_ms * share;
      c.ctx_voluntary += g.ctx_voluntary * share;
      c.ctx_involuntary += g.ctx_involuntary * share;
      c.runqueue_wait_ms = c.runqueue_wait_ms === null || g.runqueue_wait_ms === null ? null : c.runqueue_wait_ms + g.runqueue_wait_ms * share;
      c.rss_bytes = p.rss_bytes;
      contexts.set(p.pid, c);
    }
  }

  private emptyContext(p: ProcessReading): ContextInterval {
    return {
      key: String(p.pid),
      pid: p.pid,
      tid: null,
      name: `${this.serverName}:${p.comm}`,
      role: PROC_ROLE,
      cpu_user_ms: 0,
      cpu_system_ms: 0,
      ctx_voluntary: 0,
      ctx_involuntary: 0,
      runqueue_wait_ms: 0,
      eventloop_delay: null,
      eventloop_utilization: null,
      rss_bytes: p.rss_bytes,
    };
  }
}

const processKey = (p: ProcessReading) => `${p.pid}/${p.start}`;
