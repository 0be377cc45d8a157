/**
 * The report as Markdown, for an issue or a pull request: the comparison as a table, each server's diagnosis, and
 * the checks that failed. The per-phase detail stays in the text and JSON reports.
 */
import type { Report } from './json-report.js';
import { failedChecks } from '../analysis/self-checks.js';

const cell = (v: string | number | null) => (v === null ? '-' : String(v).replace(/\|/g, '\\|'));
const n = (v: number | null, digits = 1) => (v === null ? null : v.toFixed(digits));

export function renderMarkdown(report: Report): string {
  const out: string[] = [`## srvlens report: ${report.scenario}`, ''];
  if (report.description) out.push(report.description.trim(), '');
  out.push(`Host: ${report.host.cpus} CPUs, ${report.host.cpu_model}, ${report.host.os}, node ${report.host.node}. SLO: ${report.slo ?? 'none set'}.`, '');
  if (report.damage) out.push(`**Recording damaged:** ${report.damage.message}; figures cover what was read before it.`, '');
  if (report.comparison.length) {
    const head = ['server', 'model', 'peak req/s', 'knee req/s', 'max in SLO req/s', 'p99 at knee ms', 'dominant part at knee', 'CPU ms/req', 'context switches/req', 'graceful', 'gave out'];
    out.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => ([0, 1, 6, 9, 10].includes(i) ? '---' : '---:')).join('|')}|`);
    for (const r of report.comparison) {
      const row = [r.server, r.model, n(r.peak_rps), n(r.knee_rps), n(r.max_sustainable_rps), n(r.p99_at_knee_ms), r.dominant_part_at_knee, n(r.cpu_ms_per_request, 2), n(r.context_switches_per_request), r.graceful === null ? null : r.graceful ? 'yes' : 'no', `\`${r.limited_by}\``];
      out.push(`| ${row.map(cell).join(' | ')} |`);
    }
    out.push('');
  }
  for (const run of report.runs) {
    out.push(`### ${run.server}`, '');
    if (run.summary) out.push(run.summary.diagnosis, '');
    for (const p of run.phases) for (const c of failedChecks(p.checks)) out.push(`- check failed in ${p.name}: \`${c.id}\`: ${c.detail}`);
    if (run.phases.some((p) => failedChecks(p.checks).length)) out.push('');
  }
  return out.join('\n');
}
