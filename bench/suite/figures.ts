/**
 * The suite's vocabulary, pure: a figure is one measured quantity of one bench (its median and spread over rounds),
 * held against a target where the issue sets one. A figure that could not be measured is null, never 0, and its
 * verdict says why; a figure whose bench's own checks failed is never `met`.
 */
import { median } from '../overhead/summary.js';

/** `>=`: at least `value` (a rate, a ratio to a peer); `<=`: at most (a cost, a time, a size). */
export interface Target {
  op: '>=' | '<=';
  value: number;
  /** What the value is when it is measured in the same run rather than fixed (e.g. "the prom-client variant's cost"). */
  against?: string;
}

export type Verdict = 'met' | 'MISSED' | 'no target' | 'not run';

export interface Figure {
  /** The bench it comes from (its entry point's name). */
  bench: string;
  /** What is measured, in words: "event-loop hello: srvlens cost". */
  name: string;
  unit: string;
  median: number | null;
  /** The spread's ends: min..max over rounds, or p10..p90 over many samples (SPREAD_QUANTILES_FROM). */
  low: number | null;
  high: number | null;
  /** Rounds (or samples) the median is over; 0 when not run. */
  n: number;
  target: Target | null;
  verdict: Verdict;
  /** Why not run, a failed check, what the figure leaves out. */
  note: string | null;
}

/** With this many samples or more the spread is p10..p90 (per-render times); under it, min..max (rounds). */
export const SPREAD_QUANTILES_FROM = 20;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function verdictOf(value: number | null, target: Target | null): Verdict {
  if (value === null || !Number.isFinite(value)) return 'not run';
  if (target === null) return 'no target';
  return (target.op === '>=' ? value >= target.value : value <= target.value) ? 'met' : 'MISSED';
}

export interface FigureInput {
  bench: string;
  name: string;
  unit: string;
  /** One value per round (or per sample); non-finite values are dropped. Empty: not measured. */
  samples: readonly number[];
  target?: Target | null;
  /** Problems the bench's own checks found: the figure is then MISSED whatever its value, with them as the note. */
  failedChecks?: readonly string[];
  note?: string | null;
}

/** A figure from its samples: the median, the spread, the verdict against the target. */
export function figure(input: FigureInput): Figure {
  const xs = input.samples.filter(Number.isFinite);
  const target = input.target ?? null;
  const failed = input.failedChecks ?? [];
  const notes = [input.note ?? null, failed.length > 0 ? `check FAILED: ${failed.join('; ')}` : null].filter((n): n is string => n !== null);
  const note = notes.length > 0 ? notes.join('; ') : null;
  if (xs.length === 0) return notRun(input.bench, input.name, input.unit, note ?? 'no figure came out', target);
  const sorted = [...xs].sort((a, b) => a - b);
  const many = sorted.length >= SPREAD_QUANTILES_FROM;
  const m = median(sorted);
  let verdict = verdictOf(m, target);
  // A bench that did not measure what it claims (its instrumentation saw nothing, the load failed) meets nothing.
  if (failed.length > 0 && verdict === 'met') verdict = 'MISSED';
  return {
    bench: input.bench,
    name: input.name,
    unit: input.unit,
    median: m,
    low: many ? quantile(sorted, 0.1) : sorted[0],
    high: many ? quantile(sorted, 0.9) : sorted[sorted.length - 1],
    n: sorted.length,
    target,
    verdict,
    note,
  };
}

/** A figure that was not measured here, and why (no root, no wrk, the bench failed). */
export function notRun(bench: string, name: string, unit: string, reason: string, target: Target | null = null): Figure {
  return { bench, name, unit, median: null, low: null, high: null, n: 0, target, verdict: 'not run', note: reason };
}

/** (high - low) / median, in %; null when there is no spread to speak of. */
export function spreadPct(f: Figure): number | null {
  if (f.median === null || f.low === null || f.high === null || f.n < 2 || f.median === 0) return null;
  return ((f.high - f.low) / Math.abs(f.median)) * 100;
}
