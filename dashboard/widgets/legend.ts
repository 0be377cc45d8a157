/** Legends: a part's letter on its colour, then text, entries flowing over as many lines as the width needs. */
import { PART_STYLE, type PartName } from '../../src/vocabulary/index.js';
import { colour } from './tags.js';

/** The part's letter on its colour, as in the bars; the letter alone without colour (NO_COLOR). */
export function partMark(part: PartName, cells = 1): string {
  const { mark, bg } = PART_STYLE[part];
  return colour.on ? `{black-fg}{${bg}-bg}${mark.repeat(cells)}{/${bg}-bg}{/black-fg}` : mark.repeat(cells);
}

export interface LegendItem {
  /** The part whose mark leads the entry, or null for an entry of plain (already tagged) text. */
  part: PartName | null;
  /** Plain text: its length is the entry's width. */
  text: string;
  /** Tagged form of `text`, when it differs. */
  tagged?: string;
}

export function flow(items: readonly LegendItem[], width: number, gap: number): string[] {
  const out: string[] = [];
  let line = '';
  let used = 0;
  for (const it of items) {
    const w = (it.part ? 2 : 0) + it.text.length;
    if (used > 0 && used + gap + w > width) {
      out.push(line);
      line = '';
      used = 0;
    }
    line += (used > 0 ? ' '.repeat(gap) : '') + (it.part ? `${partMark(it.part)} ` : '') + (it.tagged ?? it.text);
    used += (used > 0 ? gap : 0) + w;
  }
  if (line) out.push(line);
  return out;
}
