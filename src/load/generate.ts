/**
 * The load generator's entry: runs a config in this thread, or spread over worker threads when one thread would
 * not keep up (threads.ts). The run itself is generator-run.ts.
 *
 * Accounting: every due request ends as completed (a 2xx response) or as exactly one error, counted in the
 * interval where it completed or failed. What is still unanswered when the run ends counts as an error of its last
 * interval ('unsent' if never written, 'timeout' if in flight), so over a run due = completed + errors.
 */
import { DRAIN_PHASE } from '../vocabulary/index.js';
import { checkGeneratorConfig, type GeneratorConfig } from './config.js';
import { startRun } from './thread-run.js';
import type { IntervalCallback } from './intervals/interval-callback.js';
import type { GeneratorSummary } from './intervals/summary.js';
import { resolveThreads, runThreaded } from './threads.js';

// Intervals after the last phase, while in-flight requests finish, are named DRAIN_PHASE (phase_index = phases.length).
export { DRAIN_PHASE };

export { emptySummary, type GeneratorSummary } from './intervals/summary.js';

export type { IntervalCallback } from './intervals/interval-callback.js';

/**
 * Runs the phases against the target and calls `onInterval` once per interval, in index order without gaps, from
 * the first phase's start until the last response or timeout (`t_ms` is the interval's start on the shared clock).
 * Never rejects for the server's failures (they are counted); rejects only for an invalid config.
 */
export function runGenerator(config: GeneratorConfig, onInterval: IntervalCallback, signal?: AbortSignal): Promise<GeneratorSummary> {
  try {
    checkGeneratorConfig(config);
  } catch (err) {
    return Promise.reject(err);
  }
  const threads = resolveThreads(config);
  if (threads > 1) return runThreaded(config, threads, onInterval, signal);
  return startRun(config, { share: { index: 0, count: 1 }, onInterval, signal }).done;
}
