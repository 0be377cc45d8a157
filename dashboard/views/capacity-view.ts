/**
 * The Capacity view (key k): every server's achieved rate and p99 against the offered load, a point per finished
 * phase, growing as phases end, live and in replay. 12x12 grid:
 *
 *   rows 0-1   status (as in the Run view)
 *   rows 2-6   achieved against offered, a line per server         | legend: each server's letter, knee, peak,
 *   rows 7-11  p99 against offered, a line per server, the SLO     |   what gave out; the cursor's diagnosis
 */
import blessed from 'blessed';
import Grid from 'blessed-contrib/lib/layout/grid.js';
import type { Snapshot } from '../state/snapshot.js';
import { capacityPanel } from '../panels/capacity.js';
import { phasePanel } from '../panels/phase.js';
import { textBox, type TextBox } from '../widgets/text-box.js';
import { borderColour } from '../widgets/tags.js';
import { statusLabel, statusLines, type ScreenStatus } from './status-text.js';
import { ACHIEVED_LABEL, achievedLines, latencyLabel, latencyLines, legendLines } from './capacity-text.js';
import type { View } from './view.js';
import type { Drawn } from '../widgets/text-box.js';

export class CapacityView implements View {
  readonly needs = { capacity: true, phase: false };
  private readonly root: blessed.Widgets.BoxElement;
  private readonly status: TextBox;
  private readonly achieved: TextBox;
  private readonly latency: TextBox;
  private readonly legend: TextBox;

  constructor(screen: blessed.Widgets.Screen) {
    this.root = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%' });
    const grid = new Grid({ rows: 12, cols: 12, screen: this.root, color: borderColour() });
    this.status = textBox(grid, [0, 0, 2, 12]);
    this.achieved = textBox(grid, [2, 0, 5, 9], true);
    this.latency = textBox(grid, [7, 0, 5, 9], true);
    this.legend = textBox(grid, [2, 9, 10, 3]);
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
    if (!s?.capacity) return;
    const d = capacityPanel(s.capacity, s.cursor.run, s.timeline.slo?.p99_ms ?? null);
    show(this.achieved, ACHIEVED_LABEL, achievedLines(d, this.achieved.width(), this.achieved.height()));
    show(this.latency, latencyLabel(d), latencyLines(d, this.latency.width(), this.latency.height()));
    this.legend.set(' servers: knee, peak, what gave out ', legendLines(d, s.summary?.diagnosis ?? null, this.legend.width(), this.legend.height()));
  }
}

const show = (box: TextBox, label: string, d: Drawn) => box.set(label, d.lines, d.paints);
