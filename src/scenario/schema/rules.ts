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

export function positiveNumber() {
  const error = 'expected a number greater than 0';
  return z.number({ error }).gt(0, { error });
}

export function nonNegativeNumber() {
  const error = 'expected a number of 0 or more';
  return z.number({ error }).min(0, { error });
}

const NAME_RULE = 'expected a name of lowercase letters, digits and "-"';
export const name = () => z.string({ error: NAME_RULE }).regex(/^[a-z0-9-]+$/, { error: NAME_RULE });
