/**
 * The Compare view: every server of the scenario at the cursor's phase, side by side. 12x12 grid:
 *
 *   rows 0-1   status | errors (as in the Run view)
 *   rows 2-7   per server: req/s, p99, CPU and context switches per request, the decomposition bar; the legend
 *   rows 8-11  per server: each part in ms per request
 */
import blessed from 'blessed';
import Grid from 'blessed-contrib/lib/layout/grid.js';
import type { Snapshot } from '../state/snapshot.js';
import { comparePanel } from '../panels/compare.js';
import { errorsPanel } from '../panels/errors.js';
import { phasePanel } from '../panels/phase.js';
import { textBox, type TextBox } from '../widgets/text-box.js';
import { borderColour } from '../widgets/tags.js';
import { errorLines, recentText, statusLabel, statusLines, windowText, type ScreenStatus } from './status-text.js';
import { compareLines, legendLines, partLines } from './compare-text.js';
import type { View } from './view.js';

export class CompareView implements View {
  readonly needs = { compare: true };
  private readonly root: blessed.Widgets.BoxElement;
  private readonly status: TextBox;
  private readonly errors: TextBox;
  private readonly table: TextBox;
  private readonly parts: TextBox;

  constructor(screen: blessed.Widgets.Screen) {
    this.root = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%' });
    const grid = new Grid({ rows: 12, cols: 12, screen: this.root, color: borderColour() });
    this.status = textBox(grid, [0, 0, 2, 9]);
    this.errors = textBox(grid, [0, 9, 2, 3]);
    this.table = textBox(grid, [2, 0, 6, 12]);
    this.parts = textBox(grid, [8, 0, 4, 12]);
  }

  show(): void {
    this.root.show();
  }

  hide(): void {
    this.root.hide();
  }

  update(s: Snapshot | null, state: ScreenStatus): void {
    const phase = s && phasePanel(s);
    this.status.set(statusLabel(state), statusLines(phase, state));
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
