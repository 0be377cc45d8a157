/**
 * A model's size parameters (ModelServerOptions.size): each model names the ones it takes, with defaults, and a
 * misspelt or out-of-range one is a user's mistake reported by name, not silently replaced by the default.
 */
import type { ModelId } from '../../vocabulary/model-ids.js';
import { ServerConfigError } from '../errors.js';

export interface SizeSpec {
  default: number;
  max: number;
}

export function resolveSize<K extends string>(
  model: ModelId,
  given: Record<string, number> | undefined,
  spec: Record<K, SizeSpec>,
): Record<K, number> {
  const known = Object.keys(spec) as K[];
  for (const key of Object.keys(given ?? {})) {
    if (!known.includes(key as K)) {
      const takes = known.length === 0 ? 'no size parameters' : `size ${known.map((k) => `'${k}'`).join(', ')}`;
      throw new ServerConfigError(`${model} takes ${takes}, not '${key}'`);
    }
  }
  const out = {} as Record<K, number>;
  for (const key of known) {
    const v = given?.[key] ?? spec[key].default;
    if (!Number.isInteger(v) || v < 1 || v > spec[key].max) {
      throw new ServerConfigError(`${model} size ${key} must be an integer from 1 to ${spec[key].max}, got ${v}`);
    }
    out[key] = v;
  }
  return out;
}
