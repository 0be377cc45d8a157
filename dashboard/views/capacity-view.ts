/**
 * The Capacity view (key k): every server's achieved rate and p99 against the offered load, a point per finished
 * phase, growing as phases end, live and in replay. 12x12 grid:
 *
 *   rows 0-1   status (as in the Run view)
 *   rows 2-6   achieved against offered, a line per server         | legend: each server's letter, knee, peak,
 *   rows 7-11  p99 against offered, a line per server, the SLO     |   what gave out; the cursor's diagnosis
 */
import type blessed from 'blessed';
import type { Snapshot } from '../state/snapshot.js';
import { capacityPanel } from '../panels/capacity.js';
import { textBox, type TextBox } from '../widgets/text-box.js';
import type { ScreenStatus } from './status-text.js';
import { ACHIEVED_LABEL, achievedLines, latencyLabel, latencyLines, legendLines } from './capacity-text.js';
import { GridView, showDrawn as show } from './view.js';

export class CapacityView extends GridView {
  readonly needs = { capacity: true, phase: false };
  private readonly achieved: TextBox;
  private readonly latency: TextBox;
  private readonly legend: TextBox;

  constructor(screen: blessed.Widgets.Screen) {
    super(screen);
    this.achieved = textBox(this.grid, [2, 0, 5, 9], true);
    this.latency = textBox(this.grid, [7, 0, 5, 9], true);
    this.legend = textBox(this.grid, [2, 9, 10, 3]);
  }

  update(s: Snapshot | null, state: ScreenStatus): void {
    this.drawStatus(s, state);
    if (!s?.capacity) return;
    const d = capacityPanel(s.capacity, s.cursor.run, s.timeline.slo?.p99_ms ?? null);
    show(this.achieved, ACHIEVED_LABEL, achievedLines(d, this.achieved.width(), this.achieved.height()));
    show(this.latency, latencyLabel(d), latencyLines(d, this.latency.width(), this.latency.height()));
    this.legend.set(' servers: knee, peak, what gave out ', legendLines(d, s.summary?.diagnosis ?? null, this.legend.width(), this.legend.height()));
  }
}
