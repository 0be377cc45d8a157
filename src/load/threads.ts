/**
 * A generator run spread over worker threads, for rates one thread cannot send on time. Each thread runs the same
 * plan on its share (open loop: every n-th arrival of the schedule, or a Poisson process of a n-th of the rate;
 * closed loop: every n-th user; connections, slow and idle clients divided alike), all starting on one boundary.
 * This thread merges their reports interval by interval (merge-intervals.ts) and emits them in order.
 *
 * Worker threads are whole V8 isolates (megabytes, tens of ms to start), and on a small host they take cores from
 * the server under test: more threads than needed is not free, hence `auto` adds them only for rates that need them.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { intervalIndex, monoMs } from '../vocabulary/clock.js';
import type { GeneratorConfig } from './config.js';
import type { IntervalCallback } from './intervals/interval-callback.js';
import type { GeneratorInterval } from '../vocabulary/frames.js';
import { mergeIntervals } from './intervals/merge-intervals.js';
import { ThreadCpuMeter } from './intervals/self-monitor.js';
import type { GeneratorSummary } from './intervals/summary.js';
import { isFromThread, type ThreadData, type ToThread } from './messages.js';

/**
 * Open-loop requests per second one generator thread sends on time with room to spare. bench/generator.ts measured
 * a thread at 0.38-0.52 CPU seconds per 10k requests (closed loop, hello world, 2 shared cores): a busy thread does
 * ~20k req/s. An open loop needs slack for its timers, so `auto` adds a thread per 15k req/s of peak offered rate.
 */
export const THREAD_RPS = 15_000;

/** How far ahead of the next boundary the threads are told to start, ms: `go` must reach them before it. */
const GO_MARGIN_MS = 20;

export function resolveThreads(config: GeneratorConfig): number {
  if (typeof config.threads === 'number') return config.threads;
  const peak = Math.max(
    0,
    ...config.phases.map((p) => (p.kind === 'constant' ? p.rate : p.kind === 'step' ? Math.max(...p.rates) : p.kind === 'ramp' ? Math.max(p.from, p.to) : 0)),
  );
  return Math.max(1, Math.min(availableParallelism(), Math.ceil(peak / THREAD_RPS)));
}

function workerUrl(): URL {
  // Under a TypeScript runner (vitest) this module is src/load/threads.ts, and a worker cannot load TypeScript:
  // use the compiled file, which the tests build first.
  if (import.meta.url.endsWith('.ts')) return new URL('../../dist/src/load/thread-worker.js', import.meta.url);
  return new URL('./thread-worker.js', import.meta.url);
}

export function runThreaded(config: GeneratorConfig, count: number, onInterval: IntervalCallback, signal?: AbortSignal): Promise<GeneratorSummary> {
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    const summaries: (GeneratorSummary | null)[] = new Array(count).fill(null);
    const reported: number[] = new Array(count).fill(-Infinity);
    const pending = new Map<number, { thread: number; data: GeneratorInterval }[]>();
    const cpu = new ThreadCpuMeter();
    const emitted = { first: null as number | null, last: null as number | null, intervals: 0, saturated: 0 };
    let ready = 0;
    let next: number | null = null;
    let failed = false;

    const stop = () => workers.forEach((w) => w.postMessage({ type: 'stop' } satisfies ToThread));
    signal?.addEventListener('abort', stop, { once: true });

    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      signal?.removeEventListener('abort', stop);
      for (const w of workers) void w.terminate();
      reject(err);
    };

    /** Emits every interval that all threads have reported (or finished before). */
    const flush = () => {
      while (next !== null) {
        let any = false;
        let complete = true;
        for (let i = 0; i < count; i++) {
          if (reported[i] >= next) any = true;
          else if (summaries[i] === null) complete = false;
        }
        if (!complete || !any) break;
        const parts = pending.get(next)!;
        pending.delete(next);
        const data = mergeIntervals(parts);
        // The threads' own CPU plus this thread's merging; libuv's helper threads are not counted.
        data.cpu_ms += cpu.takeMs();
        emitted.first ??= next;
        emitted.last = next;
        emitted.intervals++;
        if (data.saturated) emitted.saturated++;
        onInterval(next, next * config.interval_ms, data);
        next++;
      }
      if (summaries.every((s) => s !== null)) finish();
    };

    const finish = () => {
      signal?.removeEventListener('abort', stop);
      const all = summaries as GeneratorSummary[];
      const errorsByKind: GeneratorSummary['errors_by_kind'] = {};
      for (const s of all) for (const [k, v] of Object.entries(s.errors_by_kind)) errorsByKind[k as keyof typeof errorsByKind] = (errorsByKind[k as keyof typeof errorsByKind] ?? 0) + (v ?? 0);
      const notes = [...new Set(all.flatMap((s) => s.notes ?? []))];
      resolve({
        first_index: emitted.first,
        last_index: emitted.last,
        intervals: emitted.intervals,
        due: all.reduce((a, s) => a + s.due, 0),
        sent: all.reduce((a, s) => a + s.sent, 0),
        completed: all.reduce((a, s) => a + s.completed, 0),
        errors: all.reduce((a, s) => a + s.errors, 0),
        errors_by_kind: errorsByKind,
        saturated_intervals: emitted.saturated,
        aborted: all.some((s) => s.aborted),
        threads: count,
        ...(notes.length > 0 ? { notes } : {}),
      });
    };

    for (let i = 0; i < count; i++) {
      const w = new Worker(workerUrl(), { workerData: { config, share: { index: i, count } } satisfies ThreadData });
      workers.push(w);
      w.on('message', (m: unknown) => {
        if (failed || !isFromThread(m)) return;
        if (m.type === 'ready') {
          if (++ready < count) return;
          next = intervalIndex(monoMs() + GO_MARGIN_MS, config.interval_ms) + 1;
          cpu.takeMs();
          for (const x of workers) x.postMessage({ type: 'go', first_index: next } satisfies ToThread);
        } else if (m.type === 'interval') {
          reported[i] = m.index;
          const list = pending.get(m.index);
          if (list) list.push({ thread: i, data: m.data });
          else pending.set(m.index, [{ thread: i, data: m.data }]);
          flush();
        } else {
          summaries[i] = m.summary;
          flush();
        }
      });
      w.on('error', (err) => fail(err));
      w.on('exit', (code) => {
        if (summaries[i] === null) fail(new Error(`srvlens generator: thread ${i} exited (code ${code}) before its run ended`));
      });
    }
  });
}
