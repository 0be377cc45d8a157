/**
 * The IPC protocol between the scenario runner (parent) and the generator process (generator-main.ts), over
 * `child_process.fork`'s channel. One run per process: start, intervals, done, exit.
 */
import type { GeneratorInterval } from '../vocabulary/frames.js';
import type { GeneratorConfig } from './config.js';
import type { GeneratorSummary } from './generate.js';

/** Parent to generator. `stop` ends the run early; the generator still sends `done`. */
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
