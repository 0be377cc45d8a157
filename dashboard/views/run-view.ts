/**
 * The Run view: one server at the cursor. Layout on a 12x12 grid, sized for 80x24 first (each grid row is then
 * two lines, so a bordered panel of two rows has two lines of text):
 *
 *   rows 0-1   status (server, phase, playback) | errors
 *   rows 2-4   throughput offered vs achieved   | latency p50/p99, generator saturation
 *   rows 5-7   where the time goes (the parts, stacked)
 *   rows 8-11  contexts: CPU, run queue, blocked | queues | context switches / event loop
 */
import blessed from 'blessed';
import Grid from 'blessed-contrib/lib/layout/grid.js';
import type { Snapshot } from '../snapshot.js';
import type { PanelInput } from '../panels/input.js';
import { throughputPanel } from '../panels/throughput.js';
import { latencyPanel } from '../panels/latency.js';
import { decompositionPanel } from '../panels/decomposition.js';
import { contextsPanel } from '../panels/contexts.js';
import { contextSwitchesPanel } from '../panels/context-switches.js';
import { eventLoopPanel } from '../panels/event-loop.js';
import { queuesPanel } from '../panels/queues.js';
import { errorsPanel } from '../panels/errors.js';
import { phasePanel } from '../panels/phase.js';
import { textBox, type TextBox } from '../widgets/text-box.js';
import { fmtMs, fmtPct } from '../format.js';
import { errorLines, statusLabel, statusLines, windowText, type ScreenStatus } from './status-text.js';
import {
  contextLines,
  contextSwitchLines,
  decompositionLines,
  eventLoopLines,
  latencyLabel,
  latencyLines,
  queueLines,
  throughputLines,
} from './run-text.js';
import type { View } from './view.js';

export class RunView implements View {
  readonly compares = false;
  private readonly root: blessed.Widgets.BoxElement;
  private readonly status: TextBox;
  private readonly errors: TextBox;
  private readonly throughput: TextBox;
  private readonly latency: TextBox;
  private readonly decomposition: TextBox;
  private readonly contexts: TextBox;
  private readonly queues: TextBox;
  private readonly switches: TextBox;
  private readonly loop: TextBox;

  constructor(screen: blessed.Widgets.Screen) {
    this.root = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%' });
    const grid = new Grid({ rows: 12, cols: 12, screen: this.root, color: 'blue' });
    this.status = textBox(grid, [0, 0, 2, 9]);
    this.errors = textBox(grid, [0, 9, 2, 3]);
    this.throughput = textBox(grid, [2, 0, 3, 6]);
    this.latency = textBox(grid, [2, 6, 3, 6]);
    this.decomposition = textBox(grid, [5, 0, 3, 12]);
    this.contexts = textBox(grid, [8, 0, 4, 5]);
    this.queues = textBox(grid, [8, 5, 4, 4]);
    this.switches = textBox(grid, [8, 9, 2, 3]);
    this.loop = textBox(grid, [10, 9, 2, 3]);
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
    if (!s) return;
    const input: PanelInput = { frames: s.frames, phase: s.phase };
    const scope = windowText(s.window, s.timeline.intervalMs);

    this.errors.set(' errors, phase ', errorLines(errorsPanel(input, s.run), this.errors.width()));
    this.throughput.set(' throughput ', throughputLines(throughputPanel(input), this.throughput.width()));
    const latency = latencyPanel(input);
    this.latency.set(latencyLabel(latency), latencyLines(latency, this.latency.width()));
    const parts = decompositionPanel(s.phase);
    this.decomposition.set(
      ` where the time goes: ${scope}, mean ${fmtMs(parts.mean_ms)}, coverage ${fmtPct(parts.coverage)} `,
      decompositionLines(parts, this.decomposition.width(), this.decomposition.height()),
    );
    this.contexts.set(' contexts, this interval ', contextLines(contextsPanel(input), this.contexts.width(), this.contexts.height()));
    this.queues.set(' queues ', queueLines(queuesPanel(input), this.queues.width()));
    this.switches.set(' ctx switches ', contextSwitchLines(contextSwitchesPanel(input), this.switches.width(), this.switches.height()));
    this.loop.set(' event loop ', eventLoopLines(eventLoopPanel(input), this.loop.width(), this.loop.height()));
  }
}
