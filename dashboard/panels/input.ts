/**
 * What the Run view's panels are computed from. Panels are pure functions of it, so any renderer (blessed today)
 * can draw them and tests can check them on recorded frames.
 */
import type { Frame } from '../../src/vocabulary/index.js';
import type { PhaseStats } from '../../src/analysis/phase-stats.js';
import type { ServerStats } from '../../src/analysis/server-stats.js';

export interface PanelInput {
  /** The last frames up to the cursor, oldest first: the cursor's interval is the last one. */
  frames: readonly Frame[];
  /** Figures of the cursor's phase over its window (windows.ts), null when the window has no generator report. */
  phase: PhaseStats | null;
  /** Without a generator report in the window: the server side's figures over it (server-stats.ts). */
  server?: ServerStats | null;
}

export { intervalStats } from '../state/interval-stats.js';

export const lastOf = (frames: readonly Frame[]): Frame | null => frames[frames.length - 1] ?? null;
