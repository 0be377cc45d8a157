/**
 * Everything one render shows, gathered for a cursor: the cursor run's frames behind the cursor, its phase's
 * figures, its run's summary so far (the diagnosis, once there is a knee), and, for the views that ask, the same
 * phase's figures for every server (Compare), every server's capacity (Capacity) and the run's series (Over time).
 * Phase figures come from phaseStats (the report's own function) and are cached by (run, first, last position): a
 * finished phase is computed once, and only the window that moves with the cursor is computed again.
 *
 * "At the cursor" is a moment: live, now; in replay, the cursor's interval on the clock. Each server is seen up to
 * that moment (`seen`): servers that ran one after another are then whole before the cursor's and not run yet
 * after it, servers that ran side by side are each at the same moment.
 */
import type { Frame } from '../../src/vocabulary/index.js';
import type { RunSummary } from '../../src/analysis/run-summary.js';
import { phaseStats, type PhaseStats } from '../../src/analysis/phase-stats.js';
import { serverStats, type ServerStats } from '../../src/analysis/server-stats.js';
import { positionsUpTo, spanAt, type PhaseSpan, type RunInfo, type Timeline } from './timeline.js';
import { CapacityTracker, type RunCapacity } from './capacity.js';
import { SeriesStore, type RunSeries } from './series.js';
import { CHART_WINDOW, PHASE_WINDOW } from './windows.js';

/** A frame of the timeline: position `pos` of run `run`. */
export interface Cursor {
  run: number;
  pos: number;
}

/** The positions [from, to) of a phase span that its figures are over. */
export interface PhaseWindow {
  span: PhaseSpan;
  from: number;
  to: number;
  /** True when the window stops before the phase's end: at the cursor, or where a live run is now ("so far"). */
  partial: boolean;
}

export interface CompareEntry {
  run: RunInfo;
  window: PhaseWindow | null;
  /** Null when the run has no such phase (not run yet, or stopped before it) or no generator report in it. */
  stats: PhaseStats | null;
  /** Without a generator report in the window: what the server side measured in it (server-stats.ts). */
  server: ServerStats | null;
  /** The run had not begun at the cursor's moment (it ran later, or, side by side, started later). */
  not_yet: boolean;
}

export interface Snapshot {
  timeline: Timeline;
  runs: readonly RunInfo[];
  cursor: Cursor;
  run: RunInfo;
  /** The cursor run's last CHART_WINDOW frames up to the cursor, oldest first. */
  frames: readonly Frame[];
  window: PhaseWindow | null;
  phase: PhaseStats | null;
  /** Without a generator report in the window (`srvlens dashboard`, `attach --dashboard`): the server side's figures. */
  server: ServerStats | null;
  /** Only when asked for (the Compare view is showing). */
  compare: CompareEntry[] | null;
  /** Per run: how many of its positions lie at or before the cursor's moment. */
  seen: number[];
  /** The cursor run's summary over its finished phases (run-summary.ts); null before the first has finished. */
  summary: RunSummary | null;
  /** Only when asked for (the Capacity view): every run's, in run order. */
  capacity: RunCapacity[] | null;
  /** Only when asked for (the Over-time view): the cursor run's series, taken up to the cursor. */
  series: RunSeries | null;
  /** Part of what was asked is still being read (a long run's series): another render will bring more. */
  pending: boolean;
}

/** What a view needs beyond the cursor's interval and its run's summary. */
export interface SnapshotNeeds {
  /**
   * The cursor's phase figures over its window (default: yes). The one that moves with the cursor is the dominant
   * cost of a render (windows.ts): views that show no phase figure (Capacity, Over time) leave it out.
   */
  phase?: boolean;
  compare?: boolean;
  capacity?: boolean;
  series?: boolean;
}

/** Per run, the positions at or before the cursor's moment: live, all of them; in replay, by the clock. */
export function seenAt(timeline: Timeline, cursor: Cursor): number[] {
  const runs = timeline.runs();
  if (timeline.source === 'live') return runs.map((r) => r.frames);
  const clock = runs[cursor.run]?.clock[cursor.pos];
  return runs.map((r, i) => (i === cursor.run ? cursor.pos + 1 : clock === undefined ? 0 : positionsUpTo(r, clock)));
}

/** Phase windows kept: every phase of eight servers with a few phases each, and the moving one. */
const STATS_CACHE = 64;

export class SnapshotBuilder {
  private readonly cache = new Map<string, PhaseStats | null>();
  private readonly serverCache = new Map<string, ServerStats | null>();
  private readonly capacity: CapacityTracker;
  private readonly series: SeriesStore;

  constructor(private readonly timeline: Timeline) {
    this.capacity = new CapacityTracker(timeline);
    this.series = new SeriesStore(timeline);
  }

  async build(cursor: Cursor, needs: SnapshotNeeds = {}): Promise<Snapshot | null> {
    const runs = this.timeline.runs();
    const live = this.timeline.source === 'live';
    let pending = false;
    // Live, every run's new frames are taken into its series while the store still holds them, shown or not.
    if (live) for (let i = 0; i < runs.length; i++) pending = !(await this.series.fill(i, runs[i].frames)) || pending;
    const run = runs[cursor.run];
    if (!run || run.frames === 0) return null;
    const pos = Math.min(Math.max(cursor.pos, 0), run.frames - 1);
    const seen = seenAt(this.timeline, { run: cursor.run, pos });
    const frames = await this.timeline.frames(cursor.run, pos + 1 - CHART_WINDOW, pos + 1);
    const span = spanAt(run.spans, pos);
    const window = span && windowOf(run, span, pos + 1);
    const figured = window && needs.phase !== false;
    const phase = figured ? await this.stats(cursor.run, window) : null;
    const server = figured && !phase ? await this.serverStats(cursor.run, window) : null;
    let compare: CompareEntry[] | null = null;
    if (needs.compare) {
      compare = [];
      for (const [i, other] of runs.entries()) {
        if (i === cursor.run) {
          compare.push({ run: other, window, stats: phase, server, not_yet: false });
          continue;
        }
        const same = span && other.spans.find((s) => s.index === span.index && s.name === span.name);
        // Side by side, another server is shown at the same moment; one after another, over its whole phase.
        const end = this.timeline.concurrent ? seen[i] : same?.to ?? 0;
        const w = same && end > same.from ? windowOf(other, same, end) : null;
        const stats = w ? await this.stats(i, w) : null;
        compare.push({ run: other, window: w, stats, server: w && !stats ? await this.serverStats(i, w) : null, not_yet: this.timeline.concurrent && seen[i] === 0 });
      }
    }
    const summary = (await this.capacity.of(cursor.run, seen[cursor.run])).summary;
    let capacity: RunCapacity[] | null = null;
    if (needs.capacity) {
      capacity = [];
      for (let i = 0; i < runs.length; i++) capacity.push(await this.capacity.of(i, seen[i]));
    }
    let series: RunSeries | null = null;
    if (needs.series) {
      if (!live) pending = !(await this.series.fill(cursor.run, pos + 1)) || pending;
      series = this.series.of(cursor.run);
    }
    return { timeline: this.timeline, runs, cursor: { run: cursor.run, pos }, run, frames, window, phase, server, compare, seen, summary, capacity, series, pending };
  }

  /** As `stats`, for windows without a generator report; the moving window is recomputed, a closed one cached. */
  private async serverStats(run: number, w: PhaseWindow): Promise<ServerStats | null> {
    const key = `${run}:${w.from}:${w.to}`;
    if (this.serverCache.has(key)) return this.serverCache.get(key) ?? null;
    const frames = await this.timeline.frames(run, w.from, w.to);
    const stats = frames.length ? serverStats(frames, this.timeline.host) : null;
    this.serverCache.set(key, stats);
    if (this.serverCache.size > STATS_CACHE) this.serverCache.delete(this.serverCache.keys().next().value as string);
    return stats;
  }

  private async stats(run: number, w: PhaseWindow): Promise<PhaseStats | null> {
    const key = `${run}:${w.from}:${w.to}`;
    if (this.cache.has(key)) return this.cache.get(key) ?? null;
    // phaseStats counts every frame's interval in the phase's duration; the report leaves frames without a
    // generator report out of a phase (phasesOf), and so do we, so that the figures match it.
    const frames = (await this.timeline.frames(run, w.from, w.to)).filter((f) => f.generator);
    const stats = frames.length ? phaseStats(w.span.name, frames, this.timeline.host) : null;
    this.cache.set(key, stats);
    if (this.cache.size > STATS_CACHE) this.cache.delete(this.cache.keys().next().value as string);
    return stats;
  }
}

/** The last PHASE_WINDOW positions of `span` before `end`. */
function windowOf(run: RunInfo, span: PhaseSpan, end: number): PhaseWindow {
  const to = Math.min(end, span.to);
  // A span can still grow while it is the last of a run that has not ended.
  const open = run.ended === null && run.spans[run.spans.length - 1] === span;
  return { span, from: Math.max(span.from, to - PHASE_WINDOW), to, partial: to < span.to || open };
}
