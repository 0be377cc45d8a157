/**
 * The concurrency models by id: what a scenario names, what the reference servers implement (one each) and what
 * the /proc agent's detection answers with. This file is the one place a model id is spelled.
 */
export const MODEL_IDS = [
  'iterative',
  'thread-pool',
  'thread-per-connection',
  'prefork',
  'fork-per-connection',
  'event-loop',
  'event-loop-raw',
  'event-loop-per-core',
  'hybrid',
] as const;
export type ModelId = (typeof MODEL_IDS)[number];
