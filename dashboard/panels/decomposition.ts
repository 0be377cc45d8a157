/** Where the time goes: the mean request's latency split into the parts of the decomposition, in order. */
import { PART_NAMES, type PartName } from '../../src/vocabulary/index.js';
import type { PhaseStats } from '../../src/analysis/phase-stats.js';
import type { ServerStats } from '../../src/analysis/server-stats.js';

export interface DecompositionPanel {
  /** Every part, in the order they happen; null where it was not measured (shown as such, never as 0). */
  parts: { part: PartName; ms: number | null }[];
  /** Mean latency, ms: what the parts add up to. */
  mean_ms: number | null;
  /** Share of the mean the measured parts cover. */
  coverage: number | null;
}

export function decompositionPanel(phase: PhaseStats | null): DecompositionPanel {
  return {
    parts: PART_NAMES.map((part) => ({ part, ms: phase?.parts_ms[part] ?? null })),
    mean_ms: phase?.latency_ms.mean ?? null,
    coverage: phase?.coverage ?? null,
  };
}

/**
 * Without a generator: the server's parts only, over the mean server time (handler start to response end). The
 * client's parts (send_wait, network) and the remainder of a latency nobody measured stay null.
 */
export function serverDecompositionPanel(server: ServerStats | null): DecompositionPanel {
  return {
    parts: PART_NAMES.map((part) => ({ part, ms: server?.parts_ms[part] ?? null })),
    mean_ms: server?.time_ms?.mean ?? null,
    coverage: server?.coverage ?? null,
  };
}
