/**
 * The Over-time view's charts as tagged text: throughput (offered and achieved), p99 and the parts, each a line over
 * the run up to the cursor, one time axis for all three, a dotted line where each phase began. Pure: sized to the
 * boxes they are given.
 */
import { PART_STYLE, type PartName } from '../../src/vocabulary/index.js';
import type { OverTimePanel } from '../panels/over-time.js';
import { below, chartLines, type ChartSpec } from '../widgets/chart.js';
import type { Drawn } from '../widgets/text-box.js';
import { latencyScale, linearScale, type Scale } from '../widgets/scale.js';
import { colour } from '../widgets/tags.js';

const ROWS_PER_TICK = 2;
const COLS_PER_TICK = 8;

/** The series' colours: the Run view's sparklines have none, so these are the charts' own. */
const OFFERED = { colour: 'light-blue', mark: 'o' };
const ACHIEVED = { colour: 'green', mark: 'a' };
const P99 = { colour: 'light-red', mark: null };

/** Seconds of the run on one axis for the three charts, so that their phase boundaries line up. */
export function timeScale(d: OverTimePanel, width: number): Scale {
  return linearScale([d.t_s[d.t_s.length - 1] ?? 0], Math.max(2, Math.floor(width / COLS_PER_TICK)));
}

const yTicks = (height: number) => Math.max(2, Math.floor((height - 1) / ROWS_PER_TICK));
/** The parts' one axis: every part's points, read in place. */
const partsScale = (d: OverTimePanel, ticks: number) => latencyScale(d.parts.map((p) => p.ms), ticks);
const boundaries = (d: OverTimePanel) => d.phases.slice(1).map((p) => p.t_s);

function common(d: OverTimePanel, width: number, height: number): Pick<ChartSpec, 'width' | 'height' | 'x' | 'marks'> {
  return { width, height, x: timeScale(d, width), marks: boundaries(d) };
}

export function throughputLabel(d: OverTimePanel): string {
  return d.generator ? ' throughput, req/s: o offered, a achieved; ┊ a phase begins ' : ' served, req/s (as the agents counted; no load generator) ';
}

/** Its bottom row names the phases where they begin; the other two charts' rows carry the time. */
export function throughputLines(d: OverTimePanel, width: number, height: number): Drawn {
  if (d.intervals === 0) return { lines: ['no interval yet'], paints: [] };
  const values = d.generator ? [d.offered, d.achieved] : d.achieved;
  const series = [
    ...(d.generator ? [{ xs: d.t_s, ys: d.offered, ...OFFERED }] : []),
    { xs: d.t_s, ys: d.achieved, ...ACHIEVED, mark: d.generator ? ACHIEVED.mark : null },
  ];
  const labels = d.phases.map((p) => ({ x: p.t_s, text: p.name }));
  return chartLines({ ...common(d, width, height), y: linearScale(values, yTicks(height)), series, bottom: labels.length ? { labels } : { unit: 's' } });
}

export function latencyLabel(d: OverTimePanel): string {
  const log = latencyScale(d.p99, 4).log;
  const what = d.generator ? 'p99 latency from intended send' : 'p99 server time';
  const saturated = d.saturated ? `; ! generator saturated (${d.saturated} intervals)` : '';
  return ` ${what}, ms${log ? ' (log scale)' : ''}${saturated} `;
}

export function latencyLines(d: OverTimePanel, width: number, height: number): Drawn {
  if (d.intervals === 0) return { lines: [], paints: [] };
  const flags = d.saturated_t;
  return chartLines({ ...common(d, width, height), y: latencyScale(d.p99, yTicks(height)), series: [{ xs: d.t_s, ys: d.p99, ...P99 }], flags, bottom: { unit: 's of the run' } });
}

export function partsLabel(d: OverTimePanel): string {
  const log = partsScale(d, 4).log;
  return ` where the time goes, ms/req per part${log ? ' (log scale)' : ''}; each line ends in its letter `;
}

/** The measured parts' letters and names, flowing over lines, each letter painted on its colour as in the bars. */
function partsLegend(d: OverTimePanel, width: number): Drawn {
  const lines: string[] = [];
  const marks: { row: number; col: number; part: PartName }[] = [];
  let line = '';
  for (const { part } of d.parts) {
    const item = `${PART_STYLE[part].mark} ${part}`;
    if (line && line.length + 2 + item.length > width) {
      lines.push(line);
      line = '';
    }
    if (line) line += '  ';
    marks.push({ row: lines.length, col: line.length, part });
    line += item;
  }
  if (line) lines.push(line);
  if (!colour.on) return { lines, paints: [] };
  return {
    lines,
    paints: marks.map((m) => ({ row: m.row, col: m.col, cols: 1, colours: ['black'], backgrounds: [PART_STYLE[m.part].bg] })),
  };
}

/** The legend over the chart, where the box has rows to spare. */
export function partsLines(d: OverTimePanel, width: number, height: number): Drawn {
  if (d.intervals === 0) return { lines: [], paints: [] };
  if (d.parts.length === 0) return { lines: ['no part measured in these intervals'], paints: [] };
  const legend = height >= 6 ? partsLegend(d, width) : { lines: [], paints: [] };
  const chartH = height - legend.lines.length;
  const series = d.parts.map((p) => ({ xs: d.t_s, ys: p.ms, colour: PART_STYLE[p.part].bg, mark: PART_STYLE[p.part].mark }));
  const chart = below(legend.lines, chartLines({ ...common(d, width, chartH), y: partsScale(d, yTicks(chartH)), series, bottom: { unit: 's of the run' } }));
  return { lines: chart.lines, paints: [...legend.paints, ...chart.paints] };
}
