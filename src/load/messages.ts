/**
 * What crosses the generator's boundaries, typed once for both ends: the scenario runner (parent) and the generator
 * process (generator-process.ts), over `child_process.fork`'s channel; and that process and its worker threads
 * (threads.ts and thread-worker.ts), when a run is spread over several.
 */
import type { GeneratorInterval } from '../vocabulary/frames.js';
import { isTagged } from '../vocabulary/tagged-message.js';
import type { Share } from './arrivals/plan.js';
import type { GeneratorConfig } from './config.js';
import type { GeneratorSummary } from './intervals/summary.js';

/** Parent to generator. One run per process: `start` once; `stop` ends the run early, the generator still sends `done`. */
export type ToGenerator = { type: 'start'; config: GeneratorConfig } | { type: 'stop' };

/**
 * Generator to parent: one `interval` per interval in index order (t_ms: the interval's start on the shared clock),
 * then `done`, then exit 0. `error` (then exit 1) when the run could not start: an invalid config, or a failure of ours.
 * `userMistake` carries the error's class across the boundary (see UserError), so the CLI still tells them apart.
 */
export type FromGenerator =
  | { type: 'interval'; index: number; t_ms: number; data: GeneratorInterval }
  | { type: 'done'; summary: GeneratorSummary }
  | { type: 'error'; message: string; code: string | null; userMistake: boolean };

/** A generator thread's `workerData`: the whole run's config and the share of it this thread sends. */
export interface ThreadData {
  config: GeneratorConfig;
  share: Share;
}

/** Coordinator to thread: start on the boundary `first_index` (all threads on the same one), or stop early. */
export type ToThread = { type: 'go'; first_index: number } | { type: 'stop' };

/** Thread to coordinator: connected and waiting for `go`; each interval of its share; its summary at the end. */
export type FromThread = { type: 'ready' } | { type: 'interval'; index: number; data: GeneratorInterval } | { type: 'done'; summary: GeneratorSummary };

const TO_GENERATOR = { start: true, stop: true } as const;
const TO_THREAD = { go: true, stop: true } as const;
const FROM_THREAD = { ready: true, interval: true, done: true } as const;

export const isToGenerator = (m: unknown): m is ToGenerator => isTagged<ToGenerator>(m, TO_GENERATOR);
export const isToThread = (m: unknown): m is ToThread => isTagged<ToThread>(m, TO_THREAD);
export const isFromThread = (m: unknown): m is FromThread => isTagged<FromThread>(m, FROM_THREAD);
