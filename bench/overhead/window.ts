/**
 * The measured window of one trial: a single autocannon run of warm-up + measured seconds (and a short tail), with
 * the server's CPU snapshots at the window's edges and the responses counted between them.
 */
import autocannon from 'autocannon';
import { cpuSnapshot, type CpuSnapshot } from '../proc-cpu.js';

/** The measured seconds of a trial's run: the server's CPU at their edges, and the responses between. */
export interface MeasuredWindow {
  before: CpuSnapshot;
  after: CpuSnapshot;
  seconds: number;
  /** 2xx responses, and all answered (2xx and other statuses). */
  ok: number;
  answered: number;
}

export interface WindowedRun {
  url: string;
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** The server's processes, and our other processes whose CPU the snapshots take apart from it (cpuSnapshot). */
  pids: readonly number[];
  helpers: readonly number[];
  /** Called at the window's edges, beside its CPU snapshots (a paired trial reads its CPU budgets there). */
  onEdge?: (edge: 'open' | 'close') => void;
}

/** Load goes on this long after the measured window closes, so that the window never sees the load wind down. */
const WINDOW_TAIL_SECONDS = 0.5;

export class Interrupted extends Error {}

export const answered = (r: autocannon.Result): number => r['2xx'] + r.non2xx;

/**
 * One run of warm-up + measured seconds (and a short tail), measured over the window between the two. One run, not
 * a warm-up run then a measured run: autocannon opens new connections for each run, and the first request on a new
 * connection meets code that V8 optimised for the old ones (the agent's `begin` storing its slot on a connection
 * handle of a new shape: a deopt, then recompiling, in each of the pool's isolates), a one-off that would then fall
 * in the measured seconds.
 *
 * `load` is the running instance, for the caller to stop on Ctrl-C; `done` then rejects with Interrupted once
 * `aborted()` says so.
 */
export function runWindowed(run: WindowedRun, aborted: () => boolean): { load: autocannon.Instance; done: Promise<{ result: autocannon.Result; window: MeasuredWindow }> } {
  const { url, connections, warmupSeconds, seconds, pids, helpers, onEdge } = run;
  let load!: autocannon.Instance;
  const done = new Promise<{ result: autocannon.Result; window: MeasuredWindow }>((resolve, reject) => {
    let ok = 0;
    let answeredInWindow = 0;
    let before: { snap: CpuSnapshot; at: number } | null = null;
    let window: MeasuredWindow | null = null;
    const open = setTimeout(() => {
      before = { snap: cpuSnapshot(pids, helpers), at: performance.now() };
      onEdge?.('open');
    }, warmupSeconds * 1000);
    const close = setTimeout(() => {
      if (before) window = { before: before.snap, after: cpuSnapshot(pids, helpers), seconds: (performance.now() - before.at) / 1000, ok, answered: answeredInWindow };
      onEdge?.('close');
    }, (warmupSeconds + seconds) * 1000);
    load = autocannon({ url, connections, duration: warmupSeconds + seconds + WINDOW_TAIL_SECONDS }, (err, result) => {
      clearTimeout(open);
      clearTimeout(close);
      if (err) reject(err);
      else if (aborted()) reject(new Interrupted());
      else if (window === null) reject(new Error('the load ended before its measured window did'));
      else resolve({ result, window });
    });
    load.on('response', (_client: unknown, status: number) => {
      // Counted while the window is open: after its start snapshot, before its end one.
      if (before === null || window !== null) return;
      answeredInWindow++;
      if (status >= 200 && status < 300) ok++;
    });
  });
  return { load, done };
}
