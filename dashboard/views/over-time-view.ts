/**
 * The Over-time view (key t): the cursor's server from its first interval to the cursor, as lines: throughput,
 * p99, and where the time goes part by part, with the phase boundaries marked. 12x12 grid:
 *
 *   rows 0-1   status (as in the Run view)
 *   rows 2-4   throughput: offered and achieved, req/s; the phases named where they begin
 *   rows 5-7   p99 latency, ms
 *   rows 8-11  the parts, ms per request, one line each in its colour and letter
 */
import blessed from 'blessed';
import Grid from 'blessed-contrib/lib/layout/grid.js';
import type { Snapshot } from '../state/snapshot.js';
import { overTimePanel } from '../panels/over-time.js';
import { phasePanel } from '../panels/phase.js';
import { textBox, type TextBox } from '../widgets/text-box.js';
import { borderColour } from '../widgets/tags.js';
import { statusLabel, statusLines, type ScreenStatus } from './status-text.js';
import { latencyLabel, latencyLines, partsLabel, partsLines, throughputLabel, throughputLines } from './over-time-text.js';
import type { View } from './view.js';
import type { Drawn } from '../widgets/text-box.js';

export class OverTimeView implements View {
  readonly needs = { series: true, phase: false };
  private readonly root: blessed.Widgets.BoxElement;
  private readonly status: TextBox;
  private readonly throughput: TextBox;
  private readonly latency: TextBox;
  private readonly parts: TextBox;

  constructor(screen: blessed.Widgets.Screen) {
    this.root = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%' });
    const grid = new Grid({ rows: 12, cols: 12, screen: this.root, color: borderColour() });
    this.status = textBox(grid, [0, 0, 2, 12]);
    this.throughput = textBox(grid, [2, 0, 3, 12], true);
    this.latency = textBox(grid, [5, 0, 3, 12], true);
    this.parts = textBox(grid, [8, 0, 4, 12], true);
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
    if (!s?.series) return;
    // Two points per column: the braille dots across the chart (less the y axis's labels, about 6 columns).
    const d = overTimePanel(s.series, s.run.spans, s.timeline.intervalMs, s.cursor.pos + 1, 2 * this.throughput.width());
    show(this.throughput, throughputLabel(d), throughputLines(d, this.throughput.width(), this.throughput.height()));
    show(this.latency, latencyLabel(d), latencyLines(d, this.latency.width(), this.latency.height()));
    show(this.parts, partsLabel(d), partsLines(d, this.parts.width(), this.parts.height()));
  }
}

const show = (box: TextBox, label: string, d: Drawn) => box.set(label, d.lines, d.paints);
