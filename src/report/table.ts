/** How the text reports lay out: a table with a header and a rule, and words wrapped to a width. */

/**
 * Columns padded to their widest cell, the first (and those in `left`) to the left and the rest to the right,
 * joined by `sep`; null cells read '-'.
 */
export function table(head: string[], rows: (string | number | null)[][], opts: { sep?: string; left?: readonly number[] } = {}): string {
  const sep = opts.sep ?? '  ';
  const left = new Set([0, ...(opts.left ?? [])]);
  const cells = [head, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const width = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (left.has(i) ? c.padEnd(width[i]) : c.padStart(width[i]))).join(sep).trimEnd();
  return [line(cells[0]), line(width.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

/** Words wrapped to `width` columns; lines after the first start with `indent`. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}
