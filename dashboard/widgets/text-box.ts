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
 * Whether blessed would draw `line` as it is, a character a cell: printable ASCII, the middle dot, box drawing and
 * braille, the charts' characters. Anything else (a tab, a wide or combining character in a phase name) goes
 * through blessed's content, which changes it.
 */
function cellSafe(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (!((c >= 0x20 && c <= 0x7e) || c === 0xb7 || (c >= 0x2500 && c <= 0x257f) || (c >= 0x2800 && c <= 0x28ff))) return false;
  }
  return true;
}

/**
 * `plain`: the content is plain text, no tags, its colours all painted (the charts). Its characters are written
 * onto the screen's cells at render, as the colours are, when blessed would draw them as they are (cellSafe): its
 * content is then empty, and blessed neither parses a 200x60 view's 9k characters of charts at each interval nor
 * reads their lines for escape codes at each render (the Over-time view's update, 1.9 ms, went to 1.5 ms here).
 * Tags were the first to go: parsing them took 2.8 ms of such a box against 1.6 ms without.
 */
export function textBox(grid: Grid, at: [row: number, col: number, rows: number, cols: number], plain = false): TextBox {
  const box = grid.set(at[0], at[1], at[2], at[3], blessed.box, { tags: !plain, wrap: false, label: '' });
  const width = () => Math.max(0, (box.width as number) - 2);
  const height = () => Math.max(0, (box.height as number) - 2);
  let painted: readonly CellPaint[] = [];
  /** A plain box's lines, to write onto the cells; empty when blessed draws them from its content. */
  let written: readonly string[] = [];
  box.on('render', (coords: { xi: number; xl: number; yi: number; yl: number } | undefined) => {
    if (!coords || (painted.length === 0 && written.length === 0)) return;
    const lines = (box.screen as unknown as { lines: ScreenLine[] }).lines;
    // Inside the border: one cell in from each edge.
    const x0 = coords.xi + 1;
    const y0 = coords.yi + 1;
    // Blessed has filled the inside with blanks in the box's own attributes: only the other characters are written.
    for (let r = 0; r < written.length && y0 + r < coords.yl - 1; r++) {
      const line = lines[y0 + r];
      if (!line) break;
      const text = written[r];
      const n = Math.min(text.length, coords.xl - 1 - x0);
      for (let c = 0; c < n; c++) {
        const ch = text[c];
        const cell = line[x0 + c];
        if (ch === ' ' || !cell || cell[1] === ch) continue;
        cell[1] = ch;
        line.dirty = true;
      }
    }
    for (const p of painted) {
      // Row by row, each cut at the border: a chart's paint is a whole plot, 3000 cells at 200 columns.
      const cols = Math.min(p.cols, coords.xl - 1 - x0 - p.col);
      for (let r = 0, i0 = 0; i0 < p.colours.length; r++, i0 += p.cols) {
        const y = y0 + p.row + r;
        if (y >= coords.yl - 1) break;
        const line = lines[y];
        if (!line) continue;
        for (let c = 0; c < cols; c++) {
          const name = p.colours[i0 + c];
          const bg = p.backgrounds?.[i0 + c];
          if (!name && !bg) continue;
          const cell = line[x0 + p.col + c];
          if (!cell) continue;
          // attr packs flags << 18 | fg << 9 | bg.
          if (name) cell[0] = (cell[0] & ~(0x1ff << 9)) | (codeOf(name) << 9);
          if (bg) cell[0] = (cell[0] & ~0x1ff) | codeOf(bg);
          line.dirty = true;
        }
      }
    }
  });
  /** The label as last set: setting it again clears and parses it again. */
  let labelled: string | null = null;
  return {
    box,
    width,
    height,
    set(label, lines, paints = []) {
      // The label sits on the top border: keep it within it, with room for the corners.
      const fitted = label.length > width() - 1 ? `${label.slice(0, Math.max(0, width() - 2))}~` : label;
      if (fitted !== labelled) box.setLabel(fitted);
      labelled = fitted;
      const shown = lines.slice(0, height());
      written = plain && shown.every(cellSafe) ? shown : [];
      const content = written.length ? '' : shown.join('\n');
      // Set again only when it changed: setContent clears the box's cells and parses the content anew.
      if (content !== box.content) box.setContent(content);
      painted = paints;
    },
  };
}
