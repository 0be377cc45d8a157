/**
 * The scenario schema's field rules, shared by its parts. A field's type error and range error share one message,
 * so that the user sees the whole rule at once.
 */
import { z } from 'zod';

export function int(min: number, max?: number) {
  const error = max === undefined ? `expected an integer of ${min} or more` : `expected an integer from ${min} to ${max}`;
  const schema = z.int({ error }).min(min, { error });
  return max === undefined ? schema : schema.max(max, { error });
}

/** `max`: the limit of what a scenario may ask (limits.ts); the message names it. */
export function positiveNumber(max?: number) {
  const error = max === undefined ? 'expected a number greater than 0' : `expected a number greater than 0 and at most ${max}`;
  const schema = z.number({ error }).gt(0, { error });
  return max === undefined ? schema : schema.max(max, { error });
}

export function nonNegativeNumber(max?: number) {
  const error = max === undefined ? 'expected a number of 0 or more' : `expected a number from 0 to ${max}`;
  const schema = z.number({ error }).min(0, { error });
  return max === undefined ? schema : schema.max(max, { error });
}

const NAME_RULE = 'expected a name of lowercase letters, digits and "-"';
export const name = () => z.string({ error: NAME_RULE }).regex(/^[a-z0-9-]+$/, { error: NAME_RULE });
