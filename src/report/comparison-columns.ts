/**
 * The comparison's columns, for every format that shows it (text, Markdown, HTML): a long head with its unit, a short
 * one for the text report's 100 columns, and the cell. Where a cell is null the format prints its own "-".
 */
import type { ComparisonRow } from '../analysis/comparison.js';

export interface ComparisonColumn {
  head: string;
  short: string;
  /** Text (names, causes) is left-aligned; figures are right-aligned. */
  text: boolean;
  cell: (r: ComparisonRow) => string | null;
}

const n = (v: number | null, digits = 1) => (v === null ? null : v.toFixed(digits));

export const COMPARISON_COLUMNS: readonly ComparisonColumn[] = [
  { head: 'server', short: 'server', text: true, cell: (r) => r.server },
  { head: 'model', short: 'model', text: true, cell: (r) => r.model },
  { head: 'peak req/s', short: 'peak r/s', text: false, cell: (r) => n(r.peak_rps) },
  { head: 'knee req/s', short: 'knee r/s', text: false, cell: (r) => n(r.knee_rps) },
  { head: 'max in SLO req/s', short: 'SLO r/s', text: false, cell: (r) => n(r.max_sustainable_rps) },
  { head: 'p99 at knee ms', short: 'p99 ms', text: false, cell: (r) => n(r.p99_at_knee_ms) },
  { head: 'dominant part at knee', short: 'at knee', text: true, cell: (r) => r.dominant_part_at_knee },
  { head: 'CPU ms/req', short: 'CPU ms', text: false, cell: (r) => n(r.cpu_ms_per_request, 2) },
  { head: 'context switches/req', short: 'cs', text: false, cell: (r) => n(r.context_switches_per_request) },
  { head: 'graceful', short: 'graceful', text: true, cell: (r) => (r.graceful === null ? null : r.graceful ? 'yes' : 'no') },
  { head: 'gave out', short: 'gave out', text: true, cell: (r) => r.limited_by },
];

/** What the columns mean, in one sentence per format's legend. */
export function comparisonLegend(slo: string | null): string {
  return (
    'peak: the most answered, req/s; knee: the last offered rate the server followed (- none in the range); ' +
    `SLO: the highest offered rate within ${slo ?? 'an SLO (none set: --slo)'}; at the knee: p99 latency, the part that took most ` +
    "of the mean, CPU ms and context switches (cs) per request; graceful: at twice the peak's rate or more it still " +
    'answers 90 % of the peak (- not offered).'
  );
}
