/**
 * Numbers as the dashboard prints them: always with their unit, with as many digits as the magnitude deserves
 * (a 0.055 ms parse and a 38.7 ms p99 in the same panel), and "-" for a figure that was not measured (never 0).
 */

const NOT_MEASURED = '-';

/** Three significant digits or so, never exponent notation: 0.055, 8.30, 38.7, 612. */
export function num(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 1) return v.toFixed(3);
  if (a < 10) return v.toFixed(2);
  if (a < 100) return v.toFixed(1);
  return v.toFixed(0);
}

/** `num`, with fewer decimals where it must fit `width` columns (a table's cell): -0.036 is -0.04 in five. */
export function numIn(v: number, width: number): string {
  let text = num(v);
  for (let digits = 2; text.length > width && digits >= 0; digits--) text = v.toFixed(digits);
  return text;
}

const withUnit = (v: number | null | undefined, unit: string, digits?: number) =>
  v === null || v === undefined || !Number.isFinite(v) ? NOT_MEASURED : `${digits === undefined ? num(v) : v.toFixed(digits)} ${unit}`;

export const fmtMs = (v: number | null | undefined) => withUnit(v, 'ms');
/** Whole requests per second from 10 up: a tenth of a request per second is noise at that rate. */
export const fmtRps = (v: number | null | undefined) => withUnit(v, 'req/s', v !== null && v !== undefined && Math.abs(v) >= 10 ? 0 : 1);
/** A share (0..1) as a percentage: one decimal below 10 %, whole percents above (a tenth of 65 % is noise). */
export function fmtPct(share: number | null | undefined): string {
  if (share === null || share === undefined) return NOT_MEASURED;
  if (share === 0) return '0 %';
  return withUnit(share * 100, '%', Math.abs(share) < 0.1 ? 1 : 0);
}
export const fmtPerReq = (v: number | null | undefined) => withUnit(v, '/req');
export const fmtMsPerReq = (v: number | null | undefined) => withUnit(v, 'ms/req');
/** Seconds to a tenth: intervals are 100 ms at the finest. */
export const fmtSeconds = (v: number) => `${Number(v.toFixed(1))} s`;

export function fmtBytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return NOT_MEASURED;
  if (v >= 2 ** 30) return `${num(v / 2 ** 30)} GiB`;
  if (v >= 2 ** 20) return `${num(v / 2 ** 20)} MiB`;
  return `${num(v / 2 ** 10)} KiB`;
}

/** A count with its noun, singular or plural: "1 error", "0 errors". */
export const count = (n: number, noun: string, plural = `${noun}s`) => `${n} ${n === 1 ? noun : plural}`;

/** Pads or cuts plain text (no tags) to exactly `width` columns. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? text.slice(0, 1) : `${text.slice(0, width - 1)}~`;
  return align === 'left' ? text.padEnd(width) : text.padStart(width);
}

/** Lines of at most `width` columns, broken between words: the first starts with `first`, the others with `indent`. */
export function wrapWords(text: string, width: number, indent = '  ', first = ''): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : first + word;
  }
  if (line) out.push(line);
  return out;
}
