/** One interval's figures, computed once per frame: what the Run view's "now" and the Over-time series are read from. */
import type { Frame } from '../../src/vocabulary/index.js';
import { phaseStats, type PhaseStats } from '../../src/analysis/phase-stats.js';

const perInterval = new WeakMap<Frame, PhaseStats>();

/**
 * The phase statistics of that frame alone, so a panel's "now" is computed exactly as the report's per-phase figure
 * is. Computed once per frame (decoding its HDR histograms costs ~0.1 ms) and kept while the frame is.
 */
export function intervalStats(frame: Frame): PhaseStats {
  let s = perInterval.get(frame);
  if (!s) {
    s = phaseStats(frame.phase ?? '-', [frame]);
    perInterval.set(frame, s);
  }
  return s;
}
