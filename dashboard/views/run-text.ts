/**
 * The Run view's panels as lines of tagged text, sized to their boxes. Numbers carry their units; columns are laid
 * out on plain text first and tagged afterwards, so tags never count as width.
 */
import type { ThroughputPanel } from '../panels/throughput.js';
import type { LatencyPanel } from '../panels/latency.js';
import type { DecompositionPanel } from '../panels/decomposition.js';
import type { ContextsPanel } from '../panels/contexts.js';
import type { ContextSwitchesPanel } from '../panels/context-switches.js';
import type { EventLoopPanel } from '../panels/event-loop.js';
import type { QueuesPanel } from '../panels/queues.js';
import { barMs } from '../panels/compare.js';
import type { CpuPanel } from '../panels/cpu.js';
import { fit, fmtBytes, fmtMs, fmtMsPerReq, fmtPct, fmtPerReq, fmtRps, num, wrapWords } from '../widgets/format.js';
import { markLine, sparkline } from '../widgets/sparkline.js';
import { stackedBar } from '../widgets/stacked-bar.js';
import { flow } from '../widgets/legend.js';
import { alert, esc } from '../widgets/tags.js';
import { namedWith, type ModelSeen } from '../../src/vocabulary/index.js';

const maxOf = (...series: (number | null)[][]) => Math.max(0, ...series.flat().map((v) => v ?? 0));

/** Rows of label, now, phase, then a sparkline in the rest of the width; both series on one scale. */
function seriesRows(width: number, labelW: number, valueW: number, rows: [string, string, string, (number | null)[]][], max: number): string[] {
  const sparkW = Math.max(0, width - labelW - 2 * valueW);
  return rows.map(([label, now, phase, series]) => fit(label, labelW) + fit(now, valueW) + fit(phase, valueW) + sparkline(series, sparkW, max));
}

/** `windowHead`: what the second column covers, "phase" or, without phases, how long ("last 10 s"). */
export function throughputLines(d: ThroughputPanel, width: number, windowHead = 'phase'): string[] {
  if (d.measured_by !== 'generator') {
    return [
      fit('', 9) + fit('now', 10) + fit(windowHead, 10),
      fit('offered', 9) + 'no load generator',
      ...seriesRows(width, 9, 10, [['served', fmtRps(d.served_rps), fmtRps(d.window_served_rps), d.served]], maxOf(d.served)),
      d.served_by === 'kernel' ? 'served: as the kernel tracer counted' : 'served: as the agents counted',
    ];
  }
  const max = maxOf(d.offered, d.achieved);
  const lines = [fit('', 9) + fit('now', 10) + fit(windowHead, 10)];
  lines.push(
    ...seriesRows(width, 9, 10, [
      ['offered', fmtRps(d.offered_rps), fmtRps(d.phase_offered_rps), d.offered],
      ['achieved', fmtRps(d.achieved_rps), fmtRps(d.phase_achieved_rps), d.achieved],
    ], max),
  );
  if (d.shortfall) lines.push(alert('achieved below offered in this phase'));
  return lines;
}

export function latencyLines(d: LatencyPanel, width: number, windowHead = 'phase'): string[] {
  if (d.measured_by === 'proc') return ['latency: not seen from /proc'];
  const t = d.server_time;
  if (t) {
    return [
      fit('', 7) + fit('now', 10) + fit(windowHead, 10),
      ...seriesRows(width, 7, 10, [
        ['p50', fmtMs(t.p50_ms), fmtMs(t.window?.p50_ms), t.p50],
        ['p99', fmtMs(t.p99_ms), fmtMs(t.window?.p99_ms), t.p99],
      ], maxOf(t.p50, t.p99)),
      'no load generator: client latency -',
    ];
  }
  const sparkW = Math.max(0, width - 7 - 20);
  // The header's chart column marks the intervals the generator could not keep up in, above their bars.
  const marks = d.saturated_intervals ? alert(markLine(d.saturated, sparkW)) : '';
  return [
    fit('', 7) + fit('now', 10) + fit('phase', 10) + marks,
    ...seriesRows(width, 7, 10, [
      ['p50', fmtMs(d.p50_ms), fmtMs(d.phase?.p50_ms), d.p50],
      ['p99', fmtMs(d.p99_ms), fmtMs(d.phase?.p99_ms), d.p99],
    ], maxOf(d.p50, d.p99)),
    d.reasons.length ? alert(esc(fit(`generator saturated: ${d.reasons.join('; ')}`, width))) : fit('max', 7) + fit('', 10) + fit(fmtMs(d.phase?.max_ms), 10),
  ];
}

export function latencyLabel(d: LatencyPanel): string {
  if (d.measured_by === 'agents') return ' server time, handler start to end ';
  if (d.measured_by === 'proc') return ' latency ';
  return d.saturated_intervals ? ' latency; ! generator saturated ' : ' latency from intended send ';
}

/** The bar, then the parts as a legend that flows over the remaining lines. */
export function decompositionLines(d: DecompositionPanel, width: number, height: number): string[] {
  const total = ` ${fmtMs(d.mean_ms)}`;
  const parts = d.parts.map((p) => ({ part: p.part, ms: barMs(p.ms) }));
  const barW = Math.max(0, width - total.length);
  const scale = parts.reduce((s, p) => s + p.ms, 0);
  const lines = [stackedBar(parts, barW, scale) + total];
  const items = d.parts.map((p) => ({ part: p.part, text: `${p.part} ${fmtMs(p.ms)}` }));
  // Two spaces between parts read best; one, next to the coloured letter, still does and fits 80 columns.
  const wide = flow(items, width, 2);
  return [...lines, ...(wide.length < height ? wide : flow(items, width, 1))].slice(0, height);
}


/** A context's name without its server's, which the status line already shows: "lean:main" is "main". */
const shortName = (name: string) => (name.includes(':') ? name.slice(name.indexOf(':') + 1) : name);

export function contextLines(d: ContextsPanel, width: number, height: number): string[] {
  const withRss = width >= 50;
  const keyW = Math.max(6, width - 22 - (withRss ? 10 : 0));
  const row = (key: string, cpu: string, runq: string, blocked: string, rss: string) =>
    fit(key, keyW) + fit(cpu, 7, 'right') + fit(runq, 7, 'right') + fit(blocked, 8, 'right') + (withRss ? fit(rss, 10, 'right') : '');
  const lines = [row('context', 'CPU', 'runq', 'blocked', 'RSS')];
  if (d.rows.length === 0) return [...lines, 'no agent data in this interval'];
  const room = height - 1;
  const shown = d.rows.length > room ? d.rows.slice(0, room - 1) : d.rows;
  for (const c of shown) lines.push(esc(row(shortName(c.name), fmtPct(c.cpu_share), fmtPct(c.runq_share), fmtPct(c.blocked_share), fmtBytes(c.rss_bytes))));
  if (shown.length < d.rows.length) lines.push(`+${d.rows.length - shown.length} more contexts`);
  return lines;
}

/** Label and value, the value flush right: the narrow panels' layout. */
const pairs = (width: number, rows: [string, string][]) => rows.map(([k, v]) => fit(k, Math.max(0, width - v.length - 1)) + ' ' + v);

export function queueLines(d: QueuesPanel, width: number): string[] {
  return pairs(width, [
    ['accept wait', fmtMsPerReq(d.accept_queue_ms)],
    ['server wait', fmtMsPerReq(d.server_queue_ms)],
    ['backend q max', d.backend ? `${d.backend.queue_max} calls` : '-'],
    ['backend wait', fmtMsPerReq(d.backend?.mean_queue_ms)],
    ['client backlog', d.client ? `${d.client.backlog} req` : '-'],
    ['accept q length', d.accept_queue_length === null ? '-' : `${d.accept_queue_length} conn`],
  ]);
}

export function contextSwitchLines(d: ContextSwitchesPanel, width: number, height: number): string[] {
  const ps = d.per_second;
  if (ps) {
    // No requests to count them by: per second, over the contexts.
    const rate = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${num(v)}/s`);
    const rows: [string, string][] = [
      [width >= 22 ? 'voluntary' : 'vol', rate(ps.window?.voluntary)],
      [width >= 22 ? 'involuntary' : 'invol', rate(ps.window?.involuntary)],
    ];
    if (height >= 4) rows.push(['vol now', rate(ps.now?.voluntary)], ['invol now', rate(ps.now?.involuntary)]);
    return pairs(width, rows);
  }
  const rows: [string, string][] = [
    [width >= 22 ? 'voluntary' : 'vol', fmtPerReq(d.phase?.voluntary)],
    [width >= 22 ? 'involuntary' : 'invol', fmtPerReq(d.phase?.involuntary)],
  ];
  if (height >= 4) rows.push(['vol now', fmtPerReq(d.now?.voluntary)], ['invol now', fmtPerReq(d.now?.involuntary)]);
  return pairs(width, rows);
}

export function eventLoopLines(d: EventLoopPanel, width: number, height: number): string[] {
  if (!d.has_loop) return ['no event loop', 'in this model'];
  const rows: [string, string][] = [
    ['delay p99', fmtMs(d.phase?.p99_ms ?? d.now?.p99_ms)],
    ['utilization', fmtPct(d.phase?.utilization ?? d.now?.utilization)],
  ];
  if (height >= 4) rows.push(['delay p50', fmtMs(d.phase?.p50_ms)], ['delay max', fmtMs(d.phase?.max_ms)]);
  return pairs(width, rows);
}


/** From /proc alone: the whole tree's CPU as a share of one core (200 %: two cores busy), now, over the window. */
export function cpuLines(d: CpuPanel, width: number, windowHead: string): string[] {
  return [
    fit('', 9) + fit('now', 10) + fit(windowHead, 10),
    ...seriesRows(width, 9, 10, [['CPU', fmtPct(d.now_cores), fmtPct(d.window_cores), d.cores]], maxOf(d.cores)),
    'CPU: the whole tree, in % of one core',
  ];
}

/** Lines of at most `width` columns, broken between words; each continuation indented. */
function wrap(text: string, width: number): string[] {
  return wrapWords(text, width).map((l) => fit(l, width).trimEnd());
}

/** From /proc alone, where the parts would be: the model the tree looks like, and the evidence for it. */
export function modelLines(detected: ModelSeen | null | undefined, width: number, height: number): string[] {
  if (!detected) return ['requests and their parts are not seen from /proc', 'naming the model: it takes an interval or two...'];
  const lines = [...wrap(`looks like: ${namedWith(detected)}   (requests and their parts are not seen from /proc)`, width), ...detected.evidence.flatMap((e) => wrap(`- ${e}`, width))];
  return lines.slice(0, height).map(esc);
}
