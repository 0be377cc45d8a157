/**
 * Everything one render shows, gathered for a cursor: the cursor run's frames behind the cursor, its phase's
 * figures, and for the Compare view the same phase's figures for every server. Phase figures come from phaseStats
 * (the report's own function) and are cached by (run, first, last position): a finished phase is computed once,
 * and only the window that moves with the cursor is computed again.
 */
import type { Frame } from '../../src/vocabulary/index.js';
import { phaseStats, type PhaseStats } from '../../src/analysis/phase-stats.js';
import { serverStats, type ServerStats } from '../../src/analysis/server-stats.js';
import { spanAt, type PhaseSpan, type RunInfo, type Timeline } from './timeline.js';
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
}

/** Phase windows kept: every phase of eight servers with a few phases each, and the moving one. */
const STATS_CACHE = 64;

export class SnapshotBuilder {
  private readonly cache = new Map<string, PhaseStats | null>();
  private readonly serverCache = new Map<string, ServerStats | null>();

  constructor(private readonly timeline: Timeline) {}

  async build(cursor: Cursor, withCompare: boolean): Promise<Snapshot | null> {
    const runs = this.timeline.runs();
    const run = runs[cursor.run];
    if (!run || run.frames === 0) return null;
    const pos = Math.min(Math.max(cursor.pos, 0), run.frames - 1);
    const frames = await this.timeline.frames(cursor.run, pos + 1 - CHART_WINDOW, pos + 1);
    const span = spanAt(run.spans, pos);
    const window = span && windowOf(run, span, pos + 1);
    const phase = window ? await this.stats(cursor.run, window) : null;
    const server = window && !phase ? await this.serverStats(cursor.run, window) : null;
    let compare: CompareEntry[] | null = null;
    if (withCompare) {
      compare = [];
      for (const [i, other] of runs.entries()) {
        if (i === cursor.run) {
          compare.push({ run: other, window, stats: phase, server });
          continue;
        }
        const same = span && other.spans.find((s) => s.index === span.index && s.name === span.name);
        const w = same ? windowOf(other, same, same.to) : null;
        const stats = w ? await this.stats(i, w) : null;
        compare.push({ run: other, window: w, stats, server: w && !stats ? await this.serverStats(i, w) : null });
      }
    }
    return { timeline: this.timeline, runs, cursor: { run: cursor.run, pos }, run, frames, window, phase, server, compare };
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
