/** What the dashboard asks of a view: draw a snapshot, and be shown or hidden as a whole. */
import type { Snapshot, SnapshotNeeds } from '../state/snapshot.js';
import type { ScreenStatus } from './status-text.js';

export interface View {
  /** What the view needs in its snapshots beyond the cursor's figures (each costs work per server or interval). */
  readonly needs: SnapshotNeeds;
  show(): void;
  hide(): void;
  update(snapshot: Snapshot | null, state: ScreenStatus): void;
}
