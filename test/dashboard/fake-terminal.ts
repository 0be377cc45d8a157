/**
 * A terminal made of two in-memory streams (PLATFORM.md, "Terminal UI without a terminal"): blessed draws into it,
 * tests type into it and read back what a user would see, character by character and colour by colour.
 */
import { PassThrough } from 'node:stream';
import type blessed from 'blessed';
import { createScreen } from '../../dashboard/screen.js';

/** What the keys send, as a terminal in xterm mode sends them. */
export const KEY = { right: '\x1b[C', left: '\x1b[D', home: '\x1b[H', end: '\x1b[F', tab: '\t', space: ' ', ctrlC: '\x03' } as const;

export interface FakeTerminal {
  input: PassThrough & { isTTY: true; setRawMode(): void };
  output: PassThrough & { isTTY: true; columns: number; rows: number };
  screen: blessed.Widgets.Screen;
  /** The screen's characters, a line per row. */
  text(): string;
  /** blessed's cells, row by row, each [attr, ch]: attr packs flags << 18 | fg << 9 | bg. */
  cells(): [number, string][][];
  /** Background colour (terminal palette index) of the first cell showing `ch` on the row that contains `rowText`. */
  cellColours(rowText: string, ch: string): { fg: number; bg: number } | null;
  press(key: string): void;
  resize(columns: number, rows: number): void;
}

export function fakeTerminal(columns: number, rows: number): FakeTerminal {
  const output = Object.assign(new PassThrough(), { isTTY: true as const, columns, rows, getWindowSize: () => [output.columns, output.rows] });
  output.resume();
  const input = Object.assign(new PassThrough(), { isTTY: true as const, setRawMode() {} });
  const screen = createScreen({ input, output, terminal: 'xterm-256color' });
  const lines = () => (screen as unknown as { lines: [number, string][][] }).lines;
  return {
    input,
    output,
    screen,
    cells: lines,
    text: () => lines().map((r) => r.map((c) => c[1]).join('')).join('\n'),
    cellColours(rowText, ch) {
      const row = lines().find((r) => r.map((c) => c[1]).join('').includes(rowText));
      const cell = row?.find((c) => c[1] === ch);
      return cell ? { fg: (cell[0] >> 9) & 0x1ff, bg: cell[0] & 0x1ff } : null;
    },
    press: (key) => input.write(key),
    resize(c, r) {
      output.columns = c;
      output.rows = r;
      output.emit('resize');
    },
  };
}

/** Waits until `check` holds, re-checking as the event loop turns; the message says what never happened. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
