/**
 * The report's charts as Vega-Lite specs, from the JSON report alone (so a report read from anywhere draws the same).
 * Every axis says its unit. A server keeps one colour on every chart; a part keeps the dashboard's colour (PART_STYLE).
 */
import type { TopLevelSpec } from 'vega-lite';
import { PART_NAMES, PART_STYLE } from '../../vocabulary/index.js';
import type { Report, ReportRun } from '../json-report.js';

/** Tableau's ten: told apart in print and by most colour-blind readers; the tour has nine servers. */
const SERVER_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
/** The plot's own size: with axes and a legend of the tour's names a chart is ~600 px, two abreast in 1240 px. */
const WIDTH = 380;
const HEIGHT = 240;

type GeneratorRun = Extract<ReportRun, { source: 'generator' }>;
const curveRuns = (report: Report): GeneratorRun[] => report.runs.filter((r): r is GeneratorRun => r.source === 'generator' && r.summary !== null && r.summary.curve.length > 0);

function serverColour(report: Report) {
  const domain = report.runs.map((r) => r.server);
  return { field: 'server', type: 'nominal', title: 'server', scale: { domain, range: domain.map((_, i) => SERVER_COLOURS[i % SERVER_COLOURS.length]) } } as const;
}

const offeredAxis = { field: 'offered_rps', type: 'quantitative', title: 'offered load (req/s)', scale: { zero: true } } as const;

/** Achieved against offered, every server, the knee of each marked; the diagonal is a server that answers all. */
export function throughputChart(report: Report): TopLevelSpec | null {
  const runs = curveRuns(report);
  if (runs.length === 0) return null;
  const points = runs.flatMap((r) => r.summary!.curve.map((p) => ({ server: r.server, ...p, knee: p.name === r.summary!.knee_phase })));
  const top = Math.max(...points.map((p) => Math.max(p.offered_rps, p.achieved_rps)));
  return {
    title: { text: 'Throughput against offered load', subtitle: ['answered without error; dashed: all of it answered', 'ringed: each server\'s knee, the last load it followed'] },
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: [{ offered_rps: 0, achieved_rps: 0 }, { offered_rps: top, achieved_rps: top }] },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: offeredAxis, y: { field: 'achieved_rps', type: 'quantitative' } },
      },
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x: offeredAxis,
          y: { field: 'achieved_rps', type: 'quantitative', title: 'achieved (req/s)' },
          color: serverColour(report),
          order: { field: 'offered_rps' },
        },
      },
      {
        data: { values: points },
        transform: [{ filter: 'datum.knee' }],
        mark: { type: 'point', size: 220, strokeWidth: 2.5, filled: false },
        encoding: { x: offeredAxis, y: { field: 'achieved_rps', type: 'quantitative' }, color: serverColour(report) },
      },
    ],
  };
}

/** p50 (dashed) and p99 (solid) against offered, log scale: a queue shows as a climb of orders of magnitude. */
export function latencyChart(report: Report): TopLevelSpec | null {
  const runs = curveRuns(report);
  if (runs.length === 0) return null;
  const points = runs.flatMap((r) =>
    r.summary!.curve.flatMap((p) =>
      (['p50', 'p99'] as const).flatMap((q) => {
        const ms = q === 'p50' ? p.p50_ms : p.p99_ms;
        return ms === null || ms <= 0 ? [] : [{ server: r.server, offered_rps: p.offered_rps, quantile: q, ms, series: `${r.server} ${q}` }];
      }),
    ),
  );
  return {
    title: { text: 'Latency against offered load', subtitle: ['as the client saw it, corrected for coordinated omission', 'a step with no answer has no point'] },
    width: WIDTH,
    height: HEIGHT,
    data: { values: points },
    encoding: { x: offeredAxis, y: { field: 'ms', type: 'quantitative', title: 'latency (ms, log)', scale: { type: 'log' } }, color: serverColour(report) },
    // Lines and points apart: a line with points would draw the quantile's legend as dots, not dashes.
    layer: [
      {
        mark: 'line',
        encoding: {
          strokeDash: { field: 'quantile', type: 'nominal', title: 'quantile', legend: { symbolType: 'stroke', symbolStrokeColor: '#444', symbolStrokeWidth: 2 }, scale: { domain: ['p50', 'p99'], range: [[4, 3], [1, 0]] } },
          detail: { field: 'series' },
          order: { field: 'offered_rps' },
        },
      },
      { mark: { type: 'point', filled: true } },
    ],
  };
}

/** A per-request figure of the curve against offered load, every server, log scale (the models differ by 100x). */
export function perRequestChart(
  report: Report,
  field: 'cpu_ms_per_request' | 'runqueue_wait_ms_per_request' | 'loop_delay_p99_ms',
  text: { title: string; subtitle: string | string[]; axis: string },
): TopLevelSpec | null {
  const points = curveRuns(report).flatMap((r) => r.summary!.curve.flatMap((p) => (p[field] !== null && p[field]! > 0 ? [{ server: r.server, offered_rps: p.offered_rps, value: p[field] }] : [])));
  if (points.length === 0) return null;
  return {
    title: { text: text.title, subtitle: text.subtitle },
    width: WIDTH,
    height: HEIGHT,
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: offeredAxis,
      y: { field: 'value', type: 'quantitative', title: text.axis, scale: { type: 'log' } },
      color: serverColour(report),
      order: { field: 'offered_rps' },
    },
  };
}

const partColour = {
  field: 'part',
  type: 'nominal',
  title: 'part',
  scale: { domain: [...PART_NAMES], range: PART_NAMES.map((p) => PART_STYLE[p].hex) },
  sort: [...PART_NAMES],
  legend: { orient: 'bottom', columns: 5 },
} as const;

/** Where a server's time goes: per phase, each part's share of the mean latency, the mean itself in the label. */
export function partsChart(run: ReportRun): TopLevelSpec | null {
  const rows = run.phases.flatMap((p) => {
    const parts = p.parts_ms;
    if (!parts) return [];
    const total = PART_NAMES.reduce((s, n) => s + (parts[n] ?? 0), 0);
    if (total <= 0) return [];
    const label = `${p.name} (${total >= 100 ? total.toFixed(0) : total.toFixed(1)} ms)`;
    return PART_NAMES.flatMap((n, order) => ((parts[n] ?? 0) > 0 ? [{ phase: label, part: n, ms: parts[n], order }] : []));
  });
  if (rows.length === 0) return null;
  const phases = [...new Set(rows.map((r) => r.phase))];
  return {
    title: { text: 'Where the time goes', subtitle: ['per phase, each part\'s share of the mean latency', 'the mean in brackets'] },
    width: WIDTH,
    height: Math.max(60, phases.length * 26),
    data: { values: rows },
    mark: { type: 'bar', stroke: '#555', strokeWidth: 0.4 },
    encoding: {
      y: { field: 'phase', type: 'nominal', title: null, sort: phases },
      x: { field: 'ms', type: 'quantitative', stack: 'normalize', title: 'share of the mean latency', axis: { format: '.0%' } },
      color: partColour,
      order: { field: 'order' },
    },
  };
}

/** At the server's peak: each group of like contexts, its CPU in cores busy and its contexts waiting for a core. */
export function contextsChart(run: ReportRun): TopLevelSpec | null {
  if (run.source !== 'generator') return null;
  const groups = run.summary?.contexts_at_peak ?? [];
  if (groups.length === 0) return null;
  const label = (g: (typeof groups)[number]) => `${g.name}${g.contexts > 1 ? ` ×${g.contexts}` : ''} (${g.role})`;
  const rows = groups.flatMap((g) => [
    { context: label(g), measure: 'on a CPU (cores busy)', value: g.cpu_cores },
    ...(g.runqueue_waiting === null ? [] : [{ context: label(g), measure: 'waiting for a core (contexts)', value: g.runqueue_waiting }]),
  ]);
  return {
    title: { text: `Contexts at the peak (${run.summary?.peak_phase ?? '-'})`, subtitle: ['like contexts as one row: the cores they kept busy,', 'and how many were runnable but waiting for a core (mean)'] },
    width: WIDTH,
    height: Math.max(60, groups.length * 30),
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: 'context', type: 'nominal', title: null, sort: groups.map(label) },
      yOffset: { field: 'measure', type: 'nominal' },
      x: { field: 'value', type: 'quantitative', title: 'cores busy, contexts waiting (mean)' },
      color: { field: 'measure', type: 'nominal', title: null, legend: { orient: 'bottom' }, scale: { domain: ['on a CPU (cores busy)', 'waiting for a core (contexts)'], range: ['#4e79a7', '#e15759'] } },
    },
  };
}
