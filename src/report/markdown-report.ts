/**
 * The report as Markdown, for an issue or a pull request: the comparison as a table, each server's diagnosis, and
 * the checks that failed. The per-phase detail stays in the text and JSON reports.
 */
import type { Report } from './json-report.js';
import { failedChecks } from '../analysis/self-checks.js';
import { COMPARISON_COLUMNS } from './comparison-columns.js';
import { hostSetting } from './host-setting.js';

const cell = (v: string | number | null) => (v === null ? '-' : String(v).replace(/\|/g, '\\|'));

export function renderMarkdown(report: Report): string {
  const out: string[] = [`## srvlens report: ${report.scenario}`, ''];
  if (report.description) out.push(report.description.trim(), '');
  out.push(`Host: ${report.host.cpus} CPUs, ${report.host.cpu_model}, ${report.host.os}${hostSetting(report.host)}, node ${report.host.node}. SLO: ${report.slo ?? 'none set'}.`, '');
  if (report.damage) out.push(`**Recording damaged:** ${report.damage.message}; figures cover what was read before it.`, '');
  if (report.comparison.length) {
    out.push(`| ${COMPARISON_COLUMNS.map((c) => c.head).join(' | ')} |`, `|${COMPARISON_COLUMNS.map((c) => (c.text ? '---' : '---:')).join('|')}|`);
    for (const r of report.comparison) out.push(`| ${COMPARISON_COLUMNS.map((c) => cell(c.head === 'gave out' ? `\`${r.limited_by}\`` : c.cell(r))).join(' | ')} |`);
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
