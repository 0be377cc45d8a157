/**
 * The Over-time view's data: one server's run from its first interval to the cursor, as throughput, p99 and each
 * part's mean per interval, with where each phase began. Pure: the series store's numbers (state/series.ts) in.
 *
 * A run longer than the chart has dots across is cut into buckets of whole intervals, each drawn as one point:
 * the rates and the parts as the bucket's mean, p99 as its highest (a spike of latency must not vanish in a mean).
 */
import { PART_NAMES, type PartName } from '../../src/vocabulary/index.js';
import type { RunSeries } from '../state/series.js';
import type { PhaseSpan } from '../state/timeline.js';

export interface OverTimePanel {
  /** Seconds from the run's start to the end of each point's last interval. */
  t_s: number[];
  offered: number[];
  achieved: number[];
  p99: number[];
  /** The parts measured at some point of the run, in the vocabulary's order. */
  parts: { part: PartName; ms: number[] }[];
  /** Where each phase began, seconds from the run's start (the first phase's start is the chart's left edge). */
  phases: { t_s: number; name: string }[];
  /** Intervals per point (1 unless the run is longer than the chart is wide). */
  bucket: number;
  /** Intervals of the run shown: up to the cursor. */
  intervals: number;
  generator: boolean;
  /** Intervals in which the generator could not keep its schedule, among those shown; and the points they are in. */
  saturated: number;
  saturated_t: number[];
}

function finiteMean(xs: readonly number[], from: number, to: number): number {
  let s = 0;
  let n = 0;
  for (let i = from; i < to; i++) if (Number.isFinite(xs[i])) (s += xs[i]), n++;
  return n ? s / n : NaN;
}

/** Whether any of xs[from, to) passes `test`, without copying the range (a run of an hour is 3600 of them). */
function anyIn<T>(xs: readonly T[], from: number, to: number, test: (x: T) => boolean): boolean {
  for (let i = from; i < Math.min(to, xs.length); i++) if (test(xs[i])) return true;
  return false;
}

function finiteMax(xs: readonly number[], from: number, to: number): number {
  let m = NaN;
  for (let i = from; i < to; i++) if (Number.isFinite(xs[i]) && !(xs[i] <= m)) m = xs[i];
  return m;
}

/**
 * `shown`: intervals up to the cursor; `maxPoints`: the dots the chart has across. `before`: this function's answer
 * for the same series at an earlier render (OverTimePoints keeps it): its points over whole buckets that both
 * cover are taken as they are, since a series only grows and a taken interval never changes (series.ts).
 */
export function overTimePanel(
  series: RunSeries,
  spans: readonly PhaseSpan[],
  intervalMs: number,
  shown: number,
  maxPoints: number,
  before: OverTimePanel | null = null,
): OverTimePanel {
  const n = Math.min(shown, series.length);
  const bucket = Math.max(1, Math.ceil(n / Math.max(1, maxPoints)));
  // Up to `before`'s cursor its parts and saturated count hold (a taken interval never changes): only the intervals
  // since are read. A cursor moved back reads from the start.
  const since = before !== null && n >= before.intervals ? before.intervals : 0;
  const had = since > 0 ? new Set(before!.parts.map((p) => p.part)) : null;
  const measured = PART_NAMES.filter((p) => had?.has(p) || anyIn(series.parts[p], since, n, Number.isFinite));
  const same = before !== null && before.bucket === bucket && sameParts(before.parts, measured);
  // Whole buckets of both: the last one of `before` may have been cut at its cursor.
  const kept = same ? Math.floor(Math.min(n, before.intervals) / bucket) : 0;
  const t = before && kept ? before.t_s.slice(0, kept) : [];
  const offered = before && kept ? before.offered.slice(0, kept) : [];
  const achieved = before && kept ? before.achieved.slice(0, kept) : [];
  const p99 = before && kept ? before.p99.slice(0, kept) : [];
  const parts = measured.map((part, i) => ({ part, ms: before && kept ? before.parts[i].ms.slice(0, kept) : [] }));
  const saturatedT = before && kept ? before.saturated_t.filter((x) => x <= t[kept - 1]) : [];
  for (let from = kept * bucket; from < n; from += bucket) {
    const to = Math.min(n, from + bucket);
    t.push((to * intervalMs) / 1000);
    offered.push(finiteMean(series.offered, from, to));
    achieved.push(finiteMean(series.achieved, from, to));
    p99.push(finiteMax(series.p99, from, to));
    for (const p of parts) p.ms.push(finiteMean(series.parts[p.part], from, to));
    if (anyIn(series.saturated, from, to, Boolean)) saturatedT.push(t[t.length - 1]);
  }
  let saturated = since > 0 ? before!.saturated : 0;
  for (let i = since; i < n; i++) if (series.saturated[i]) saturated++;
  return {
    t_s: t,
    offered,
    achieved,
    p99,
    parts,
    phases: spans.filter((s) => s.index >= 0 && s.from < n).map((s) => ({ t_s: (s.from * intervalMs) / 1000, name: s.name })),
    bucket,
    intervals: n,
    generator: series.generator,
    saturated,
    saturated_t: saturatedT,
  };
}

const sameParts = (a: OverTimePanel['parts'], b: readonly PartName[]) => a.length === b.length && a.every((p, i) => p.part === b[i]);

/**
 * The Over-time view's points, render after render: each render goes on from the last one's, so that a run of an
 * hour costs the intervals since (overTimePanel's `before`) rather than 3600 x 13 series read again, 0.4 ms of a
 * 3 ms frame at 200x60 (bench/dashboard-render.ts). Another run's series, or another interval length, starts afresh.
 */
export class OverTimePoints {
  private last: { series: RunSeries; intervalMs: number; panel: OverTimePanel } | null = null;

  panel(series: RunSeries, spans: readonly PhaseSpan[], intervalMs: number, shown: number, maxPoints: number): OverTimePanel {
    const before = this.last?.series === series && this.last.intervalMs === intervalMs ? this.last.panel : null;
    const panel = overTimePanel(series, spans, intervalMs, shown, maxPoints, before);
    this.last = { series, intervalMs, panel };
    return panel;
  }
}
