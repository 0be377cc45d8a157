/**
 * A series as one line of block characters, newest at the right: the compact chart that stays readable at 80x24,
 * where a braille line chart has three rows to plot in.
 */
const LEVELS = '▁▂▃▄▅▆▇█';

/**
 * The last `width` values, each scaled from 0 to `max` (default: the largest shown), left-padded with spaces.
 * A missing value is a space, not the lowest bar: "not measured" is not "zero".
 */
export function sparkline(values: readonly (number | null)[], width: number, max?: number): string {
  if (width <= 0) return '';
  const shown = values.slice(-width);
  const top = max ?? Math.max(0, ...shown.map((v) => v ?? 0));
  const cells = shown.map((v) => {
    if (v === null || !Number.isFinite(v)) return ' ';
    if (top <= 0) return LEVELS[0];
    return LEVELS[Math.min(LEVELS.length - 1, Math.max(0, Math.round((v / top) * (LEVELS.length - 1))))];
  });
  return cells.join('').padStart(width);
}

/** Marks under a sparkline: `mark` where the flag is set, aligned with the same last `width` values. */
export function markLine(flags: readonly boolean[], width: number, mark = '!'): string {
  if (width <= 0) return '';
  return flags
    .slice(-width)
    .map((f) => (f ? mark : ' '))
    .join('')
    .padStart(width);
}
