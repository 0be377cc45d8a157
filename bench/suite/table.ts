/** The suite's table, pure: plain text for stdout, Markdown for the README, from the same cells. */
import type { Figure, Target } from './figures.js';

const HEADINGS = ['bench', 'figure', 'median', 'spread (n)', 'target', 'verdict', 'note'];

/** Three significant figures or so, thousands grouped; a missing figure is '-'. */
export function formatNumber(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

function targetText(t: Target | null, unit: string): string {
  if (t === null) return '-';
  const value = `${t.op} ${formatNumber(t.value)} ${unit}`;
  return t.against ? `${value} (${t.against})` : value;
}

function cells(f: Figure): string[] {
  const spread = f.n >= 2 ? `${formatNumber(f.low)}..${formatNumber(f.high)} (${f.n})` : f.n === 1 ? '(1)' : '-';
  return [
    f.bench,
    f.name,
    f.median === null ? '-' : `${formatNumber(f.median)} ${f.unit}`,
    spread,
    targetText(f.target, f.unit),
    f.verdict,
    f.note ?? '',
  ];
}

/** Columns padded to their widest cell; the note column last and unpadded. */
export function textTable(figures: readonly Figure[]): string {
  const rows = [HEADINGS, ...figures.map(cells)];
  const widths = HEADINGS.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

const escapeCell = (s: string): string => s.replace(/\|/g, '\\|');

export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map(cells);
  return [
    `| ${HEADINGS.join(' | ')} |`,
    `|${HEADINGS.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(escapeCell).join(' | ')} |`),
  ].join('\n') + '\n';
}

/** How many figures met, missed, had no target, were not run. */
export function tally(figures: readonly Figure[]): string {
  const count = (v: Figure['verdict']) => figures.filter((f) => f.verdict === v).length;
  return `${count('met')} met, ${count('MISSED')} MISSED, ${count('not run')} not run, ${count('no target')} without a target`;
}
