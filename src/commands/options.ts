import { InvalidArgumentError } from 'commander';
import { parseSloText } from '../scenario/slo.js';
import type { Slo } from '../vocabulary/slo.js';

/** Commander parser for a non-negative integer option, with a message that says what was wrong. */
export function intOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number >= 0, got '${value}'`);
  return n;
}

/** Commander parser for an SLO option (`"p99<100ms, errors<1%"`). */
export function sloOption(text: string): Slo {
  const slo = parseSloText(text);
  if (typeof slo === 'string') throw new InvalidArgumentError(`expected an SLO such as "p99<100ms, errors<1%" (${slo}), got '${text}'`);
  return slo;
}
