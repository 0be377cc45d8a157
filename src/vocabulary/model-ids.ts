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

/**
 * How sure a named model is (src/analysis/detect-model.ts says what each level takes): `high`, the fact that defines
 * the model was seen; `medium`, its structure was, and the one fact that would rule out its nearest neighbour was not;
 * `low`, the likelier of two readings of the structure alone.
 */
export const CONFIDENCES = ['high', 'medium', 'low'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** A named model as a reader sees it wherever it is printed: `prefork (high confidence)`; `unknown` (or a model from a recording made before confidence was said) alone. */
export const namedWith = (f: { model: string; confidence?: Confidence | null }) => (f.confidence ? `${f.model} (${f.confidence} confidence)` : f.model);
