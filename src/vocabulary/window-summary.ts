/**
 * What the /proc agent saw of a process tree over a sampling window: every figure a delta over the window. This is
 * the contract between the sampler (agents/proc/fold-window.ts builds it from snapshots) and the model detection (a pure
 * function of it in src/analysis/detect-model.ts, tested on synthetic windows).
 */

/** One execution context: a thread (a single-threaded process is one context whose tid is its pid). */
export interface ContextWindow {
  pid: number;
  tid: number;
  name: string;
  /** The state at the last sample it was seen in. */
  state: string;
  /** How many samples saw it in each state. */
  states: Record<string, number>;
  /** The kernel function it most often slept in (`do_epoll_wait`, `inet_csk_accept`, `futex_do_wait`), or null. */
  wait: string | null;
  /** Not there at the first sample: created during the window. */
  born: boolean;
  /** Not there at the last sample: ended during the window. */
  ended: boolean;
  cpu_ms: number;
  user_ms: number;
  system_ms: number;
  voluntary: number;
  involuntary: number;
  /** schedstat (ns precision, unlike cpu_ms's 10 ms ticks); null where the kernel has no schedstat. */
  oncpu_ms: number | null;
  runqueue_wait_ms: number | null;
  timeslices: number | null;
}

/** The CPU a context ran: schedstat's ns where the kernel has it, else the 10 ms-tick count. */
export const ranMs = (c: ContextWindow) => c.oncpu_ms ?? c.cpu_ms;

export interface ProcessWindow {
  pid: number;
  ppid: number;
  name: string;
  exe: string | null;
  born: boolean;
  ended: boolean;
  /** The whole process's CPU in the window, threads that ended between two samples included. */
  cpu_ms: number;
  /** CPU of its children that ended and were waited for during the window (seen or not). */
  reaped_children_cpu_ms: number;
  /** At the last sample it was seen in; null when unreadable. */
  rss_bytes: number | null;
  fds: number | null;
  /** The most threads alive at one sample. */
  threads_max: number;
  /** The most TCP connections to the tree's listening ports it held at one sample (accepted connections). */
  inbound_max: number;
  /** The most other TCP connections it held at one sample (its own calls to other servers). */
  outbound_max: number;
  holds_listener: boolean;
  /** False when its fds were closed to us: its connections and listeners are unknown, not zero. */
  sockets_readable: boolean;
}

export interface ListenerWindow {
  /** `127.0.0.1:8080`, `[::]:8080`. */
  listen: string;
  inode: number;
  /** The processes that hold it. */
  pids: number[];
  /** Connections waiting to be accepted, at the last sample. */
  length: number;
  /** The longest the queue was at any sample. */
  peak: number;
  /** The backlog (the queue's limit), from `ss`; null when it could not be read. */
  max: number | null;
}

export interface WindowSummary {
  root_pid: number;
  /** The root ended before the window did; the figures cover the time until then. */
  root_ended: boolean;
  duration_ms: number;
  interval_ms: number;
  samples: number;
  /** CPUs this process may run on: what "one per core" is measured against. */
  cores: number;
  processes: ProcessWindow[];
  contexts: ContextWindow[];
  listeners: ListenerWindow[];
}
