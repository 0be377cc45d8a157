/**
 * One reading of a process tree at one instant: the process, its descendants (by ppid across /proc), every thread
 * of each, and the TCP sockets they hold. Raw kernel counters, cumulative since each context started; the window
 * (fold-window.ts) turns successive snapshots into deltas.
 */
import { parseNetTcp, parseSchedstat, parseStat, parseStatus, type TcpEntry } from './proc-parse.js';
import { listProcDirOrWhy, numericEntries, readProcLink, readProcText } from './proc-read.js';

export interface ThreadReading {
  tid: number;
  start: number;
  comm: string;
  state: string;
  user_ticks: number;
  system_ticks: number;
  voluntary: number;
  involuntary: number;
  /** null where the kernel has no schedstat (CONFIG_SCHEDSTATS off). */
  oncpu_ns: number | null;
  runqueue_ns: number | null;
  timeslices: number | null;
  /** The kernel function a sleeping thread waits in (`do_epoll_wait`, `inet_csk_accept`); null when running. */
  wchan: string | null;
}

export interface ProcessReading {
  pid: number;
  ppid: number;
  start: number;
  comm: string;
  /** null when the link is closed to us (another user's process) or gone. */
  exe: string | null;
  /** utime + stime of the whole process, threads that already ended included. */
  cpu_ticks: number;
  /** CPU of its children that ended and were waited for. */
  reaped_ticks: number;
  rss_bytes: number | null;
  fds: number | null;
  /** Inodes of the sockets among its fds; null when its fds could not be read. */
  sockets: number[] | null;
  threads: ThreadReading[];
}

export interface TreeSnapshot {
  /** Monotonic ms (performance.now()) at the start of the reading. */
  at_ms: number;
  processes: ProcessReading[];
  /** The TCP sockets the tree holds, as the root's network namespace lists them; null when not read this time. */
  tcp: TcpEntry[] | null;
}

/**
 * The root and its descendants, by ppid from every /proc/PID/stat: a child may be forked at any moment, and the
 * cheaper /proc/PID/task/TID/children is not in every kernel (CONFIG_PROC_CHILDREN).
 */
export function treePids(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of numericEntries('/proc')) {
    const stat = readProcText(`/proc/${pid}/stat`);
    const f = stat === null ? null : parseStat(stat);
    if (f === null) continue;
    const list = children.get(f.ppid);
    if (list) list.push(pid);
    else children.set(f.ppid, [pid]);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function readThread(pid: number, tid: number): ThreadReading | null {
  const dir = `/proc/${pid}/task/${tid}`;
  const statText = readProcText(`${dir}/stat`);
  const statusText = readProcText(`${dir}/status`);
  const stat = statText === null ? null : parseStat(statText);
  const status = statusText === null ? null : parseStatus(statusText);
  if (stat === null || status === null) return null;
  const schedText = readProcText(`${dir}/schedstat`);
  const sched = schedText === null ? null : parseSchedstat(schedText);
  const wchan = readProcText(`${dir}/wchan`);
  return {
    tid,
    start: stat.starttime,
    comm: stat.comm,
    state: stat.state,
    user_ticks: stat.utime,
    system_ticks: stat.stime,
    voluntary: status.voluntary,
    involuntary: status.involuntary,
    oncpu_ns: sched?.oncpu_ns ?? null,
    runqueue_ns: sched?.runqueue_ns ?? null,
    timeslices: sched?.timeslices ?? null,
    wchan: wchan === null || wchan === '0' || wchan === '' ? null : wchan,
  };
}

/** 'gone' when the process ended between reading its stat and its fds. */
function socketInodes(pid: number): { fds: number | null; sockets: number[] | null } | 'gone' {
  const names = listProcDirOrWhy(`/proc/${pid}/fd`);
  if (names === 'gone') return 'gone';
  if (names === 'closed') return { fds: null, sockets: null };
  const sockets: number[] = [];
  for (const fd of names) {
    const m = /^socket:\[(\d+)\]$/.exec(readProcLink(`/proc/${pid}/fd/${fd}`) ?? '');
    if (m) sockets.push(Number(m[1]));
  }
  return { fds: names.length, sockets };
}

/** One process and its threads; null when it ended before we could read it. */
export function readProcess(pid: number): ProcessReading | null {
  const statText = readProcText(`/proc/${pid}/stat`);
  const stat = statText === null ? null : parseStat(statText);
  if (stat === null) return null;
  const threads: ThreadReading[] = [];
  for (const tid of numericEntries(`/proc/${pid}/task`)) {
    const t = readThread(pid, tid);
    if (t !== null) threads.push(t);
  }
  // VmRSS of the main thread's status is the process's: threads share one address space.
  const mainStatus = readProcText(`/proc/${pid}/status`);
  // A process that ends while it is read is not seen in this sample, like one that ended before: its fds are not
  // "closed to us", and a fd list it no longer has would read as holding no socket.
  const fds = socketInodes(pid);
  if (fds === 'gone') return null;
  const rss = mainStatus === null ? null : (parseStatus(mainStatus)?.rss_bytes ?? null);
  return {
    pid,
    ppid: stat.ppid,
    start: stat.starttime,
    comm: stat.comm,
    exe: readProcLink(`/proc/${pid}/exe`),
    cpu_ticks: stat.utime + stat.stime,
    reaped_ticks: stat.cutime + stat.cstime,
    rss_bytes: rss,
    ...fds,
    threads,
  };
}

/**
 * Sockets of a protocol in use in the namespace (`TCP6: inuse 0`), from /proc/net/sockstat: a read of 0.1 ms that
 * spares the ~10 ms of a table with nothing in it (an IPv4-only host's tcp6). null when it cannot be read.
 */
function socketsInUse(pid: number, file: string, protocol: string): number | null {
  const m = new RegExp(`^${protocol}: inuse (\\d+)`, 'm').exec(readProcText(`/proc/${pid}/net/${file}`) ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * The tree as it is now; null when the root process is gone. `withTcp` false skips the TCP tables: reading
 * /proc/net/tcp and tcp6 costs about 10 ms each however few sockets there are (the kernel walks every bucket of
 * its hash tables; measured on a 6.18 kernel), several times the rest of a snapshot.
 */
export function readTreeSnapshot(root: number, atMs: number, withTcp = true): TreeSnapshot | null {
  const processes: ProcessReading[] = [];
  for (const pid of treePids(root)) {
    const p = readProcess(pid);
    if (p !== null) processes.push(p);
  }
  if (!processes.some((p) => p.pid === root)) return null;
  if (!withTcp) return { at_ms: atMs, processes, tcp: null };
  const held = new Set(processes.flatMap((p) => p.sockets ?? []));
  const tcp: TcpEntry[] = [];
  if (held.size > 0) {
    // Every process of the tree is assumed to share the root's network namespace, as forked servers do.
    for (const [file, stat, key] of [['tcp', 'sockstat', 'TCP'], ['tcp6', 'sockstat6', 'TCP6']]) {
      if (socketsInUse(root, stat, key) === 0) continue;
      const text = readProcText(`/proc/${root}/net/${file}`);
      if (text !== null) tcp.push(...parseNetTcp(text, held));
    }
  }
  return { at_ms: atMs, processes, tcp };
}
