/**
 * The one widget most panels need: a bordered box of tagged text lines, cut to its inner size. A chart's colours come
 * beside its text (`paints`): blessed draws the text, then each painted cell gets its foreground colour, in place, on
 * the screen's own cells (see braille.ts for why not tags).
 */
import blessed from 'blessed';
import type Grid from 'blessed-contrib/lib/layout/grid.js';

/**
 * Colours for a block of cells of the box's content: `colours` (foreground) row by row, `cols` a row, '' to leave a
 * cell be; `backgrounds` likewise, where a cell gets one (a part's letter on its colour).
 */
export interface CellPaint {
  row: number;
  col: number;
  cols: number;
  colours: readonly string[];
  backgrounds?: readonly string[];
}

/** A panel's text with the colours to paint over it. */
export interface Drawn {
  lines: string[];
  paints: CellPaint[];
}

export interface TextBox {
  box: blessed.Widgets.BoxElement;
  /** Inner size in cells (inside the border), as laid out for the current terminal size. */
  width(): number;
  height(): number;
  set(label: string, lines: readonly string[], paints?: readonly CellPaint[]): void;
}

type Cell = [number, string];
type ScreenLine = Cell[] & { dirty?: boolean };
const colourCodes = new Map<string, number>();
const codeOf = (name: string): number => {
  let c = colourCodes.get(name);
  if (c === undefined) {
    const n = (blessed as unknown as { colors: { convert(c: string): number } }).colors.convert(name);
    c = n === -1 ? 0x1ff : n;
    colourCodes.set(name, c);
  }
  return c;
};

/**
 * `plain`: the content is plain text, no tags, its colours all painted (the charts): blessed then skips parsing tags,
 * which halved drawing a 200x60 chart box (1.6 ms against 2.8 ms, content and render, measured here).
 */
export function textBox(grid: Grid, at: [row: number, col: number, rows: number, cols: number], plain = false): TextBox {
  const box = grid.set(at[0], at[1], at[2], at[3], blessed.box, { tags: !plain, wrap: false, label: '' });
  const width = () => Math.max(0, (box.width as number) - 2);
  const height = () => Math.max(0, (box.height as number) - 2);
  let painted: readonly CellPaint[] = [];
  box.on('render', (coords: { xi: number; xl: number; yi: number; yl: number } | undefined) => {
    if (!coords || painted.length === 0) return;
    const lines = (box.screen as unknown as { lines: ScreenLine[] }).lines;
    // Inside the border: one cell in from each edge.
    const x0 = coords.xi + 1;
    const y0 = coords.yi + 1;
    for (const p of painted) {
      for (let i = 0; i < p.colours.length; i++) {
        const name = p.colours[i];
        const bg = p.backgrounds?.[i];
        if (!name && !bg) continue;
        const y = y0 + p.row + Math.floor(i / p.cols);
        const x = x0 + p.col + (i % p.cols);
        if (y >= coords.yl - 1 || x >= coords.xl - 1) continue;
        const line = lines[y];
        const cell = line?.[x];
        if (!cell) continue;
        // attr packs flags << 18 | fg << 9 | bg.
        if (name) cell[0] = (cell[0] & ~(0x1ff << 9)) | (codeOf(name) << 9);
        if (bg) cell[0] = (cell[0] & ~0x1ff) | codeOf(bg);
        line.dirty = true;
      }
    }
  });
  return {
    box,
    width,
    height,
    set(label, lines, paints = []) {
      // The label sits on the top border: keep it within it, with room for the corners.
      box.setLabel(label.length > width() - 1 ? `${label.slice(0, Math.max(0, width() - 2))}~` : label);
      box.setContent(lines.slice(0, height()).join('\n'));
      painted = paints;
    },
  };
}
