/** A horizontal stacked bar as blessed-tagged text: one run of cells per part, lengths on a shared scale. */
import { partMark } from './legend.js';
import type { PartName } from '../../src/vocabulary/index.js';

/**
 * Cells per part for a bar `width` cells long at full `scale`: largest-remainder rounding, so the cells add up to
 * the bar's rounded length and no part is over- or under-drawn by more than half a cell.
 */
export function barCells(values: readonly number[], width: number, scale: number): number[] {
  const total = values.reduce((s, v) => s + v, 0);
  if (scale <= 0 || total <= 0 || width <= 0) return values.map(() => 0);
  const exact = values.map((v) => (v / scale) * width);
  const cells = exact.map(Math.floor);
  let left = Math.min(width, Math.round((total / scale) * width)) - cells.reduce((s, c) => s + c, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    cells[i]++;
    left--;
  }
  return cells;
}

/** The bar as tagged text `width` columns wide (padded with spaces). */
export function stackedBar(parts: readonly { part: PartName; ms: number }[], width: number, scale: number): string {
  const cells = barCells(
    parts.map((p) => p.ms),
    width,
    scale,
  );
  let out = '';
  let used = 0;
  parts.forEach((p, i) => {
    if (cells[i] === 0) return;
    out += partMark(p.part, cells[i]);
    used += cells[i];
  });
  return out + ' '.repeat(Math.max(0, width - used));
}
