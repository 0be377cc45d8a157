/**
 * The Over-time view (key t): the cursor's server from its first interval to the cursor, as lines: throughput,
 * p99, and where the time goes part by part, with the phase boundaries marked. 12x12 grid:
 *
 *   rows 0-1   status (as in the Run view)
 *   rows 2-4   throughput: offered and achieved, req/s; the phases named where they begin
 *   rows 5-7   p99 latency, ms
 *   rows 8-11  the parts, ms per request, one line each in its colour and letter
 */
import type blessed from 'blessed';
import type { Snapshot } from '../state/snapshot.js';
import { OverTimePoints } from '../panels/over-time.js';
import { textBox, type TextBox } from '../widgets/text-box.js';
import type { ScreenStatus } from './status-text.js';
import { latencyLabel, latencyLines, partsLabel, partsLines, throughputLabel, throughputLines } from './over-time-text.js';
import { GridView, showDrawn as show } from './view.js';

export class OverTimeView extends GridView {
  readonly needs = { series: true, phase: false };
  private readonly throughput: TextBox;
  private readonly latency: TextBox;
  private readonly parts: TextBox;
  private readonly points = new OverTimePoints();

  constructor(screen: blessed.Widgets.Screen) {
    super(screen);
    this.throughput = textBox(this.grid, [2, 0, 3, 12], true);
    this.latency = textBox(this.grid, [5, 0, 3, 12], true);
    this.parts = textBox(this.grid, [8, 0, 4, 12], true);
  }

  update(s: Snapshot | null, state: ScreenStatus): void {
    this.drawStatus(s, state);
    if (!s?.series) return;
    // Two points per column: the braille dots across the chart (less the y axis's labels, about 6 columns).
    const d = this.points.panel(s.series, s.run.spans, s.timeline.intervalMs, s.cursor.pos + 1, 2 * this.throughput.width());
    show(this.throughput, throughputLabel(d), throughputLines(d, this.throughput.width(), this.throughput.height()));
    show(this.latency, latencyLabel(d), latencyLines(d, this.latency.width(), this.latency.height()));
    show(this.parts, partsLabel(d), partsLines(d, this.parts.width(), this.parts.height()));
  }
}
