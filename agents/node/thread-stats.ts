/**
 * Per-thread kernel counters of this process (or of a child whose rings the agent reads), read by the agent thread
 * once per interval from /proc/self/task:
 * on-CPU and run-queue wait (schedstat, ns), user/system split (stat, clock ticks), voluntary/involuntary context
 * switches (status). A thread that vanishes between two reads is simply absent.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { parseStat, parseStatus } from '../proc/proc-parse.js';
import { ThreadSchedstat } from './thread-schedstat.js';

/**
 * Threads whose files stay open between reads. Reading a file by name costs an open, an fstat, a read and a close;
 * re-reading an open one, one pread: the syscalls are most of an idle agent thread's harvest, and at one harvest a
 * second each is cold (~30-40 µs here). Bounded so that a server of many threads (one per connection) does not lose
 * its descriptors to the agent (three a thread): the threads past it are read by name.
 */
const MAX_OPEN = 64;

export interface TaskCounters {
  tid: number;
  comm: string;
  onCpuMs: number;
  runqueueMs: number;
  userTicks: number;
  systemTicks: number;
  voluntary: number;
  involuntary: number;
}

/** The text of a thread's stat or status: read by name, or re-read from the start of the file kept open. */
type ProcText = (file: 'stat' | 'status') => string;

/**
 * A thread's counters from its schedstat figures and, when it has run since `prev`, its stat and status. Unchanged
 * on-CPU and run-queue ns: the thread has not run (nor waited to) since the last read, so its ticks and its switches
 * have not moved either. Most of a server's threads are idle in most intervals (V8's and libuv's helpers, a blocking
 * thread between connections), and stat and status are the costly two of the three reads: reading 11 threads, one of
 * them running, took ~1.1 ms here with all three, 0.37 ms so.
 */
function countersOf(tid: number, prev: TaskCounters | undefined, onCpuMs: number, runqueueMs: number, text: ProcText): TaskCounters {
  if (prev !== undefined && prev.onCpuMs === onCpuMs && prev.runqueueMs === runqueueMs) return prev;
  const stat = parseStat(text('stat'));
  const status = parseStatus(text('status'));
  return {
    tid,
    comm: stat?.comm ?? '',
    onCpuMs,
    runqueueMs,
    userTicks: stat?.utime ?? 0,
    systemTicks: stat?.stime ?? 0,
    voluntary: status?.voluntary ?? 0,
    involuntary: status?.involuntary ?? 0,
  };
}

/**
 * Room for a thread's status or stat, and for the process's stat: status is ~1.4 KB here, more where the machine has
 * many CPUs or NUMA nodes (its allowed-lists), and its context switches are its last lines.
 */
const TEXT = Buffer.alloc(64 * 1024);

function reread(fd: number): string {
  const n = readSync(fd, TEXT, 0, TEXT.length, 0);
  return TEXT.toString('utf8', 0, n);
}

/** One thread's schedstat, stat and status, open. Any read of a thread that has exited throws (ESRCH). */
class OpenTask {
  readonly sched: ThreadSchedstat;
  private readonly fds: { stat: number; status: number };

  constructor(dir: string) {
    this.sched = new ThreadSchedstat(`${dir}/schedstat`);
    try {
      const stat = openSync(`${dir}/stat`, 'r');
      try {
        this.fds = { stat, status: openSync(`${dir}/status`, 'r') };
      } catch (err) {
        closeSync(stat);
        throw err;
      }
    } catch (err) {
      this.sched.close();
      throw err;
    }
  }

  readonly text: ProcText = (file) => reread(this.fds[file]);

  close(): void {
    this.sched.close();
    closeSync(this.fds.stat);
    closeSync(this.fds.status);
  }
}

/** The process's thread count (num_threads of /proc/self/stat), or -1 when it cannot be read. */
function threadCount(fd: number): number {
  if (fd < 0) return -1;
  try {
    return parseStat(reread(fd))?.threads ?? -1;
  } catch {
    return -1;
  }
}

function openOrNone(path: string): number {
  try {
    return openSync(path, 'r');
  } catch {
    return -1;
  }
}

/**
 * Reads every thread's counters, keeping the files of up to MAX_OPEN threads open from one read to the next. The
 * list of threads (/proc/self/task) is read again only when it may have changed: when the process's thread count is
 * not the number of threads open, or one of them has exited; so an idle process costs one pread a thread, and two
 * more for each thread that ran.
 */
export class TaskReader {
  private readonly open = new Map<number, OpenTask>();
  /** The process's stat, for the thread count; -1 where it cannot be opened (then the list is read every time). */
  private readonly self: number;

  /** root: the process's /proc directory, this one's or a child's (shared-rings.ts). */
  constructor(private readonly root = '/proc/self') {
    this.self = openOrNone(`${root}/stat`);
  }

  /** The thread count the last read found in the process's stat (-1: unknown). */
  lastCount = -1;

  /** Every thread's counters; `prev`, the last read, spares the reads of threads that have not run since. */
  readAll(prev?: Map<number, TaskCounters>): Map<number, TaskCounters> {
    const count = threadCount(this.self);
    this.lastCount = count;
    if (count === this.open.size) {
      const out = new Map<number, TaskCounters>();
      let exited = false;
      for (const [tid, task] of this.open) {
        try {
          task.sched.read();
          out.set(tid, countersOf(tid, prev?.get(tid), task.sched.onCpuMs, task.sched.runqueueMs, task.text));
        } catch {
          exited = true; // or a new thread took a tid: the listing tells
          break;
        }
      }
      if (!exited) return out;
    }
    return this.readListed(prev);
  }

  /** Every thread /proc/self/task lists: the open ones re-read, the others opened (or read by name past MAX_OPEN). */
  private readListed(prev: Map<number, TaskCounters> | undefined): Map<number, TaskCounters> {
    const out = new Map<number, TaskCounters>();
    let tids: string[] = [];
    try {
      tids = readdirSync(`${this.root}/task`);
    } catch {
      return out;
    }
    const listed = new Set<number>();
    for (const t of tids) {
      const tid = Number(t);
      listed.add(tid);
      const c = this.readOne(tid, prev?.get(tid));
      if (c) out.set(tid, c);
    }
    for (const [tid, task] of this.open) if (!listed.has(tid)) this.forget(tid, task);
    return out;
  }

  private readOne(tid: number, prev: TaskCounters | undefined): TaskCounters | null {
    const held = this.open.get(tid);
    if (held) {
      try {
        held.sched.read();
        return countersOf(tid, prev, held.sched.onCpuMs, held.sched.runqueueMs, held.text);
      } catch {
        // Exited since the last read; the tid listed now may be a new thread's (tids are reused): opened afresh below.
        this.forget(tid, held);
      }
    }
    const dir = `${this.root}/task/${tid}`;
    try {
      if (this.open.size >= MAX_OPEN) {
        const sched = readFileSync(`${dir}/schedstat`, 'utf8').split(' ');
        return countersOf(tid, prev, Number(sched[0]) / 1e6, Number(sched[1]) / 1e6, (file) => readFileSync(`${dir}/${file}`, 'utf8'));
      }
      const task = new OpenTask(dir);
      this.open.set(tid, task);
      task.sched.read();
      return countersOf(tid, prev, task.sched.onCpuMs, task.sched.runqueueMs, task.text);
    } catch {
      return null;
    }
  }

  /** Closes every file held (a child's reader, once the child is gone). */
  close(): void {
    for (const [tid, task] of this.open) this.forget(tid, task);
    if (this.self >= 0) closeSync(this.self);
  }

  private forget(tid: number, task: OpenTask): void {
    this.open.delete(tid);
    try {
      task.close();
    } catch {
      // already closed
    }
  }
}

/** Interval deltas of one thread, CPU split into user/system by the ticks' ratio (schedstat has no split). */
export interface TaskDelta {
  cpuUserMs: number;
  cpuSystemMs: number;
  voluntary: number;
  involuntary: number;
  runqueueMs: number;
}

export function taskDelta(now: TaskCounters, prev: TaskCounters | undefined): TaskDelta {
  const p = prev ?? { ...now, onCpuMs: 0, runqueueMs: 0, userTicks: 0, systemTicks: 0, voluntary: 0, involuntary: 0 };
  const cpu = Math.max(0, now.onCpuMs - p.onCpuMs);
  const user = now.userTicks - p.userTicks;
  const system = now.systemTicks - p.systemTicks;
  const userShare = user + system > 0 ? user / (user + system) : 1;
  return {
    cpuUserMs: cpu * userShare,
    cpuSystemMs: cpu * (1 - userShare),
    voluntary: now.voluntary - p.voluntary,
    involuntary: now.involuntary - p.involuntary,
    runqueueMs: Math.max(0, now.runqueueMs - p.runqueueMs),
  };
}
