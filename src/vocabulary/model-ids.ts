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

/** A model as named from /proc, carried beyond the detection (a run's end, the dashboard). */
export interface ModelSeen {
  model: string;
  /** Absent in recordings made before it was said; null with `unknown`. */
  confidence?: Confidence | null;
  /** Facts a reader can check, the deciding ones first. */
  evidence: string[];
}

/** A named model as a reader sees it wherever it is printed: `prefork (high confidence)`; `unknown` (or a model from a recording made before confidence was said) alone. */
export const namedWith = (f: Pick<ModelSeen, 'model' | 'confidence'>) => (f.confidence ? `${f.model} (${f.confidence} confidence)` : f.model);
