/**
 * Lines drawn in braille cells: each terminal cell is 2 x 4 dots (U+2800 + a bit per dot), so a 60-column chart has
 * 120 dots across. Our own rather than blessed-contrib's `line` (drawille): it sizes to its box at every render
 * (contrib's canvas takes its size once, when attached), keeps one colour per cell, puts letters over the dots where a
 * series must read without colour (NO_COLOR), and hands its text and its colours over apart: the text as plain
 * characters, the colours painted onto the cells after blessed has drawn them (text-box.ts), since parsing a colour
 * tag per run of cells was most of a frame (a 200x60 Over-time view: 5.2 ms of tags against 1.4 ms of drawing).
 * bench/dashboard-render.ts times it against contrib's line.
 */

/** The dot bit of (x % 2, y % 4) within a cell, as the braille block numbers its dots: BITS[(x & 1) * 4 + (y & 3)]. */
const BITS = [0x01, 0x02, 0x04, 0x40, 0x08, 0x10, 0x20, 0x80];

/**
 * The canvas keeps numbers per cell, not strings: characters as char codes (0: none) and colours as indices into
 * its own palette (0: none). A 200x60 Over-time view makes three canvases of 3000 cells at each render: arrays of
 * strings filled and read per cell took 0.16 ms of the parts chart's 0.6 ms, typed arrays 0.07 ms.
 */
export class BrailleCanvas {
  /** Dots across and down. */
  readonly width: number;
  readonly height: number;
  private readonly bits: Uint8Array;
  /** Per cell: the colour of the series that drew last in it. */
  private readonly colours: Uint16Array;
  /** Per cell: a character over the dots (a series' letter, a label), with its colour; or under them (`faint`). */
  private readonly text: Uint16Array;
  private readonly textColours: Uint16Array;
  private readonly faint: Uint16Array;
  /** Colour names by index; '' at 0. */
  private readonly palette: string[] = [''];
  private readonly paletteIndex = new Map<string, number>([['', 0]]);

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
    this.colours = new Uint16Array(n);
    this.text = new Uint16Array(n);
    this.textColours = new Uint16Array(n);
    this.faint = new Uint16Array(n);
  }

  private colourIndex(colour: string): number {
    let i = this.paletteIndex.get(colour);
    if (i === undefined) {
      i = this.palette.push(colour) - 1;
      this.paletteIndex.set(colour, i);
    }
    return i;
  }

  /** A dot at (x, y), y downwards from the top; outside the canvas it is left out. */
  dot(x: number, y: number, colour = ''): void {
    this.plot(Math.round(x), Math.round(y), colour ? this.colourIndex(colour) : 0);
  }

  /** `dot` at whole dots, its colour an index. */
  private plot(xi: number, yi: number, colour: number): void {
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const cell = (yi >> 2) * this.cols + (xi >> 1);
    this.bits[cell] |= BITS[(xi & 1) * 4 + (yi & 3)];
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
    const c = colour ? this.colourIndex(colour) : 0;
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.plot(x, y, c);
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
    const c = this.colourIndex(colour);
    for (let i = 0; i < text.length; i++) {
      const at = col + i;
      if (at < 0 || at >= this.cols) continue;
      this.text[row * this.cols + at] = text.charCodeAt(i);
      this.textColours[row * this.cols + at] = c;
    }
  }

  /** A character shown only where nothing else is drawn in its cell: a grid line, a phase boundary. */
  under(col: number, row: number, ch: string): void {
    if (row < 0 || row >= this.rows || col < 0 || col >= this.cols) return;
    this.faint[row * this.cols + col] = ch.charCodeAt(0);
  }

  /** The canvas as `rows` lines of `cols` plain characters (dots, letters, faint marks). */
  plainLines(): string[] {
    const out: string[] = [];
    const codes = new Array<number>(this.cols);
    for (let r = 0; r < this.rows; r++) {
      for (let c = 0; c < this.cols; c++) {
        const i = r * this.cols + c;
        const bits = this.bits[i];
        codes[c] = this.text[i] || (bits ? 0x2800 + bits : this.faint[i] || 32);
      }
      out.push(String.fromCharCode(...codes));
    }
    return out;
  }

  /** Each cell's colour, row by row ('' where nothing coloured is drawn). */
  cellColours(): string[] {
    const out = new Array<string>(this.bits.length);
    for (let i = 0; i < out.length; i++) out[i] = this.palette[this.text[i] ? this.textColours[i] : this.bits[i] ? this.colours[i] : 0];
    return out;
  }
}
