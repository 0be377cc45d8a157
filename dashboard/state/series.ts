/**
 * The Over-time view's series: per run and interval, offered and achieved rate, p99 and each part's mean, as
 * numbers (NaN: not measured in that interval). An interval's figures are taken once, from its frame (intervalStats,
 * the report's per-phase function on one frame), and kept as a few numbers, so a run's whole history costs what
 * its frames' 3.5 KB each would not, and the live store may forget the frames themselves.
 *
 * Live, every run's new frames are taken at each render, while the store still holds them (its last CHART_WINDOW);
 * in replay, a run's are taken up to the cursor, at most FILL_PER_PASS a render so that a seek to the end of a long
 * recording does not stall one frame.
 */
import { PART_NAMES, type Frame, type PartName, type RunStart } from '../../src/vocabulary/index.js';
import { intervalServerStats } from '../../src/analysis/server-stats.js';
import { intervalStats } from './interval-stats.js';
import type { Timeline } from './timeline.js';

/** Intervals taken per render and run: ~0.1 ms each (decoding the interval's HDR histograms). */
export const FILL_PER_PASS = 240;

export interface RunSeries {
  /** Positions taken so far: [0, length). */
  length: number;
  offered: number[];
  achieved: number[];
  p99: number[];
  parts: Record<PartName, number[]>;
  /** Per position: the generator could not keep its schedule (its latency includes its own delay). */
  saturated: boolean[];
  /** Whether any interval had a generator report: without one, achieved is what the agents served, p99 the server time's. */
  generator: boolean;
}

const orNaN = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);

export class SeriesStore {
  private readonly runs = new Map<number, { start: RunStart; series: RunSeries }>();

  constructor(private readonly timeline: Timeline) {}

  /** Takes run `run`'s positions up to `upTo` (not past what the timeline has); true once all are taken. */
  async fill(run: number, upTo: number): Promise<boolean> {
    const info = this.timeline.runs()[run];
    if (!info) return true;
    const s = this.of(run);
    const to = Math.min(upTo, info.frames, s.length + FILL_PER_PASS);
    if (to > s.length) {
      const frames = await this.timeline.frames(run, s.length, to);
      // A live store may have forgotten some of them: those intervals stay gaps (NaN), at their own positions.
      const byPos = new Map<number, Frame>();
      for (const f of frames) byPos.set(info.clock.indexOf(f.index, s.length), f);
      for (let pos = s.length; pos < to; pos++) add(s, byPos.get(pos) ?? null);
    }
    return s.length >= Math.min(upTo, info.frames);
  }

  /** What has been taken of run `run` so far. */
  of(run: number): RunSeries {
    const start = this.timeline.runs()[run]?.start;
    let entry = this.runs.get(run);
    // A live slot planned before its run started holds a new run once it starts.
    if (!entry || entry.start !== start) {
      entry = { start: start!, series: empty() };
      this.runs.set(run, entry);
    }
    return entry.series;
  }
}

function empty(): RunSeries {
  return {
    length: 0,
    offered: [],
    achieved: [],
    p99: [],
    parts: Object.fromEntries(PART_NAMES.map((p) => [p, []])) as unknown as Record<PartName, number[]>,
    saturated: [],
    generator: false,
  };
}

function add(s: RunSeries, f: Frame | null): void {
  s.length++;
  if (f?.generator) {
    const st = intervalStats(f);
    s.generator = true;
    s.offered.push(st.offered_rps);
    s.achieved.push(st.achieved_rps);
    s.p99.push(orNaN(st.latency_ms.p99));
    for (const p of PART_NAMES) s.parts[p].push(orNaN(st.parts_ms[p]));
    s.saturated.push(f.generator.saturated);
    return;
  }
  const st = f?.server ? intervalServerStats(f) : null;
  s.offered.push(NaN);
  s.achieved.push(orNaN(st?.served_rps));
  s.p99.push(orNaN(st?.time_ms?.p99));
  for (const p of PART_NAMES) s.parts[p].push(orNaN(st?.parts_ms[p]));
  s.saturated.push(false);
}
