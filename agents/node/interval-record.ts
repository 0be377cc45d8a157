/** One finished interval as the agent thread exports it: per execution context, and the process as a whole. */
import type { BucketData } from './thread-ring.js';

/** js: a JavaScript thread the agent runs in; agent: the agent's own thread; runtime: every other thread (libuv pool, V8). */
export type ContextKind = 'js' | 'agent' | 'runtime';

export interface ContextRecord {
  /** The child process it is a thread of, when not the agent's own (a child whose rings the agent reads). */
  pid?: number;
  tid: number;
  name: string;
  kind: ContextKind;
  /** Kernel threads folded into this context (1 but for `runtime`). */
  threads: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  voluntary: number;
  involuntary: number;
  runqueueMs: number;
  /** Request data and loop delay the thread recorded in the interval; null when it recorded nothing. */
  bucket: BucketData | null;
  hasLoop: boolean;
  /** Event-loop utilization over the interval (0..1), for threads with a loop. */
  utilization: number | null;
}

export interface ProcessTotals {
  cpuUserMs: number;
  cpuSystemMs: number;
  voluntary: number;
  involuntary: number;
  runqueueMs: number;
  rssBytes: number;
}

export interface ChildRecord {
  pid: number;
  process: ProcessTotals;
  dropped: number;
  errors: number;
}

export interface IntervalRecord {
  index: number;
  /** Interval bounds as Unix epoch ms in this process's mapping of the shared monotonic clock. */
  startEpochMs: number;
  endEpochMs: number;
  contexts: ContextRecord[];
  process: ProcessTotals;
  /**
   * Children whose rings the agent reads (shared-rings.ts): each one's totals, and the requests its rings lost and the
   * errors they counted; their threads are in `contexts`.
   */
  children?: ChildRecord[];
  dropped: number;
  errors: number;
}
