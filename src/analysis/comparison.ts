/**
 * Every server of a recording in one table: the row a reader compares models by. Pure: summaries in, rows out, in
 * the order of the highest peak first.
 */
import type { LimitCause } from '../vocabulary/index.js';
import type { RunSummary } from './run-summary.js';

export interface ComparisonRow {
  server: string;
  model: string;
  peak_rps: number | null;
  knee_rps: number | null;
  max_sustainable_rps: number | null;
  p99_at_knee_ms: number | null;
  dominant_part_at_knee: string | null;
  cpu_ms_per_request: number | null;
  context_switches_per_request: number | null;
  graceful: boolean | null;
  limited_by: LimitCause;
}

export function comparisonRows(runs: readonly { server: string; model: string; summary: RunSummary | null }[]): ComparisonRow[] {
  return runs
    .flatMap((r) => (r.summary ? [{ ...r, summary: r.summary }] : []))
    .map(({ server, model, summary: s }) => ({
      server,
      model,
      peak_rps: s.peak_rps,
      knee_rps: s.knee_rps,
      max_sustainable_rps: s.max_sustainable_rps,
      p99_at_knee_ms: s.p99_at_knee_ms,
      dominant_part_at_knee: s.dominant_part_at_knee,
      cpu_ms_per_request: s.cost_at_knee?.cpu_ms ?? null,
      context_switches_per_request: s.cost_at_knee?.context_switches ?? null,
      graceful: s.graceful,
      limited_by: s.limited_by,
    }))
    .sort((a, b) => (b.peak_rps ?? -1) - (a.peak_rps ?? -1));
}
