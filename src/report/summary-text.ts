/**
 * The report's first screen: every server a row of the comparison, then one paragraph of diagnosis per server,
 * within 100 columns. The per-phase detail follows it (text-report.ts).
 */
import type { Report } from './json-report.js';
import { table, wrap as wrapTo } from './table.js';
import { COMPARISON_COLUMNS, comparisonLegend } from './comparison-columns.js';

export const REPORT_COLUMNS = 100;
const wrap = (text: string) => wrapTo(text, REPORT_COLUMNS);

/** The text's 100 columns hold every column but the model (the server's name says it in the tour). */
const TEXT_COLUMNS = COMPARISON_COLUMNS.filter((c) => c.head !== 'model');

export function comparisonTable(report: Report): string[] {
  if (report.comparison.length === 0) return [];
  return [
    table(
      TEXT_COLUMNS.map((c) => c.short),
      report.comparison.map((r) => TEXT_COLUMNS.map((c) => c.cell(r))),
      // One space between columns: ten of them fit 100 columns with the tour's names.
      { sep: ' ', left: TEXT_COLUMNS.flatMap((c, i) => (c.text && i > 0 ? [i] : [])) },
    ),
    wrap(comparisonLegend(report.slo)),
  ].flat();
}

export function diagnosisLines(report: Report): string[] {
  const out: string[] = [];
  for (const run of report.runs) if (run.summary) out.push('', ...wrap(run.summary.diagnosis));
  return out;
}
