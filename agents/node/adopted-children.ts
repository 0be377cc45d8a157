/**
 * Children that live for one connection and hand off what they measured (the fork-per-connection model), read from
 * /proc while they live. Without this a child's CPU reached the agent only at its hand-off, as one total over its
 * whole life: a child that lived through several intervals had its CPU moved into the last two (the collector has
 * closed older frames by then), so a phase ending with busy children reported too little CPU and the next too much.
 * Now each harvest reads every adopted child's counters and reports the interval's share in the interval it was
 * spent; the hand-off then adds only the rest (its total less what was read), which covers the time since the last
 * read. A child that dies without a hand-off has been counted up to its last read.
 *
 * The reads per child and interval: /proc/<pid>/stat (CPU of the whole process, every thread, in clock ticks),
 * and the main thread's status and schedstat (its switches and run-queue wait: the thread that serves). The rest
 * of the child's switches (its agent's and V8's threads) arrive with the hand-off's totals.
 */
import { readFileSync } from 'node:fs';
import { parseSchedstat, parseStat, parseStatus } from '../proc/proc-parse.js';
import type { ContextRecord } from './interval-record.js';

/** USER_HZ: the unit of /proc's utime and stime, 100 in the kernel ABI of every Linux architecture Node runs on. */
const TICKS_PER_S = 100;

interface ChildCounters {
  userMs: number;
  systemMs: number;
  voluntary: number;
  involuntary: number;
  runqueueMs: number;
}

const ZERO: ChildCounters = { userMs: 0, systemMs: 0, voluntary: 0, involuntary: 0, runqueueMs: 0 };

interface Adopted {
  pid: number;
  name: string;
  /** What was read so far (the counters at the last read), and when. */
  read: ChildCounters;
  readAtMs: number;
  /** When it was first found gone from /proc (reaped), or null: kept a while for its hand-off to find what was read. */
  goneAtMs: number | null;
}

/** A child gone this long without a hand-off will not send one (it crashed, or was stopped). */
const FORGET_AFTER_MS = 10_000;

/** The part of a child's hand-off totals not yet reported, and the time since which it was spent. */
export interface Remainder extends ChildCounters {
  sinceMs: number;
}

function readChild(pid: number): ChildCounters | null {
  try {
    const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const status = parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const sched = parseSchedstat(readFileSync(`/proc/${pid}/schedstat`, 'utf8'));
    if (stat === null || status === null) return null;
    return {
      userMs: (stat.utime * 1000) / TICKS_PER_S,
      systemMs: (stat.stime * 1000) / TICKS_PER_S,
      voluntary: status.voluntary,
      involuntary: status.involuntary,
      runqueueMs: (sched?.runqueue_ns ?? 0) / 1e6,
    };
  } catch {
    return null;
  }
}

/** How long a pid is remembered as adopted after its adoption (its hand-off may come first): longer than any hand-off takes. */
const REMEMBER_MS = 60_000;

export class AdoptedChildren {
  private readonly children = new Map<number, Adopted>();
  /** Every pid adopted in the last REMEMBER_MS, with when: its rings are not also read as a sharing child's. */
  private readonly adoptedAt = new Map<number, number>();

  /** A child forked at `atMs` that will hand off: read it from the next harvest on (a reused pid starts afresh). */
  adopt(pid: number, name: string, atMs: number): void {
    this.children.set(pid, { pid, name, read: ZERO, readAtMs: atMs, goneAtMs: null });
    for (const [p, at] of this.adoptedAt) if (atMs - at > REMEMBER_MS) this.adoptedAt.delete(p);
    this.adoptedAt.set(pid, atMs);
  }

  /** The child was adopted lately, handed off or not. */
  has(pid: number): boolean {
    return this.adoptedAt.has(pid);
  }

  /** One context per living child: what it spent since the last read. */
  harvest(nowMs: number): ContextRecord[] {
    const out: ContextRecord[] = [];
    for (const [pid, c] of this.children) {
      if (c.goneAtMs !== null) {
        if (nowMs - c.goneAtMs > FORGET_AFTER_MS) this.children.delete(pid);
        continue;
      }
      const now = readChild(pid);
      if (now === null) {
        c.goneAtMs = nowMs;
        continue;
      }
      const d = minus(now, c.read);
      c.read = now;
      c.readAtMs = nowMs;
      out.push({
        tid: pid,
        name: c.name,
        kind: 'js',
        threads: 1,
        cpuUserMs: d.userMs,
        cpuSystemMs: d.systemMs,
        voluntary: d.voluntary,
        involuntary: d.involuntary,
        runqueueMs: d.runqueueMs,
        bucket: null,
        hasLoop: false,
        utilization: null,
      });
    }
    return out;
  }

  /**
   * The child has handed off its totals: what of them was not read yet, never below zero (a read may have come after
   * the hand-off was taken). A child never adopted gets its whole life. The child is forgotten.
   */
  remainder(pid: number, totals: ChildCounters, startMs: number): Remainder {
    const c = this.children.get(pid);
    this.children.delete(pid);
    if (c === undefined) return { ...totals, sinceMs: startMs };
    const d = minus(totals, c.read);
    // The run-queue wait read so far is the main thread's alone; the hand-off has none to add.
    return { ...d, runqueueMs: 0, sinceMs: c.readAtMs };
  }
}

function minus(a: ChildCounters, b: ChildCounters): ChildCounters {
  return {
    userMs: Math.max(0, a.userMs - b.userMs),
    systemMs: Math.max(0, a.systemMs - b.systemMs),
    voluntary: Math.max(0, a.voluntary - b.voluntary),
    involuntary: Math.max(0, a.involuntary - b.involuntary),
    runqueueMs: Math.max(0, a.runqueueMs - b.runqueueMs),
  };
}
