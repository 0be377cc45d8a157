/**
 * The Run view: one server at the cursor. Layout on a 12x12 grid, sized for 80x24 first (each grid row is then
 * two lines, so a bordered panel of two rows has two lines of text):
 *
 *   rows 0-1   status (server, phase, playback) | errors
 *   rows 2-4   throughput offered vs achieved   | latency p50/p99, generator saturation
 *   rows 5-7   where the time goes (the parts, stacked)
 *   rows 8-11  contexts: CPU, run queue, blocked | queues | context switches / event loop
 *
 * Once the server's run has a knee, its diagnosis takes rows 10-11 under the contexts and the queues, which keep
 * rows 8-9 (their first lines: the busiest contexts, the accept and server waits).
 */
import type blessed from 'blessed';
import type { Snapshot } from '../state/snapshot.js';
import type { PanelInput } from '../panels/input.js';
import { throughputPanel } from '../panels/throughput.js';
import { latencyPanel } from '../panels/latency.js';
import { decompositionPanel, serverDecompositionPanel } from '../panels/decomposition.js';
import { cpuPanel } from '../panels/cpu.js';
import { contextsPanel } from '../panels/contexts.js';
import { contextSwitchesPanel } from '../panels/context-switches.js';
import { eventLoopPanel } from '../panels/event-loop.js';
import { queuesPanel } from '../panels/queues.js';
import { errorsPanel } from '../panels/errors.js';
import { textBox, type TextBox } from '../widgets/text-box.js';
import { fmtMs, fmtPct } from '../widgets/format.js';
import { errorLines, recentText, windowText, type ScreenStatus } from './status-text.js';
import {
  contextLines,
  cpuLines,
  modelLines,
  contextSwitchLines,
  decompositionLines,
  eventLoopLines,
  latencyLabel,
  latencyLines,
  queueLines,
  throughputLines,
} from './run-text.js';
import { diagnosisLabel, diagnosisLines } from './diagnosis-text.js';
import { GridView } from './view.js';

/** The grid's row height, per cent of the screen (blessed-contrib's grid lays out in percentages). */
const ROW = 100 / 12;

export class RunView extends GridView {
  readonly needs = {};
  private readonly errors: TextBox;
  private readonly throughput: TextBox;
  private readonly latency: TextBox;
  private readonly decomposition: TextBox;
  private readonly contexts: TextBox;
  private readonly queues: TextBox;
  private readonly switches: TextBox;
  private readonly loop: TextBox;
  private readonly diagnosis: TextBox;

  constructor(screen: blessed.Widgets.Screen) {
    super(screen, 9);
    const grid = this.grid;
    this.errors = textBox(grid, [0, 9, 2, 3]);
    this.throughput = textBox(grid, [2, 0, 3, 6]);
    this.latency = textBox(grid, [2, 6, 3, 6]);
    this.decomposition = textBox(grid, [5, 0, 3, 12]);
    this.contexts = textBox(grid, [8, 0, 4, 5]);
    this.queues = textBox(grid, [8, 5, 4, 4]);
    this.switches = textBox(grid, [8, 9, 2, 3]);
    this.loop = textBox(grid, [10, 9, 2, 3]);
    this.diagnosis = textBox(grid, [10, 0, 2, 9]);
    this.diagnosis.box.hide();
  }

  /**
   * Shows the diagnosis under the contexts and queues, or gives them their whole height back. With it, they end where
   * it begins, in cells (the grid's percentages round each edge down on its own and would leave a row between); a
   * resize is followed by a render pass, which sets them again.
   */
  private showDiagnosis(lines: string[] | null, label: string): void {
    for (const b of [this.contexts, this.queues]) b.box.height = lines ? (this.diagnosis.box.atop as number) - (b.box.atop as number) : `${ROW * 4}%`;
    if (lines) {
      this.diagnosis.set(label, lines);
      this.diagnosis.box.show();
    } else this.diagnosis.box.hide();
  }

  update(s: Snapshot | null, state: ScreenStatus): void {
    const phase = this.drawStatus(s, state);
    if (!s || !phase) return this.showDiagnosis(null, '');
    const diagnosis = diagnosisLines(s.summary, this.diagnosis.width(), this.diagnosis.height());
    this.showDiagnosis(diagnosis, s.summary ? diagnosisLabel(s.summary) : '');
    const input: PanelInput = { frames: s.frames, phase: s.phase, server: s.server };
    const by = phase.measured_by;
    // Without a generator there are no phases: the figures are over the last intervals (windows.ts).
    const scope = by === 'generator' ? windowText(s.window, s.timeline.intervalMs) : recentText(s.window, s.timeline.intervalMs);
    const head = by === 'generator' ? 'phase' : scope;

    this.errors.set(by === 'generator' ? ' errors, phase ' : ' errors ', errorLines(errorsPanel(input, s.run), this.errors.width()));
    if (by === 'proc') this.throughput.set(' CPU, whole tree ', cpuLines(cpuPanel(input), this.throughput.width(), head));
    else this.throughput.set(' throughput ', throughputLines(throughputPanel(input), this.throughput.width(), head));
    const latency = latencyPanel(input);
    this.latency.set(latencyLabel(latency), latencyLines(latency, this.latency.width(), head));
    const width = this.decomposition.width();
    const height = this.decomposition.height();
    if (by === 'proc') this.decomposition.set(' the model, named from /proc ', modelLines(s.run.detected, width, height));
    else {
      const parts = by === 'generator' ? decompositionPanel(s.phase) : serverDecompositionPanel(s.server);
      const where = by === 'generator' ? 'where the time goes' : "where the server's time goes";
      this.decomposition.set(` ${where}: ${scope}, mean ${fmtMs(parts.mean_ms)}, coverage ${fmtPct(parts.coverage)} `, decompositionLines(parts, width, height));
    }
    this.contexts.set(' contexts, this interval ', contextLines(contextsPanel(input), this.contexts.width(), this.contexts.height()));
    this.queues.set(' queues ', queueLines(queuesPanel(input), this.queues.width()));
    this.switches.set(' ctx switches ', contextSwitchLines(contextSwitchesPanel(input), this.switches.width(), this.switches.height()));
    // Without a generator, the loop's figures over the window are phaseStats's own over it (server-stats.ts).
    const loopInput = { frames: s.frames, phase: s.phase ?? s.server?.costs ?? null };
    const loop = by === 'proc' ? ['not seen', 'from /proc'] : eventLoopLines(eventLoopPanel(loopInput), this.loop.width(), this.loop.height());
    this.loop.set(' event loop ', loop);
  }
}
