/**
 * Latency p50 and p99 from the intended send time (corrected for coordinated omission), with the intervals in
 * which the generator could not keep its schedule marked: their latency includes the generator's own delay.
 */
import { intervalStats, lastOf, type PanelInput } from './input.js';
import { intervalServerStats } from '../../src/analysis/server-stats.js';
import { measuredBy, type MeasuredBy } from '../../src/analysis/server-side-stats.js';

export interface LatencyPanel {
  /** The cursor's interval, ms. */
  p50_ms: number | null;
  p99_ms: number | null;
  /** Per interval of the window, ms, oldest first. */
  p50: (number | null)[];
  p99: (number | null)[];
  /** Per interval of the window: the generator could not keep up. */
  saturated: boolean[];
  saturated_intervals: number;
  /** Why, in the cursor's interval (empty when it kept up). */
  reasons: string[];
  phase: { p50_ms: number | null; p99_ms: number | null; uncorrected_p99_ms: number | null; max_ms: number | null } | null;
  /**
   * Without a generator there is no client latency: the server time instead (handler start to response end, the
   * agents' request duration), per interval and over the window; from /proc, nothing.
   */
  measured_by: MeasuredBy;
  server_time: { p50_ms: number | null; p99_ms: number | null; p50: (number | null)[]; p99: (number | null)[]; window: { p50_ms: number | null; p99_ms: number | null; max_ms: number } | null } | null;
}

export function latencyPanel({ frames, phase, server }: PanelInput): LatencyPanel {
  const per = frames.map((f) => (f.generator ? intervalStats(f) : null));
  const saturated = frames.map((f) => f.generator?.saturated === true);
  const last = lastOf(frames);
  const now = last?.generator ? intervalStats(last) : null;
  return {
    p50_ms: now?.latency_ms.p50 ?? null,
    p99_ms: now?.latency_ms.p99 ?? null,
    p50: per.map((s) => s?.latency_ms.p50 ?? null),
    p99: per.map((s) => s?.latency_ms.p99 ?? null),
    saturated,
    saturated_intervals: saturated.filter(Boolean).length,
    reasons: last?.generator?.saturation ?? [],
    phase: phase && {
      p50_ms: phase.latency_ms.p50,
      p99_ms: phase.latency_ms.p99,
      uncorrected_p99_ms: phase.latency_ms.uncorrected_p99,
      max_ms: phase.latency_ms.max,
    },
    ...serverTime(frames, server ?? null),
  };
}

function serverTime(frames: PanelInput['frames'], server: PanelInput['server']): Pick<LatencyPanel, 'measured_by' | 'server_time'> {
  const by = measuredBy(frames);
  if (by !== 'agents') return { measured_by: by, server_time: null };
  const per = frames.map((f) => intervalServerStats(f).time_ms);
  const now = per[per.length - 1];
  const w = server?.time_ms;
  return {
    measured_by: by,
    server_time: {
      p50_ms: now?.p50 ?? null,
      p99_ms: now?.p99 ?? null,
      p50: per.map((t) => t?.p50 ?? null),
      p99: per.map((t) => t?.p99 ?? null),
      window: w ? { p50_ms: w.p50, p99_ms: w.p99, max_ms: w.max } : null,
    },
  };
}
