/**
 * The Compare view: every server of the scenario at the cursor's phase, side by side. 12x12 grid:
 *
 *   rows 0-1   status | errors (as in the Run view)
 *   rows 2-7   per server: req/s, p99, CPU and context switches per request, the decomposition bar; the legend
 *   rows 8-11  per server: each part in ms per request
 */
import type blessed from 'blessed';
import type { Snapshot } from '../state/snapshot.js';
import { comparePanel } from '../panels/compare.js';
import { errorsPanel } from '../panels/errors.js';
import { textBox, type TextBox } from '../widgets/text-box.js';
import { errorLines, recentText, windowText, type ScreenStatus } from './status-text.js';
import { compareLines, legendLines, partLines } from './compare-text.js';
import { GridView } from './view.js';

export class CompareView extends GridView {
  readonly needs = { compare: true };
  private readonly errors: TextBox;
  private readonly table: TextBox;
  private readonly parts: TextBox;

  constructor(screen: blessed.Widgets.Screen) {
    super(screen, 9);
    this.errors = textBox(this.grid, [0, 9, 2, 3]);
    this.table = textBox(this.grid, [2, 0, 6, 12]);
    this.parts = textBox(this.grid, [8, 0, 4, 12]);
  }

  update(s: Snapshot | null, state: ScreenStatus): void {
    this.drawStatus(s, state);
    if (!s?.compare) return;
    const d = comparePanel(s.compare, s.cursor.run);
    const generator = d.measured_by === 'generator';
    this.errors.set(generator ? ' errors, phase ' : ' errors ', errorLines(errorsPanel({ frames: s.frames, phase: s.phase }, s.run), this.errors.width()));
    const width = this.table.width();
    const rows = compareLines(d, width);
    const legend = legendLines(width, d.rows.some((r) => r.generator_saturated));
    // The legend goes under the rows when there is room, else it gives way to them.
    const room = this.table.height() - rows.length;
    this.table.set(
      generator
        ? ` phase ${windowText(s.window, s.timeline.intervalMs)} for >; others: whole phase `
        : ` ${recentText(s.window, s.timeline.intervalMs)}, server side: req/s served, p99 of server time `,
      room > legend.length ? [...rows, '', ...legend] : room > 0 ? [...rows, ...legend.slice(0, room)] : rows,
    );
    this.parts.set(' where the time goes, ms/req ', partLines(d, this.parts.width()));
  }
}
