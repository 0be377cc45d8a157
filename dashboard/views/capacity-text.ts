/**
 * The Capacity view's panels as tagged text: achieved and p99 against the offered load, a line per server on one
 * offered axis, and the legend that names each server's letter with its knee, peak and what gave out. Pure: sized
 * to the boxes they are given.
 */
import type { CapacityLine, CapacityPanel } from '../panels/capacity.js';
import { chartLines, type ChartSeries } from '../widgets/chart.js';
import type { Drawn } from '../widgets/text-box.js';
import { latencyScale, linearScale, type Scale } from '../widgets/scale.js';
import { fit, fmtMs, fmtRps, wrapWords } from '../widgets/format.js';
import { serverColour, serverMark } from '../widgets/server-style.js';
import { bold, esc, fg } from '../widgets/tags.js';

/** Rows per y tick: a label every other row reads; denser, they run together. */
const ROWS_PER_TICK = 2;
/** Columns per x tick label, at least: "400" and a gap. */
const COLS_PER_TICK = 8;

const drawn = (p: CapacityPanel) => p.lines.filter((l) => l.points.length > 0);

/** One offered axis for both charts, so that a server's points stand above each other. */
export function offeredScale(p: CapacityPanel, width: number): Scale {
  return linearScale(drawn(p).flatMap((l) => l.points.map((x) => x.offered_rps)), Math.max(2, Math.floor(width / COLS_PER_TICK)));
}

/** What the charts show instead, when they have nothing to draw; null when they do. */
export function emptyNote(p: CapacityPanel): string | null {
  if (drawn(p).length > 0) return null;
  if (p.lines.length > 0 && p.lines.every((l) => l.no_generator)) return 'no load generator: no offered load to draw against (srvlens run measures capacity)';
  return 'no phase has finished yet: each server gets a point as each of its phases ends';
}

function series(p: CapacityPanel, y: (pt: CapacityLine['points'][number]) => number | null): ChartSeries[] {
  // The cursor's server last, so that it is drawn over the others where they cross.
  const lines = [...drawn(p)].sort((a, b) => Number(a.current) - Number(b.current));
  return lines.map((l) => ({
    xs: l.points.map((pt) => pt.offered_rps),
    ys: l.points.map((pt) => y(pt) ?? NaN),
    colour: serverColour(l.run),
    mark: serverMark(l.run),
    markPoints: true,
  }));
}

export function achievedLines(p: CapacityPanel, width: number, height: number): Drawn {
  const note = emptyNote(p);
  if (note) return { lines: wrapWords(note, width), paints: [] };
  const x = offeredScale(p, width);
  // Achieved on the offered axis's own scale: the diagonal, achieved = offered, is the line of a server that keeps up.
  const top = Math.max(x.max, ...drawn(p).flatMap((l) => l.points.map((pt) => pt.achieved_rps)));
  const y = linearScale([top], Math.max(2, Math.floor((height - 1) / ROWS_PER_TICK)));
  return chartLines({ width, height, x, y, series: series(p, (pt) => pt.achieved_rps), refs: { diagonal: true }, bottom: { unit: 'offered req/s' } });
}

export function latencyLines(p: CapacityPanel, width: number, height: number): Drawn {
  const note = emptyNote(p);
  if (note) return { lines: [], paints: [] };
  const x = offeredScale(p, width);
  const values = drawn(p).flatMap((l) => l.points.map((pt) => pt.p99_ms ?? NaN));
  const y = latencyScale(p.slo_p99_ms === null ? values : [...values, p.slo_p99_ms], Math.max(2, Math.floor((height - 1) / ROWS_PER_TICK)));
  const refs = p.slo_p99_ms === null ? {} : { y: [p.slo_p99_ms] };
  return chartLines({ width, height, x, y, series: series(p, (pt) => pt.p99_ms), refs, bottom: { unit: 'offered req/s' } });
}

export function latencyLabel(p: CapacityPanel): string {
  const values = drawn(p).flatMap((l) => l.points.map((pt) => pt.p99_ms ?? NaN));
  const log = latencyScale(p.slo_p99_ms === null ? values : [...values, p.slo_p99_ms], 4).log;
  const slo = p.slo_p99_ms === null ? '' : `, ┄ SLO ${fmtMs(p.slo_p99_ms)}`;
  return ` p99 latency, ms${log ? ' (log scale)' : ''}, against offered req/s${slo} `;
}

export const ACHIEVED_LABEL = ' achieved req/s against offered req/s (· achieved = offered) ';

/** What the legend says of a server besides its name: knee, peak, what gave out, or why there is nothing yet. */
function figures(l: CapacityLine): string {
  if (l.no_generator) return 'no load generator';
  if (l.waiting) return l.waiting;
  const knee = l.knee_rps === null ? 'no knee yet' : `knee ${fmtRps(l.knee_rps)}`;
  return [knee, `peak ${fmtRps(l.peak_rps)}`, l.limited_by ?? ''].filter(Boolean).join(', ');
}

/**
 * A server's entry: its letter in its colour and its name, then its figures on the same line where they fit, on the
 * lines under it (`below`) where there is height for them, or cut.
 */
function legendEntry(l: CapacityLine, width: number, below: boolean): string[] {
  const nameW = Math.min(16, Math.max(8, width - 3));
  const rest = figures(l);
  const one = width - 3 - nameW - 1 >= rest.length;
  const letter = fg(serverColour(l.run), serverMark(l.run));
  const style = (line: string) => (l.current ? bold(line) : line);
  const head = `${l.current ? '>' : ' '}${letter} `;
  if (one) return [style(`${head}${esc(fit(l.server, nameW))} ${esc(rest)}`)];
  if (below) return [style(`${head}${esc(fit(l.server, width - 3).trimEnd())}`), ...wrapWords(rest, width, '   ', '   ').map((w) => style(esc(w)))];
  const room = width - 3 - nameW - 1;
  return [style(`${head}${esc(fit(l.server, nameW))}${room >= 6 ? ` ${esc(fit(rest, room).trimEnd())}` : ''}`)];
}

/** The legend, then the diagnosis of the cursor's server where there is room for it. */
export function legendLines(p: CapacityPanel, diagnosis: string | null, width: number, height: number): string[] {
  // The figures under each name where that leaves room for some of the diagnosis (or there is none to show).
  const below = p.lines.flatMap((l) => legendEntry(l, width, true));
  const lines = height >= below.length + (diagnosis ? 8 : 0) ? below : p.lines.flatMap((l) => legendEntry(l, width, false));
  if (diagnosis && height - lines.length >= 4) {
    const words = wrapWords(diagnosis, width, '', '');
    const room = height - lines.length - 1;
    const shown = words.length > room ? [...words.slice(0, room - 1), fit('... (srvlens report prints it whole)', width)] : words;
    lines.push('', ...shown.map(esc));
  }
  return lines.slice(0, height);
}
