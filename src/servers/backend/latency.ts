/**
 * Latency distributions for the backend tier. Samples come from a seeded PRNG so that two runs of a scenario
 * draw the same service times, and a comparison between models is not a comparison between two random draws.
 */
import { ServerConfigError } from '../errors.js';
import { mulberry32 } from '../../vocabulary/random.js';

export type LatencySpec =
  | { dist: 'fixed'; ms: number }
  | { dist: 'uniform'; min_ms: number; max_ms: number }
  | { dist: 'exponential'; mean_ms: number }
  | { dist: 'lognormal'; median_ms: number; sigma: number };

export const DEFAULT_SEED = 0x5eed;

const nonNegative = (v: number) => Number.isFinite(v) && v >= 0;

/** Returns what is wrong with a spec, or null when it is usable. */
export function latencySpecProblem(spec: LatencySpec): string | null {
  switch (spec.dist) {
    case 'fixed':
      return nonNegative(spec.ms) ? null : `fixed latency must be a number >= 0 ms, got ${spec.ms}`;
    case 'uniform':
      if (!nonNegative(spec.min_ms) || !nonNegative(spec.max_ms)) return 'uniform bounds must be numbers >= 0 ms';
      return spec.min_ms <= spec.max_ms ? null : `uniform min (${spec.min_ms}) is above max (${spec.max_ms})`;
    case 'exponential':
      return nonNegative(spec.mean_ms) ? null : `exponential mean must be a number >= 0 ms, got ${spec.mean_ms}`;
    case 'lognormal':
      if (!nonNegative(spec.median_ms)) return `lognormal median must be a number >= 0 ms, got ${spec.median_ms}`;
      return nonNegative(spec.sigma) ? null : `lognormal sigma must be a number >= 0, got ${spec.sigma}`;
    default:
      return `unknown distribution '${(spec as { dist: unknown }).dist}' (use fixed, uniform, exponential or lognormal)`;
  }
}

/** A sampler of service times in ms. Throws ServerConfigError on an unusable spec. */
export function makeSampler(spec: LatencySpec, seed = DEFAULT_SEED): () => number {
  const problem = latencySpecProblem(spec);
  if (problem !== null) throw new ServerConfigError(`backend latency: ${problem}`);
  const rand = mulberry32(seed);
  switch (spec.dist) {
    case 'fixed':
      return () => spec.ms;
    case 'uniform':
      return () => spec.min_ms + (spec.max_ms - spec.min_ms) * rand();
    case 'exponential':
      // 1 - u is in (0, 1], so the log is finite.
      return () => -spec.mean_ms * Math.log(1 - rand());
    case 'lognormal':
      // Box-Muller; the second normal of each pair is dropped to keep the sampler stateless beyond the PRNG.
      return () => {
        const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
        return spec.median_ms * Math.exp(spec.sigma * z);
      };
  }
}

const FLAG_FORMS = "fixed:MS, uniform:MIN:MAX, exponential:MEAN or lognormal:MEDIAN:SIGMA (e.g. 'fixed:5')";

/** Parses the CLI's `--latency` value. Throws ServerConfigError naming the flag and the accepted forms. */
export function parseLatencyFlag(flag: string): LatencySpec {
  const [dist, ...rest] = flag.trim().split(':');
  const nums = rest.map((s) => (s.trim() === '' ? NaN : Number(s)));
  const fail = (why: string): never => {
    throw new ServerConfigError(`--latency '${flag}': ${why}; expected ${FLAG_FORMS}`);
  };
  if (nums.some((n) => !Number.isFinite(n))) fail('parameters must be numbers');
  const arity: Record<string, number> = { fixed: 1, uniform: 2, exponential: 1, lognormal: 2 };
  if (!(dist in arity)) fail(`unknown distribution '${dist}'`);
  if (nums.length !== arity[dist]) fail(`${dist} takes ${arity[dist]} parameter(s), got ${nums.length}`);
  const spec: LatencySpec =
    dist === 'fixed'
      ? { dist, ms: nums[0] }
      : dist === 'uniform'
        ? { dist, min_ms: nums[0], max_ms: nums[1] }
        : dist === 'exponential'
          ? { dist, mean_ms: nums[0] }
          : { dist: 'lognormal', median_ms: nums[0], sigma: nums[1] };
  const problem = latencySpecProblem(spec);
  if (problem !== null) fail(problem);
  return spec;
}

