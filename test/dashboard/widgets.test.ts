/** The text the widgets draw: sparklines, stacked bars, numbers with units. */
import { describe, expect, it } from 'vitest';
import { markLine, sparkline } from '../../dashboard/widgets/sparkline.js';
import { barCells, stackedBar } from '../../dashboard/widgets/stacked-bar.js';
import { fit, fmtMs, fmtPct, fmtRps, numIn } from '../../dashboard/widgets/format.js';
import Grid from 'blessed-contrib/lib/layout/grid.js';
import { textBox } from '../../dashboard/widgets/text-box.js';
import { fakeTerminal } from './fake-terminal.js';

describe('sparkline', () => {
  it('draws the newest values at the right on one scale, and a gap where nothing was measured', () => {
    expect(sparkline([0, 5, 10], 5)).toBe('  ▁▅█');
    expect(sparkline([0, 5, null, 10], 4, 20)).toBe('▁▃ ▅');
    expect(sparkline([1, 2, 3, 4, 5, 6], 3)).toBe('▆▇█');
    expect(markLine([true, false, true], 4)).toBe(' ! !');
  });
});

describe('stacked bar', () => {
  it('gives each part its share of the cells, adding up to the bar, on a shared scale', () => {
    expect(barCells([1, 1, 2], 8, 4)).toEqual([2, 2, 4]);
    expect(barCells([1, 1, 2], 8, 8)).toEqual([1, 1, 2]);
    const cells = barCells([0.3, 0.3, 0.4], 10, 1);
    expect(cells.reduce((s, c) => s + c, 0)).toBe(10);
    expect(barCells([0, 0], 10, 0)).toEqual([0, 0]);
  });

  it('writes one letter per cell on the part colour, padded to the width', () => {
    const bar = stackedBar([{ part: 'server_queue', ms: 1 }, { part: 'downstream', ms: 3 }], 8, 8);
    expect(bar).toBe('{black-fg}{light-yellow-bg}q{/light-yellow-bg}{/black-fg}{black-fg}{light-blue-bg}ddd{/light-blue-bg}{/black-fg}    ');
  });
});

describe('numbers', () => {
  it('carry their unit, as many digits as they deserve, and "-" when not measured', () => {
    expect([fmtMs(0.0554), fmtMs(8.3), fmtMs(38.72), fmtMs(612.4), fmtMs(null)]).toEqual(['0.055 ms', '8.30 ms', '38.7 ms', '612 ms', '-']);
    expect([fmtRps(599.9), fmtRps(2.25), fmtPct(0.651), fmtPct(0.024), fmtPct(0)]).toEqual(['600 req/s', '2.3 req/s', '65 %', '2.4 %', '0 %']);
    expect(numIn(-0.036, 5)).toBe('-0.04');
    expect(fit('server_queue', 6)).toBe('serve~');
    expect(fit('7', 3, 'right')).toBe('  7');
  });
});

describe('text box', () => {
  it("plain, draws what blessed draws of the same lines, its characters written onto the cells: braille, cut lines, and tabs or wide characters as blessed has them", () => {
    const term = fakeTerminal(80, 12);
    const grid = new Grid({ rows: 1, cols: 2, screen: term.screen });
    const plain = textBox(grid, [0, 0, 1, 1], true);
    const tagged = textBox(grid, [0, 1, 1, 1]);
    const inside = (left: number) => term.cells().slice(1, 11).map((row) => row.slice(left + 1, left + 39));
    const paint = { row: 0, col: 2, cols: 3, colours: ['red', '', 'green', 'blue'], backgrounds: ['', '', 'yellow', ''] };
    const written = ['⡇⠉⣀ ┊ 1.5k┤', '', `${'x'.repeat(50)}|`, ' └r25   r50'];
    // And back: blessed's content is emptied again.
    const cases = [written, ['a phase named\tr25', '段 2 cells, é combined', '⣿⣿'], written];
    for (const [i, lines] of cases.entries()) {
      plain.set(' l ', lines, [paint]);
      tagged.set(' l ', lines, [paint]);
      term.screen.render();
      expect(inside(0)).toEqual(inside(40));
      // The cells' own characters are written onto them (blessed holds no content for them); the others go through blessed.
      expect(plain.box.content === '').toBe(i !== 1);
    }
    term.screen.destroy();
  });
});
