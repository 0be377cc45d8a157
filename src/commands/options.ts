import { InvalidArgumentError } from 'commander';

/** Commander parser for a non-negative integer option, with a message that says what was wrong. */
export function intOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number >= 0, got '${value}'`);
  return n;
}
