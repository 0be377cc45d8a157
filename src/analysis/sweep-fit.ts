/**
 * The USL across runs of one model that differ in one size (a pool-size or process-count sweep): concurrency is
 * the size, throughput each run's peak. Pure: runs in, one fit (or refusal) per swept model and size key out.
 */
import { fitUsl, type UslResult } from './usl.js';

export interface SweepFit {
  model: string;
  /** The size key that varies: threads, processes. */
  vary: string;
  result: UslResult;
}

export function sweepFits(runs: readonly { model: string; size: Record<string, number>; peak_rps: number | null }[]): SweepFit[] {
  const out: SweepFit[] = [];
  for (const model of new Set(runs.map((r) => r.model))) {
    const same = runs.filter((r) => r.model === model && r.peak_rps !== null);
    const keys = new Set(same.flatMap((r) => Object.keys(r.size)));
    for (const vary of keys) {
      // A sweep of `vary`: every other size key the same across the runs.
      const others = [...keys].filter((k) => k !== vary);
      const fixed = same.filter((r) => r.size[vary] !== undefined && others.every((k) => r.size[k] === same[0].size[k]));
      if (new Set(fixed.map((r) => r.size[vary])).size < 2) continue;
      out.push({ model, vary, result: fitUsl(fixed.map((r) => ({ n: r.size[vary], x: r.peak_rps! }))) });
    }
  }
  return out;
}
