/**
 * What the dashboard reads, live or replayed: the runs of a scenario and their frames by position (the n-th frame
 * of a run). The live store keeps bounded ring buffers and the replay index reads frames from the file on demand,
 * so neither holds a whole run; both answer the same questions, and the views never know which one they read.
 */
import type { HostCores } from '../../src/analysis/self-checks.js';
import type { Frame, ModelSeen, RunStart, Slo } from '../../src/vocabulary/index.js';
import { continuesPhase } from '../../src/analysis/phase-grouping.js';
import type { FrameSummary } from '../../src/recording/format.js';
import { ScenarioSchema, phaseDurationS } from '../../src/scenario/schema.js';

/** A run of consecutive positions in one phase. Drain intervals belong to the phase before them (continuesPhase). */
export interface PhaseSpan {
  name: string;
  /** The phase's number in the scenario, 0-based (the generator's phase_index). */
  index: number;
  from: number;
  /** Exclusive; grows while a live run is in the phase. */
  to: number;
}

export interface RunInfo {
  start: RunStart;
  /** Frames so far (live) or in the file (replay). */
  frames: number;
  spans: PhaseSpan[];
  /**
   * Each position's interval on the host's monotonic clock (the frame's `index`): what lines up servers that ran side
   * by side (`srvlens dashboard`) at the same moment, and orders the ones that ran one after another.
   */
  clock: number[];
  /** Set once the run ended; `error` says why when it failed. */
  ended: { ok: boolean; error: string | null } | null;
  /** The model the /proc agent names from what it sees, with its evidence (live attach). */
  detected?: ModelSeen | null;
}

/** A phase as the scenario planned it, to say "phase 2 of 3" and "5 of 8 s". */
export interface PhasePlan {
  name: string;
  duration_s: number;
}

export interface Timeline {
  readonly source: 'live' | 'replay';
  readonly scenario: string;
  readonly intervalMs: number;
  readonly plan: readonly PhasePlan[] | null;
  /** The cores of the host the frames come from, for the CPU check (self-checks.ts); null when not known. */
  readonly host: HostCores | null;
  /** Why a replay stops early (a damaged or cut recording), or null. */
  readonly damage: string | null;
  /**
   * Runs went on side by side (`srvlens dashboard`: each service a run, all at once), not one after another
   * (`srvlens run`): replay then moves every server through the same moments together.
   */
  readonly concurrent: boolean;
  /** What the capacity figures are judged against (the scenario's SLO), or null when it set none. */
  readonly slo: Slo | null;
  runs(): readonly RunInfo[];
  /** The frames of `run` at positions [from, to) that are still held, oldest first (a live store forgets old ones). */
  frames(run: number, from: number, to: number): Promise<readonly Frame[]>;
}

/** A run with no frames yet. */
export const newRunInfo = (start: RunStart): RunInfo => ({ start, frames: 0, spans: [], clock: [], ended: null });

/**
 * Notes the run's next frame (frames arrive in position order): its phase span, its clock, the count. Takes what a
 * frame's summary holds (format.ts), which a replay index reads without parsing the frame.
 */
export function noteFrame(info: RunInfo, frame: FrameSummary): void {
  const pos = info.frames;
  const last = info.spans[info.spans.length - 1];
  const g = frame.phase === null ? null : { phase: frame.phase, phase_index: frame.phase_index ?? -1 };
  if (last && continuesPhase(last, g)) last.to = pos + 1;
  else info.spans.push({ name: g?.phase ?? '-', index: g?.phase_index ?? -1, from: pos, to: pos + 1 });
  info.clock.push(frame.index);
  info.frames = pos + 1;
}

export function spanAt(spans: readonly PhaseSpan[], pos: number): PhaseSpan | null {
  return spans.find((s) => pos >= s.from && pos < s.to) ?? null;
}

/** The scenario's phases and SLO from the config a recording header carries; nulls when it does not parse. */
export function planFromConfig(config: unknown): { plan: PhasePlan[] | null; slo: Slo | null } {
  const parsed = ScenarioSchema.safeParse(config);
  if (!parsed.success) return { plan: null, slo: null };
  return { plan: parsed.data.load.phases.map((p) => ({ name: p.name, duration_s: phaseDurationS(p) })), slo: parsed.data.slo ?? null };
}

/** Whether some run began before another had ended, on the clock: the runs went on side by side. */
export function ranSideBySide(runs: readonly RunInfo[]): boolean {
  const spans = runs.filter((r) => r.frames > 0).map((r) => [r.clock[0], r.clock[r.frames - 1]] as const).sort((a, b) => a[0] - b[0]);
  return spans.some((s, i) => i > 0 && s[0] <= spans[i - 1][1]);
}

/** How many of a run's positions lie at or before `clock` (binary search: positions are in clock order). */
export function positionsUpTo(run: RunInfo, clock: number): number {
  let lo = 0;
  let hi = run.frames;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (run.clock[mid] <= clock) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
