/**
 * The report as one self-contained HTML page: the comparison, the load curves of every server on shared charts, and
 * per server its diagnosis beside its own charts. No script, no font, no request: every chart is inline SVG rendered
 * here (svg-chart.ts), so the file reads offline and attaches to a ticket.
 */
import type { TopLevelSpec } from 'vega-lite';
import { failedChecks } from '../../analysis/self-checks.js';
import { COMPARISON_COLUMNS, comparisonLegend } from '../comparison-columns.js';
import type { Report, ReportRun } from '../json-report.js';
import { contextsChart, latencyChart, partsChart, perRequestChart, throughputChart } from './charts.js';
import { PAGE_STYLE } from './page-style.js';
import { hostSetting } from '../host-setting.js';
import { renderSvg } from './svg-chart.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function figure(spec: TopLevelSpec | null, label: string): Promise<string> {
  if (spec === null) return '';
  return `<figure class="chart" aria-label="${esc(label)}">${await renderSvg(spec)}</figure>`;
}

function comparisonTable(report: Report): string {
  if (report.comparison.length === 0) return '';
  const cls = (text: boolean) => (text ? ' class="text"' : '');
  const head = COMPARISON_COLUMNS.map((c) => `<th${cls(c.text)}>${esc(c.head)}</th>`).join('');
  const rows = report.comparison.map((r) => `<tr>${COMPARISON_COLUMNS.map((c) => `<td${cls(c.text)}>${esc(c.cell(r) ?? '-')}</td>`).join('')}</tr>`);
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table><p class="legend">${esc(comparisonLegend(report.slo))}</p>`;
}

function serverWords(run: ReportRun): string {
  const out: string[] = [];
  const size = Object.entries(run.size).map(([k, v]) => `${k}=${v}`).join(', ');
  out.push(`<p class="meta">model ${esc(run.model)}${size ? `, ${esc(size)}` : ''}${run.cores ? `, pinned to ${run.cores} CPUs` : ''}${run.detected_model ? `; the /proc agent saw ${esc(run.detected_model.model)}` : ''}</p>`);
  if (run.source === 'generator' && run.summary) {
    out.push(`<p>${esc(run.summary.diagnosis)}</p>`);
    if (run.summary.evidence.length) out.push(`<h3>What gave out: ${esc(run.summary.limited_by)}</h3><ul>${run.summary.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>`);
  } else if (run.source === 'agents-only' && run.summary) {
    const h = run.summary.headroom;
    out.push(`<p>${esc(run.summary.diagnosis)}</p>`, `<h3>Headroom</h3><p>${esc(h.basis)}</p>`);
    if (run.summary.instances.length > 1) {
      const rows = run.summary.instances.map((i) => `<tr><td class="text">${esc(i.instance)}</td><td>${i.served_rps ?? '-'}</td><td>${i.p99_ms ?? '-'}</td><td>${i.cpu_ms_per_request ?? '-'}</td><td class="text">${esc(i.outlier ?? '')}</td></tr>`);
      out.push(`<table><thead><tr><th class="text">instance</th><th>served req/s</th><th>p99 ms</th><th>CPU ms/req</th><th class="text">unlike the others</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
    }
  } else if (run.source === 'agents-only') {
    out.push('<p>Measured by the agents alone (the load came from elsewhere): no offered load, so no curve, knee or capacity.</p>');
  }
  const failed = run.phases.flatMap((p) => failedChecks(p.checks).map((c) => `<li class="failed">${esc(p.name)}: ${esc(c.id)} failed: ${esc(c.detail)}</li>`));
  if (failed.length) out.push(`<h3>Checks that failed</h3><ul>${failed.join('')}</ul>`);
  return out.join('');
}

export async function renderHtml(report: Report): Promise<string> {
  const overview = [
    await figure(throughputChart(report), 'throughput against offered load'),
    await figure(latencyChart(report), 'latency against offered load'),
    await figure(perRequestChart(report, 'cpu_ms_per_request', { title: 'CPU per request', subtitle: 'every context of the server, user + system', axis: 'CPU (ms per request, log)' }), 'CPU per request'),
    await figure(
      perRequestChart(report, 'runqueue_wait_ms_per_request', { title: 'Run-queue wait per request', subtitle: 'runnable but waiting for a core, every context', axis: 'wait (ms per request, log)' }),
      'run-queue wait per request',
    ),
    await figure(perRequestChart(report, 'loop_delay_p99_ms', { title: 'Event-loop delay', subtitle: ['p99 timer lateness of the server\'s event loops', 'every Node context runs one'], axis: 'loop delay p99 (ms, log)' }), 'event-loop delay'),
  ].join('');
  const servers: string[] = [];
  for (const run of report.runs) {
    const charts = [await figure(partsChart(run), `${run.server}: where the time goes`), await figure(contextsChart(run), `${run.server}: contexts at the peak`)].join('');
    servers.push(`<section><h2 id="${esc(run.server)}">${esc(run.server)}</h2><div class="server"><div class="words">${serverWords(run)}</div><div class="charts">${charts}</div></div></section>`);
  }
  const h = report.host;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>srvlens report: ${esc(report.scenario)}</title>`,
    `<style>${PAGE_STYLE}</style></head><body>`,
    `<h1>srvlens report: ${esc(report.scenario)}</h1>`,
    report.description ? `<p>${esc(report.description.trim())}</p>` : '',
    `<p class="meta">host: ${h.cpus} CPUs, ${esc(h.cpu_model)}, ${esc(h.os)}${esc(hostSetting(h))}, node ${esc(h.node)}; recorded ${esc(report.recorded)}; interval ${report.interval_ms} ms; SLO ${esc(report.slo ?? 'none set')}; srvlens ${esc(report.tool_version)}</p>`,
    report.damage ? `<p class="damage">Recording damaged: ${esc(report.damage.message)}; the figures cover the ${report.damage.after_records} records read before it.</p>` : '',
    report.complete ? '' : '<p class="damage">The recording has no end record: the run was cut short, and the last phase may be partial.</p>',
    report.comparison.length ? `<h2>Answers</h2>${comparisonTable(report)}` : '',
    overview ? `<h2>Load curves</h2><div class="charts">${overview}</div>` : '',
    ...servers,
    '</body></html>',
    '',
  ].join('\n');
}
