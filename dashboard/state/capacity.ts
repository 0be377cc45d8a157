/**
 * Each server's capacity as its phases complete: the load points of every finished phase (load-curve.ts, the
 * report's own), the curve's findings (peak, knee) and the run's summary (run-summary.ts: what gave out, the
 * diagnosis). A phase's figures do not change once it has ended, so each finished phase is figured once and kept;
 * the summary is made again only when a run gains a phase. A render that finds nothing new costs a few lookups.
 *
 * A phase is taken over its last PHASE_WINDOW intervals, as every phase figure of the dashboard is: that is what the
 * live store keeps of a phase. Phases of up to PHASE_WINDOW intervals (the tour's, the quickstart's) are taken whole,
 * so their points and the diagnosis are the very ones `srvlens report` prints.
 */
import type { Frame, RunStart } from '../../src/vocabulary/index.js';
import { curveFindings, loadPoints, type CurveFindings, type LoadPoint } from '../../src/analysis/load-curve.js';
import { phaseStats, type PhaseStats } from '../../src/analysis/phase-stats.js';
import { summariseRun, type RunSummary } from '../../src/analysis/run-summary.js';
import type { PhaseSpan, RunInfo, Timeline } from './timeline.js';
import { PHASE_WINDOW } from './windows.js';

export interface RunCapacity {
  run: number;
  info: RunInfo;
  /** The finished phases' points, in the order they ran (a ramp gives several). */
  points: readonly LoadPoint[];
  /** Over the points; null before the first phase has finished. */
  findings: CurveFindings | null;
  summary: RunSummary | null;
  /** Positions shown so far (the cursor's moment), and the phases finished in them. */
  seen: number;
  finished: number;
  /** No generator reported in any of the run's intervals so far: no offered load, so no capacity curve. */
  no_generator: boolean;
}

interface FinishedPhase {
  name: string;
  frames: Frame[];
  stats: PhaseStats;
  points: LoadPoint[];
}

export class CapacityTracker {
  /** By run, then by the span's first position: null where the span had no generator interval (nothing to figure). */
  private readonly phases = new Map<number, { start: RunStart; byFrom: Map<number, FinishedPhase | null> }>();
  private readonly summaries = new Map<number, { start: RunStart; finished: number; findings: CurveFindings | null; summary: RunSummary | null }>();

  constructor(private readonly timeline: Timeline) {}

  /** Run `run` as seen once its first `seen` positions have been shown (the cursor's moment; live: all of them). */
  async of(run: number, seen: number): Promise<RunCapacity> {
    const info = this.timeline.runs()[run];
    const byFrom = this.byFrom(run, info);
    const finished: FinishedPhase[] = [];
    let begun = 0;
    for (const span of info.spans) {
      if (span.from >= seen) break;
      if (span.index >= 0) begun++;
      if (!this.isFinished(info, span, seen)) continue;
      let phase = byFrom.get(span.from);
      if (phase === undefined) {
        phase = await this.figure(run, span);
        byFrom.set(span.from, phase);
      }
      if (phase) finished.push(phase);
    }
    const cached = this.summaries.get(run);
    let entry = cached && cached.start === info.start && cached.finished === finished.length ? cached : null;
    if (!entry) {
      entry = { start: info.start, finished: finished.length, ...this.summarise(info, finished) };
      this.summaries.set(run, entry);
    }
    return {
      run,
      info,
      points: finished.flatMap((p) => p.points),
      findings: entry.findings,
      summary: entry.summary,
      seen: Math.min(seen, info.frames),
      finished: finished.length,
      no_generator: begun === 0 && info.spans.some((s) => s.from < seen),
    };
  }

  private byFrom(run: number, info: RunInfo): Map<number, FinishedPhase | null> {
    let m = this.phases.get(run);
    // A live slot planned before its run started holds a new run once it starts: what was figured was for another.
    if (!m || m.start !== info.start) {
      m = { start: info.start, byFrom: new Map() };
      this.phases.set(run, m);
    }
    return m.byFrom;
  }

  /**
   * A span has finished once its last interval has been shown and no more can join it: in a recording, every span
   * is as long as it will be; live, the last span of a run still going can grow (the drain joins the last phase).
   */
  private isFinished(info: RunInfo, span: PhaseSpan, seen: number): boolean {
    if (span.index < 0 || span.to > seen) return false;
    const last = info.spans[info.spans.length - 1] === span;
    return !last || this.timeline.source === 'replay' || info.ended !== null;
  }

  private async figure(run: number, span: PhaseSpan): Promise<FinishedPhase | null> {
    // Warm-up intervals run load but are no part of any figure, as in the report (phasesOf).
    const frames = (await this.timeline.frames(run, Math.max(span.from, span.to - PHASE_WINDOW), span.to)).filter((f) => f.generator && !f.generator.warmup);
    if (frames.length === 0) return null;
    const stats = phaseStats(span.name, frames, this.timeline.host);
    return { name: span.name, frames, stats, points: loadPoints([{ name: span.name, frames, stats }], this.timeline.host) };
  }

  private summarise(info: RunInfo, finished: readonly FinishedPhase[]): { findings: CurveFindings | null; summary: RunSummary | null } {
    if (finished.length === 0) return { findings: null, summary: null };
    const points = finished.flatMap((p) => p.points);
    const s = info.start;
    return {
      findings: curveFindings(points, this.timeline.slo),
      summary: summariseRun({ server: s.server, model: s.model, size: s.size, phases: finished, host: this.timeline.host, slo: this.timeline.slo, cores: s.cores }),
    };
  }
}
