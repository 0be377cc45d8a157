/**
 * The capacity view's data: per server, what it achieved and its p99 against the offered load, a point per finished
 * phase (a ramp's windows each a point), with its peak, knee and what gave out once known. Pure: the capacity
 * tracker's findings (state/capacity.ts, the report's own analysis) in, what the view draws out.
 */
import type { RunCapacity } from '../state/capacity.js';

export interface CapacityPoint {
  phase: string;
  offered_rps: number;
  achieved_rps: number;
  /** Null where no request was answered in the phase (latency past any limit). */
  p99_ms: number | null;
}

export interface CapacityLine {
  run: number;
  server: string;
  model: string;
  /** The server the cursor is on. */
  current: boolean;
  /** Ascending offered load. */
  points: CapacityPoint[];
  peak_rps: number | null;
  /** The offered rate of the last step the server followed; null: it followed to the heaviest finished step. */
  knee_rps: number | null;
  /** Known once the curve has bent (a knee) and a phase past it: else null. */
  limited_by: string | null;
  /** No generator: no offered load to draw against. */
  no_generator: boolean;
  /** Nothing run yet (at the cursor's moment), or a phase begun and none finished. */
  waiting: 'not run yet' | 'first phase running' | null;
}

export interface CapacityPanel {
  lines: CapacityLine[];
  /** The SLO's p99 limit, ms, to draw across the latency chart; null without one. */
  slo_p99_ms: number | null;
}

export function capacityPanel(runs: readonly RunCapacity[], cursorRun: number, sloP99Ms: number | null): CapacityPanel {
  return {
    slo_p99_ms: sloP99Ms,
    lines: runs.map((c): CapacityLine => {
      const s = c.summary;
      const points = [...c.points]
        .sort((a, b) => a.offered_rps - b.offered_rps)
        .map((p) => ({ phase: p.name, offered_rps: p.offered_rps, achieved_rps: p.achieved_rps, p99_ms: p.p99_ms }));
      return {
        run: c.run,
        server: c.info.start.server,
        model: c.info.start.model,
        current: c.run === cursorRun,
        points,
        peak_rps: s?.peak_rps ?? null,
        knee_rps: s?.knee_rps ?? null,
        limited_by: s && s.knee_rps !== null ? s.limited_by : null,
        no_generator: c.no_generator,
        waiting: points.length > 0 || c.no_generator ? null : c.seen === 0 ? 'not run yet' : 'first phase running',
      };
    }),
  };
}
