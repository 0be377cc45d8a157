/**
 * Lines drawn in braille cells: each terminal cell is 2 x 4 dots (U+2800 + a bit per dot), so a 60-column chart has
 * 120 dots across. Our own rather than blessed-contrib's `line` (drawille): it sizes to its box at every render
 * (contrib's canvas takes its size once, when attached), keeps one colour per cell, puts letters over the dots where a
 * series must read without colour (NO_COLOR), and hands its text and its colours over apart: the text as plain
 * characters, the colours painted onto the cells after blessed has drawn them (text-box.ts), since parsing a colour
 * tag per run of cells was most of a frame (a 200x60 Over-time view: 5.2 ms of tags against 1.4 ms of drawing).
 * bench/dashboard-render.ts times it against contrib's line.
 */

/** The dot bit of (x % 2, y % 4) within a cell, as the braille block numbers its dots. */
const BITS = [
  [0x01, 0x02, 0x04, 0x40],
  [0x08, 0x10, 0x20, 0x80],
];

export class BrailleCanvas {
  /** Dots across and down. */
  readonly width: number;
  readonly height: number;
  private readonly bits: Uint8Array;
  /** Per cell: the colour of the series that drew last in it, '' for none. */
  private readonly colours: string[];
  /** Per cell: a character over the dots (a series' letter, a label), with its colour; or under them (`faint`). */
  private readonly text: (string | null)[];
  private readonly textColours: string[];
  private readonly faint: (string | null)[];

  constructor(
    readonly cols: number,
    readonly rows: number,
  ) {
    this.cols = Math.max(0, Math.floor(cols));
    this.rows = Math.max(0, Math.floor(rows));
    this.width = this.cols * 2;
    this.height = this.rows * 4;
    const n = this.cols * this.rows;
    this.bits = new Uint8Array(n);
    this.colours = new Array<string>(n).fill('');
    this.text = new Array<string | null>(n).fill(null);
    this.textColours = new Array<string>(n).fill('');
    this.faint = new Array<string | null>(n).fill(null);
  }

  /** A dot at (x, y), y downwards from the top; outside the canvas it is left out. */
  dot(x: number, y: number, colour = ''): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const cell = (yi >> 2) * this.cols + (xi >> 1);
    this.bits[cell] |= BITS[xi & 1][yi & 3];
    if (colour) this.colours[cell] = colour;
  }

  /** A straight line of dots between two points (Bresenham), clipped to the canvas. */
  line(x0: number, y0: number, x1: number, y1: number, colour = ''): void {
    let x = Math.round(x0);
    let y = Math.round(y0);
    const xe = Math.round(x1);
    const ye = Math.round(y1);
    // Far outside (an axis too small for a value): clamp, so that a wild value costs no long walk.
    if (Math.abs(x - xe) + Math.abs(y - ye) > 4 * (this.width + this.height)) return;
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.dot(x, y, colour);
      if (x === xe && y === ye) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  /** Text over the dots from cell (col, row), cut at the canvas's edge. */
  label(col: number, row: number, text: string, colour = ''): void {
    if (row < 0 || row >= this.rows) return;
    for (let i = 0; i < text.length; i++) {
      const c = col + i;
      if (c < 0 || c >= this.cols) continue;
      this.text[row * this.cols + c] = text[i];
      this.textColours[row * this.cols + c] = colour;
    }
  }

  /** A character shown only where nothing else is drawn in its cell: a grid line, a phase boundary. */
  under(col: number, row: number, ch: string): void {
    if (row < 0 || row >= this.rows || col < 0 || col >= this.cols) return;
    this.faint[row * this.cols + col] = ch;
  }

  /** The canvas as `rows` lines of `cols` plain characters (dots, letters, faint marks). */
  plainLines(): string[] {
    const out: string[] = [];
    const codes = new Array<number>(this.cols);
    for (let r = 0; r < this.rows; r++) {
      for (let c = 0; c < this.cols; c++) {
        const i = r * this.cols + c;
        const t = this.text[i] ?? (this.bits[i] ? null : this.faint[i]);
        codes[c] = t ? t.charCodeAt(0) : this.bits[i] ? 0x2800 + this.bits[i] : 32;
      }
      out.push(String.fromCharCode(...codes));
    }
    return out;
  }

  /** Each cell's colour, row by row ('' where nothing coloured is drawn). */
  cellColours(): string[] {
    return this.colours.map((c, i) => (this.text[i] !== null ? this.textColours[i] : this.bits[i] ? c : ''));
  }
}
