/** What the dashboard asks of a view: draw a snapshot, and be shown or hidden as a whole. */
import type { Snapshot } from '../state/snapshot.js';
import type { ScreenStatus } from './status-text.js';

export interface View {
  /** Whether the view needs the Compare entries in its snapshots (they cost a phase window per server). */
  readonly compares: boolean;
  show(): void;
  hide(): void;
  update(snapshot: Snapshot | null, state: ScreenStatus): void;
}
