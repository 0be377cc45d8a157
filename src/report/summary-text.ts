/**
 * The report's first screen: every server a row of the comparison, then one paragraph of diagnosis per server,
 * within 100 columns. The per-phase detail follows it (text-report.ts).
 */
import type { Report } from './json-report.js';
import { table, wrap as wrapTo } from './table.js';

export const REPORT_COLUMNS = 100;
const wrap = (text: string) => wrapTo(text, REPORT_COLUMNS);

const n = (v: number | null, digits = 1) => (v === null ? null : v.toFixed(digits));
const yesNo = (v: boolean | null) => (v === null ? null : v ? 'yes' : 'NO');

export function comparisonTable(report: Report): string[] {
  if (report.comparison.length === 0) return [];
  return [
    table(
      ['server', 'peak r/s', 'knee r/s', 'SLO r/s', 'p99 ms', 'at knee', 'CPU ms', 'cs', 'graceful', 'gave out'],
      report.comparison.map((r) => [
        r.server,
        n(r.peak_rps),
        n(r.knee_rps),
        n(r.max_sustainable_rps),
        n(r.p99_at_knee_ms),
        r.dominant_part_at_knee,
        n(r.cpu_ms_per_request, 2),
        n(r.context_switches_per_request),
        yesNo(r.graceful),
        r.limited_by,
      ]),
      // One space between columns: ten of them fit 100 columns with the tour's names.
      { sep: ' ', left: [5, 9] },
    ),
    wrap(
      'peak: the most answered, req/s; knee: the last offered rate the server followed (- none in the range); ' +
        `SLO: the highest offered rate within ${report.slo ?? 'an SLO (none set: --slo)'}; at the knee: p99 latency, the part that took most ` +
        'of the mean, CPU ms and context switches (cs) per request; graceful: at twice the peak\'s rate or more it still ' +
        'answers 90 % of the peak (- not offered).',
    ),
  ].flat();
}

export function diagnosisLines(report: Report): string[] {
  const out: string[] = [];
  for (const run of report.runs) if (run.summary) out.push('', ...wrap(run.summary.diagnosis));
  return out;
}
