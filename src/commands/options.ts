import { InvalidArgumentError } from 'commander';
import { parseSloText } from '../scenario/slo.js';
import type { Slo } from '../vocabulary/slo.js';
import { TOKEN_ENV } from '../vocabulary/exposure.js';
import { UserError } from '../vocabulary/errors.js';

/**
 * The --token of a load target (reference server, backend): it lets --host go beyond loopback, and is not asked of
 * clients, since a benchmark target must answer whatever load tool is pointed at it (wrk, autocannon, k6).
 */
export const TARGET_TOKEN_HELP = `lets --host go beyond loopback (default: ${TOKEN_ENV}); clients are not asked for it: a load target answers any load tool, so bind beyond loopback only on a network you trust`;

/** An `--out FILE` that cannot be written: the user's to fix (exit 2), with the system's reason. */
export function cannotWrite(out: string, err: unknown): UserError {
  return new UserError(`--out ${out}: cannot write it (${(err as Error).message})`);
}

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

/** SRVLENS_KERNEL=off turns the kernel tracer off for every command, as --no-kernel does for one. */
export const KERNEL_ENV = 'SRVLENS_KERNEL';
export const KERNEL_HELP = `no kernel tracer (eBPF, root), as ${KERNEL_ENV}=off does`;

/** Whether the kernel tracer is wanted: the flag (--no-kernel sets it false) and the environment. */
export const kernelWanted = (flag: boolean): boolean => flag && process.env[KERNEL_ENV] !== 'off';
