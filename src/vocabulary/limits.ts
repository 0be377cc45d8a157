/**
 * What gave out: the causes a run's summary names in `limited_by` (src/analysis/gave-out.ts decides, with the
 * thresholds beside it). This file is the one place a cause id is spelled, and what each means, as the JSON report
 * documents it.
 */
export const LIMIT_CAUSES = [
  'not_reached',
  'generator',
  'backend',
  'context_creation',
  'cpu',
  'runqueue',
  'accept_queue',
  'loop_delay',
  'errors',
  'unknown',
] as const;
export type LimitCause = (typeof LIMIT_CAUSES)[number];

export const LIMIT_CAUSE_MEANING: Record<LimitCause, string> = {
  not_reached: 'the load never went past what the server sustains: no knee in the offered range',
  generator: 'the load generator itself could not keep its rate: the server\'s limit was not measured',
  backend: 'requests queued for the backend tier\'s concurrency limit',
  context_creation: 'a thread or process made for each connection, on the request\'s path, costs more than the work',
  cpu: 'a context (or every core) ran out of CPU',
  runqueue: 'runnable contexts waited for a core: more contexts than cores can run',
  accept_queue: 'requests waited for a free context (the kernel\'s accept queue or the server\'s own): too few contexts',
  loop_delay: 'the event loop was blocked (delay without CPU): something synchronous held it',
  errors: 'requests failed before any queue or resource explains it',
  unknown: 'the frames show none of the causes above',
};
