/**
 * A line chart as plain text with its colours beside it: y tick labels in a gutter on the left, the series in
 * braille (braille.ts), and a bottom row with the x axis's ticks and unit, or labels at given x values (phase
 * names). Pure: a spec in, lines out, sized to whatever box it is given at this render. For a box without tags
 * (text-box.ts, `plain`): nothing is escaped.
 */
import { BrailleCanvas } from './braille.js';
import { positionOn, tickLabel, type Scale } from './scale.js';
import { colour } from './tags.js';
import type { CellPaint, Drawn } from './text-box.js';

export interface ChartSeries {
  xs: readonly number[];
  /** NaN: not measured there, a gap in the line. */
  ys: readonly number[];
  /** A blessed colour name. */
  colour: string;
  /** The series' letter: drawn at every point (`markPoints`) or at its last one, so it reads without colour. */
  mark: string | null;
  markPoints?: boolean;
}

export interface ChartSpec {
  /** Cells, the whole chart: gutter, plot and bottom row. */
  width: number;
  height: number;
  x: Scale;
  y: Scale;
  series: readonly ChartSeries[];
  /** x values where something changes (phase boundaries): a dotted line under the data. */
  marks?: readonly number[];
  /** Horizontal reference lines (an SLO's p99) and the diagonal y = x (achieved = offered), under the data. */
  refs?: { y?: readonly number[]; diagonal?: boolean };
  /** x values to flag with a red `!` along the top row: intervals in which the generator could not keep up. */
  flags?: readonly number[];
  /** The bottom row: the x axis's ticks followed by its unit, or texts at x values. */
  bottom: { unit: string } | { labels: readonly { x: number; text: string }[] };
}

/** At least this many columns and rows of plot, or the chart says it has no room rather than draw nonsense. */
const MIN_PLOT = { cols: 8, rows: 2 };

/** The chart's text (plain, escaped) and the colours to paint over its plot (none without colour). */
export function chartLines(spec: ChartSpec): Drawn {
  const tickTexts = spec.y.ticks.map(tickLabel);
  const gutter = Math.max(...tickTexts.map((t) => t.length), 1) + 1;
  const cols = spec.width - gutter;
  const rows = spec.height - 1;
  if (cols < MIN_PLOT.cols || rows < MIN_PLOT.rows) return { lines: ['(no room for the chart at this size)'.slice(0, Math.max(0, spec.width))], paints: [] };
  const canvas = new BrailleCanvas(cols, rows);
  const px = positionOn(spec.x);
  const py = positionOn(spec.y);
  const dotX = (v: number) => px(v) * (canvas.width - 1);
  const dotY = (v: number) => (1 - py(v)) * (canvas.height - 1);

  for (const m of spec.marks ?? []) {
    const col = Math.round(dotX(m)) >> 1;
    for (let r = 0; r < rows; r++) canvas.under(col, r, '┊');
  }
  for (const v of spec.refs?.y ?? []) {
    const row = Math.round(dotY(v)) >> 2;
    if (Number.isFinite(row)) for (let c = 0; c < cols; c++) canvas.under(c, row, '┄');
  }
  if (spec.refs?.diagonal) {
    for (let c = 0; c < cols; c++) {
      const x = spec.x.min + ((spec.x.max - spec.x.min) * (2 * c + 0.5)) / Math.max(1, canvas.width - 1);
      const row = Math.round(dotY(x)) >> 2;
      if (row >= 0 && row < rows) canvas.under(c, row, '·');
    }
  }
  for (const s of spec.series) {
    // The previous point and the last drawn, as numbers rather than pairs: a chart has thousands of points.
    let joined = false;
    let drew = false;
    let prevX = 0;
    let prevY = 0;
    for (let i = 0; i < s.xs.length; i++) {
      const y = s.ys[i];
      const dy = Number.isFinite(y) ? dotY(y) : NaN;
      if (!Number.isFinite(dy)) {
        joined = false;
        continue;
      }
      const dx = dotX(s.xs[i]);
      if (joined) canvas.line(prevX, prevY, dx, dy, s.colour);
      else canvas.dot(dx, dy, s.colour);
      prevX = dx;
      prevY = dy;
      joined = drew = true;
    }
    if (!s.mark) continue;
    if (s.markPoints) {
      for (let i = 0; i < s.xs.length; i++) {
        if (Number.isFinite(s.ys[i])) canvas.label(Math.round(dotX(s.xs[i])) >> 1, Math.round(dotY(s.ys[i])) >> 2, s.mark, s.colour);
      }
    } else if (drew) canvas.label(Math.round(prevX) >> 1, Math.round(prevY) >> 2, s.mark, s.colour);
  }

  for (const f of spec.flags ?? []) canvas.label(Math.round(dotX(f)) >> 1, 0, '!', 'red');

  // Each tick's label on the row its value falls in; two in one row: the higher value's.
  const labels = new Array<string>(rows).fill('');
  spec.y.ticks.forEach((t, i) => {
    const row = Math.round(dotY(t)) >> 2;
    if (row >= 0 && row < rows) labels[row] = tickTexts[i];
  });
  const plot = canvas.plainLines().map((l, r) => `${labels[r].padStart(gutter - 1)}${labels[r] ? '┤' : '│'}${l}`);
  const paint: CellPaint = { row: 0, col: gutter, cols, colours: canvas.cellColours() };
  return { lines: [...plot, ' '.repeat(gutter - 1) + '└' + bottomRow(spec, cols, (v) => Math.round(dotX(v)) >> 1)], paints: colour.on ? [paint] : [] };
}

/** `drawn` under `lines` lines of something else: its paints moved down with it. */
export function below(lines: readonly string[], drawn: Drawn): Drawn {
  return { lines: [...lines, ...drawn.lines], paints: drawn.paints.map((p) => ({ ...p, row: p.row + lines.length })) };
}

/** The bottom row's text, `cols` wide: labels centred on their column where they do not run into each other. */
function bottomRow(spec: ChartSpec, cols: number, colOf: (v: number) => number): string {
  const row = new Array<string>(cols).fill(' ');
  const unit = 'unit' in spec.bottom ? ` ${spec.bottom.unit}` : '';
  const room = cols - unit.length;
  const items = 'unit' in spec.bottom ? spec.x.ticks.map((t) => ({ x: t, text: tickLabel(t) })) : spec.bottom.labels;
  let free = 0;
  for (const it of items) {
    // Tick values centred on their column; names (of phases) begin at theirs.
    const at = Math.max(free, Math.min(room - it.text.length, colOf(it.x) - ('unit' in spec.bottom ? Math.floor(it.text.length / 2) : 0)));
    if (at < free || at + it.text.length > room) continue;
    for (let i = 0; i < it.text.length; i++) row[at + i] = it.text[i];
    free = at + it.text.length + 1;
  }
  for (let i = 0; i < unit.length && room + i < cols; i++) if (room + i >= 0) row[room + i] = unit[i];
  return row.join('');
}
