/**
 * The agent thread's view of the children whose rings it maps (shared-rings.ts): found in /proc/self/task/TID/children,
 * their rings mapped once, and each harvest their threads read as the agent's own are (ring-threads.ts), from
 * /proc/PID/task. Each child is reported as the process it is: its threads' contexts and its totals carry its pid,
 * so a collector shows a prefork worker as it did when the worker exported for itself.
 *
 * A child is looked for in every harvest from the one after its fork, so it is read from before it can have served:
 * it makes its rings in its preload, before its app runs, and a request it served before an interval's end was in a
 * ring that existed at that interval's harvest. A child that hands off (fork-per-connection) is adopted by a message
 * right after its fork; one read here before that message came (a starved agent thread) stays read here, and its
 * adoption and hand-off are then ignored (agent-thread.ts), so no child is counted twice.
 */
import { readFileSync } from 'node:fs';
import { parseStatus } from '../proc/proc-parse.js';
import type { ChildRecord, ContextRecord } from './interval-record.js';
import { harvestThreads, registered, type Registered } from './ring-threads.js';
import { mapChildRings } from './shared-rings.js';
import { H_HAS_LOOP, ThreadRing } from './thread-ring.js';
import { TaskReader, type TaskCounters } from './thread-stats.js';

/** How long a child is looked at for rings before it is taken for one that has none (not Node, or its own agent). */
const GIVE_UP_MS = 10_000;
/** How long a child without rings, or adopted, is left alone before it may be looked at again. */
const IGNORE_MS = 60_000;
/** How often every thread's children are listed, not only the threads that ran. */
const RELIST_MS = 10_000;

interface Child {
  pid: number;
  threads: Map<number, Registered>;
  reader: TaskReader;
  last: Map<number, TaskCounters>;
  /**
   * Its thread count at the last harvest, and until when (ms) its fds are listed again for new rings: a new thread
   * makes its ring in its preload, some time after the count has moved, so one listing at the change can miss it.
   */
  threadCount: number;
  relistUntilMs: number;
  /**
   * Every thread whose ring was mapped: an ended thread's ring is not mapped again (its memfd may stay open until its
   * buffer is collected), which would count its drops a second time.
   */
  mapped: Set<number>;
  /** The interval in progress when it was first found gone: harvested through it, then forgotten. */
  goneAfter: number | null;
}

export interface SharedHarvest {
  contexts: ContextRecord[];
  processes: ChildRecord[];
}

export class ChildProcesses {
  private readonly children = new Map<number, Child>();
  /** Children listed but not yet found with rings: when they were first listed (ms, shared clock). */
  private readonly pending = new Map<number, number>();
  /** Children not to look at (adopted, or without rings), until the time given. */
  private readonly ignored = new Map<number, number>();
  private listedAllMs = -Infinity;

  constructor(
    private readonly intervalMs: number,
    private readonly handsOff: (pid: number) => boolean,
  ) {}

  /** The child's rings are read here: its hand-off, and an adoption that comes after, are not for the agent to count again. */
  has(pid: number): boolean {
    return this.children.has(pid);
  }

  /**
   * Looks for new children of this process's threads, and for rings of the ones found lately. `tasks`, `last`: the
   * threads' counters now and at the last harvest. Only the threads that ran since can have forked; every thread is
   * looked at every RELIST_MS (and at first) all the same.
   */
  discover(tasks: Map<number, TaskCounters>, last: Map<number, TaskCounters>, nowMs: number): void {
    const all = nowMs - this.listedAllMs >= RELIST_MS;
    if (all) this.listedAllMs = nowMs;
    for (const [tid, t] of tasks) {
      if (!all && t.onCpuMs === last.get(tid)?.onCpuMs) continue;
      let listed: string[];
      try {
        listed = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ');
      } catch {
        continue;
      }
      for (const p of listed) {
        const pid = Number(p);
        if (!pid || this.children.has(pid) || this.pending.has(pid)) continue;
        const until = this.ignored.get(pid);
        if (until !== undefined && until > nowMs) continue;
        this.pending.set(pid, nowMs);
      }
    }
    for (const [pid, since] of this.pending) {
      if (this.handsOff(pid) || nowMs - since > GIVE_UP_MS) {
        this.pending.delete(pid);
        this.ignored.set(pid, nowMs + IGNORE_MS);
        continue;
      }
      const rings = mapChildRings(pid, new Set());
      if (rings.size === 0) continue;
      this.pending.delete(pid);
      const child: Child = { pid, threads: new Map(), reader: new TaskReader(`/proc/${pid}`), last: new Map(), threadCount: -1, relistUntilMs: 0, mapped: new Set(), goneAfter: null };
      this.add(child, rings);
      this.children.set(pid, child);
    }
    for (const [pid, until] of this.ignored) if (until <= nowMs) this.ignored.delete(pid);
  }

  private add(child: Child, rings: Map<number, ArrayBuffer>): void {
    for (const [tid, buffer] of rings) {
      const ring = new ThreadRing(this.intervalMs, buffer, false);
      child.threads.set(tid, registered(tid, ring.name(), ring.f64[H_HAS_LOOP] === 1, ring));
      child.mapped.add(tid);
    }
  }

  /** Interval `index` of every child: its threads' contexts and its totals, each with its pid. */
  harvest(index: number, nowIndex: number, nowMs: number): SharedHarvest {
    const out: SharedHarvest = { contexts: [], processes: [] };
    for (const [pid, c] of this.children) {
      const tasks = c.goneAfter === null ? c.reader.readAll(c.last) : new Map<number, TaskCounters>();
      if (tasks.size === 0 && c.goneAfter === null) c.goneAfter = nowIndex;
      if (c.reader.lastCount !== c.threadCount) {
        c.threadCount = c.reader.lastCount;
        c.relistUntilMs = nowMs + GIVE_UP_MS;
      }
      if (c.goneAfter === null && nowMs < c.relistUntilMs) this.add(c, mapChildRings(pid, c.mapped));
      for (const t of c.threads.values()) {
        t.name = t.ring.name();
        t.hasLoop = t.ring.f64[H_HAS_LOOP] === 1;
      }
      // A thread gone from a child that lives on is forgotten after its last interval; a child gone keeps its
      // threads until its own last interval (below).
      const h = harvestThreads(c.threads, index, tasks, c.last, null, c.goneAfter === null ? nowIndex : Infinity);
      c.last = tasks.size > 0 ? tasks : c.last;
      for (const ctx of h.contexts) out.contexts.push({ ...ctx, pid });
      out.processes.push({
        pid,
        process: {
          cpuUserMs: h.sum.cpuUserMs,
          cpuSystemMs: h.sum.cpuSystemMs,
          voluntary: h.sum.voluntary,
          involuntary: h.sum.involuntary,
          runqueueMs: h.sum.runqueueMs,
          rssBytes: rssOf(pid) ?? 0,
        },
        dropped: h.dropped,
        errors: h.errors,
      });
      if (c.goneAfter !== null && index >= c.goneAfter) {
        this.children.delete(pid);
        c.reader.close();
      }
    }
    return out;
  }
}

function rssOf(pid: number): number | null {
  try {
    return parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'))?.rss_bytes ?? null;
  } catch {
    return null;
  }
}
