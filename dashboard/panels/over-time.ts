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

/** `shown`: intervals up to the cursor; `maxPoints`: the dots the chart has across. */
export function overTimePanel(series: RunSeries, spans: readonly PhaseSpan[], intervalMs: number, shown: number, maxPoints: number): OverTimePanel {
  const n = Math.min(shown, series.length);
  const bucket = Math.max(1, Math.ceil(n / Math.max(1, maxPoints)));
  const t: number[] = [];
  const offered: number[] = [];
  const achieved: number[] = [];
  const p99: number[] = [];
  const saturatedT: number[] = [];
  const measured = PART_NAMES.filter((p) => anyIn(series.parts[p], 0, n, Number.isFinite));
  const parts = measured.map((part) => ({ part, ms: [] as number[] }));
  for (let from = 0; from < n; from += bucket) {
    const to = Math.min(n, from + bucket);
    t.push((to * intervalMs) / 1000);
    offered.push(finiteMean(series.offered, from, to));
    achieved.push(finiteMean(series.achieved, from, to));
    p99.push(finiteMax(series.p99, from, to));
    for (const p of parts) p.ms.push(finiteMean(series.parts[p.part], from, to));
    if (anyIn(series.saturated, from, to, Boolean)) saturatedT.push(t[t.length - 1]);
  }
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
    saturated: series.saturated.slice(0, n).filter(Boolean).length,
    saturated_t: saturatedT,
  };
}
