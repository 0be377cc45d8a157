/**
 * One process's threads as the agent thread harvests them, its own or a child's whose rings it maps
 * (child-processes.ts): each JavaScript thread's ring and kernel counters as a context, the agent's own thread as
 * one, and every other thread folded into `runtime`.
 */
import { AGENT_THREAD_COMM } from '../../src/vocabulary/index.js';
import type { ContextRecord } from './interval-record.js';
import { H_DROPPED, H_ELU_ACTIVE, H_ELU_IDLE, H_ERRORS, H_HARVESTED, type BucketData, type ThreadRing } from './thread-ring.js';
import { taskDelta, type TaskCounters, type TaskDelta } from './thread-stats.js';

export interface Registered {
  tid: number;
  name: string;
  hasLoop: boolean;
  ring: ThreadRing;
  elu: { idle: number; active: number };
  dropped: number;
  errors: number;
  /**
   * The interval in progress when the thread was first missing from /proc: its ring is harvested through that
   * interval (it may have written into it before it ended), then the thread is forgotten. Null while it lives.
   */
  goneAfter: number | null;
}

export function registered(tid: number, name: string, hasLoop: boolean, ring: ThreadRing): Registered {
  return {
    tid,
    name,
    hasLoop,
    ring,
    elu: { idle: ring.f64[H_ELU_IDLE], active: ring.f64[H_ELU_ACTIVE] },
    // From 0, not from what the ring says now: requests it lost before this thread first read it count too.
    dropped: 0,
    errors: ring.f64[H_ERRORS],
    goneAfter: null,
  };
}

const NO_DELTA: TaskDelta = { cpuUserMs: 0, cpuSystemMs: 0, voluntary: 0, involuntary: 0, runqueueMs: 0 };

/** Interval `index` of a thread's ring, marked as read so that the writer counts an unread bucket it reuses as dropped. */
function readHarvested(ring: ThreadRing, index: number): BucketData | null {
  const bucket = ring.read(index);
  if (index > ring.f64[H_HARVESTED]) ring.f64[H_HARVESTED] = index;
  return bucket;
}

function contextOf(t: Registered, index: number, tasks: Map<number, TaskCounters>, last: Map<number, TaskCounters>): ContextRecord {
  // A thread /proc never showed has no counters of its own: its CPU is in the process's total, not in a context.
  const now = tasks.get(t.tid) ?? last.get(t.tid);
  const d = now ? taskDelta(now, last.get(t.tid)) : NO_DELTA;
  let utilization: number | null = null;
  if (t.hasLoop) {
    const idle = t.ring.f64[H_ELU_IDLE];
    const active = t.ring.f64[H_ELU_ACTIVE];
    const di = idle - t.elu.idle;
    const da = active - t.elu.active;
    utilization = di + da > 0 ? da / (di + da) : null;
    t.elu = { idle, active };
  }
  return {
    tid: t.tid,
    name: t.name,
    kind: 'js',
    threads: 1,
    cpuUserMs: d.cpuUserMs,
    cpuSystemMs: d.cpuSystemMs,
    voluntary: d.voluntary,
    involuntary: d.involuntary,
    runqueueMs: d.runqueueMs,
    bucket: readHarvested(t.ring, index),
    hasLoop: t.hasLoop,
    utilization,
  };
}

export interface HarvestedThreads {
  contexts: ContextRecord[];
  /** Requests the rings lost and errors they counted since the last harvest. */
  dropped: number;
  errors: number;
  /** Every thread's interval deltas summed (threads gone since the last read are missing). */
  sum: TaskDelta;
}

/**
 * Interval `index` of one process: `tasks` its threads' counters now, `last` at the previous harvest; `agentTid` the
 * agent's own thread where this is the agent's process. `now` marks threads missing from /proc as gone.
 */
export function harvestThreads(
  threads: Map<number, Registered>,
  index: number,
  tasks: Map<number, TaskCounters>,
  last: Map<number, TaskCounters>,
  agentTid: number | null,
  nowIndex: number,
): HarvestedThreads {
  const contexts: ContextRecord[] = [];
  let dropped = 0;
  let errors = 0;
  for (const t of threads.values()) {
    // Every registered thread's ring is read, seen in /proc or not: a thread that lived for one connection (the
    // thread-per-connection model) is often born and gone between two /proc reads, and its requests are in its ring.
    contexts.push(contextOf(t, index, tasks, last));
    dropped += t.ring.f64[H_DROPPED] - t.dropped;
    errors += t.ring.f64[H_ERRORS] - t.errors;
    t.dropped = t.ring.f64[H_DROPPED];
    t.errors = t.ring.f64[H_ERRORS];
    if (!tasks.has(t.tid) && t.goneAfter === null) t.goneAfter = nowIndex;
  }
  const runtime: ContextRecord = { tid: 0, name: 'runtime', kind: 'runtime', threads: 0, cpuUserMs: 0, cpuSystemMs: 0, voluntary: 0, involuntary: 0, runqueueMs: 0, bucket: null, hasLoop: false, utilization: null };
  const sum: TaskDelta = { ...NO_DELTA };
  let agent: ContextRecord | null = null;
  for (const [tid, now] of tasks) {
    const d = taskDelta(now, last.get(tid));
    sum.cpuUserMs += d.cpuUserMs;
    sum.cpuSystemMs += d.cpuSystemMs;
    sum.voluntary += d.voluntary;
    sum.involuntary += d.involuntary;
    sum.runqueueMs += d.runqueueMs;
    if (threads.has(tid)) continue;
    if (tid === agentTid) {
      agent = { tid, name: AGENT_THREAD_COMM, kind: 'agent', threads: 1, ...d, bucket: null, hasLoop: false, utilization: null };
      continue;
    }
    runtime.threads++;
    runtime.cpuUserMs += d.cpuUserMs;
    runtime.cpuSystemMs += d.cpuSystemMs;
    runtime.voluntary += d.voluntary;
    runtime.involuntary += d.involuntary;
    runtime.runqueueMs += d.runqueueMs;
  }
  if (agent) contexts.push(agent);
  contexts.push(runtime);
  for (const [tid, t] of threads) if (t.goneAfter !== null && index >= t.goneAfter) threads.delete(tid);
  return { contexts, dropped, errors, sum };
}
