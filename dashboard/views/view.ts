/**
 * What the dashboard asks of a view: draw a snapshot, and be shown or hidden as a whole. GridView is what every view
 * is made of: a 12x12 grid on the screen, the status rows on top.
 */
import blessed from 'blessed';
import Grid from 'blessed-contrib/lib/layout/grid.js';
import type { Snapshot, SnapshotNeeds } from '../state/snapshot.js';
import { phasePanel, type PhasePanel } from '../panels/phase.js';
import { textBox, type Drawn, type TextBox } from '../widgets/text-box.js';
import { borderColour } from '../widgets/tags.js';
import { statusLabel, statusLines, type ScreenStatus } from './status-text.js';

export interface View {
  /** What the view needs in its snapshots beyond the cursor's figures (each costs work per server or interval). */
  readonly needs: SnapshotNeeds;
  show(): void;
  hide(): void;
  update(snapshot: Snapshot | null, state: ScreenStatus): void;
}

export abstract class GridView implements View {
  abstract readonly needs: SnapshotNeeds;
  /** The grid's boxes, on the screen itself, shown and hidden together. */
  private readonly boxes: blessed.Widgets.BlessedElement[] = [];
  protected readonly grid: Grid;
  protected readonly status: TextBox;

  /** `statusCols`: how much of the top rows the status takes (the rest is the view's: the Run view's errors). */
  constructor(screen: blessed.Widgets.Screen, statusCols = 12) {
    // No box over the whole screen to hold them: blessed filled its 12k cells at every render before the grid's boxes
    // drew over them (0.5 ms of a 200x60 frame, bench/dashboard-render.ts). Where the grid leaves a cell to no box,
    // nothing draws it, and a hidden view's boxes clear theirs (blessed's hide), so it stays blank.
    const append = (box: blessed.Widgets.Node) => {
      screen.append(box);
      this.boxes.push(box as blessed.Widgets.BlessedElement);
    };
    this.grid = new Grid({ rows: 12, cols: 12, screen: { append }, color: borderColour() });
    this.status = textBox(this.grid, [0, 0, 2, statusCols]);
  }

  show(): void {
    for (const b of this.boxes) b.show();
  }

  hide(): void {
    for (const b of this.boxes) b.hide();
  }

  abstract update(snapshot: Snapshot | null, state: ScreenStatus): void;

  /** Draws the status rows; the cursor's phase, which the view's own panels go on from. */
  protected drawStatus(s: Snapshot | null, state: ScreenStatus): PhasePanel | null {
    const phase = s && phasePanel(s);
    this.status.set(statusLabel(state), statusLines(phase, state));
    return phase;
  }
}

/** A chart box's text and paints, under its label. */
export const showDrawn = (box: TextBox, label: string, d: Drawn): void => box.set(label, d.lines, d.paints);
