/**
 * What the dashboard reads, live or replayed: the runs of a scenario and their frames by position (the n-th frame
 * of a run). The live store keeps bounded ring buffers and the replay index reads frames from the file on demand,
 * so neither holds a whole run; both answer the same questions, and the views never know which one they read.
 */
import type { HostCores } from '../../src/analysis/self-checks.js';
import type { Frame, ModelSeen, RunStart } from '../../src/vocabulary/index.js';
import { continuesPhase } from '../../src/analysis/phase-grouping.js';
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
  runs(): readonly RunInfo[];
  /** The frames of `run` at positions [from, to) that are still held, oldest first (a live store forgets old ones). */
  frames(run: number, from: number, to: number): Promise<readonly Frame[]>;
}

/** Extends a run's phase spans with the frame at position `pos` (frames arrive in position order). */
export function extendSpans(spans: PhaseSpan[], frame: Frame, pos: number): void {
  const last = spans[spans.length - 1];
  const g = frame.generator;
  if (last && continuesPhase(last, g)) {
    last.to = pos + 1;
    return;
  }
  spans.push({ name: g?.phase ?? '-', index: g?.phase_index ?? -1, from: pos, to: pos + 1 });
}

export function spanAt(spans: readonly PhaseSpan[], pos: number): PhaseSpan | null {
  return spans.find((s) => pos >= s.from && pos < s.to) ?? null;
}

/** The scenario's phases from the config a recording header carries, or null when it does not parse. */
export function planFromConfig(config: unknown): PhasePlan[] | null {
  const parsed = ScenarioSchema.safeParse(config);
  return parsed.success ? parsed.data.load.phases.map((p) => ({ name: p.name, duration_s: phaseDurationS(p) })) : null;
}
