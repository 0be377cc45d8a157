/**
 * What went wrong: requests that failed (the generator's count: timeouts, resets, bad responses), data the agents
 * dropped or errors they caught (their figures are then incomplete), and a run that ended in failure.
 */
import type { RunInfo } from '../state/timeline.js';
import { lastOf, type PanelInput } from './input.js';
import { measuredBy, type MeasuredBy } from '../../src/analysis/server-side-stats.js';

export interface ErrorsPanel {
  /** Failed requests in the cursor's interval and in the phase window, and the window's share of failures. */
  now: number;
  phase: number;
  phase_share: number | null;
  /** Summed over the frames shown. */
  agent_dropped: number;
  agent_errors: number;
  run_error: string | null;
  /** Failed requests are the generator's count: without one they are not known (not 0). */
  measured_by: MeasuredBy;
}

export function errorsPanel({ frames, phase }: PanelInput, run: RunInfo): ErrorsPanel {
  const done = phase ? phase.requests + phase.errors : 0;
  return {
    now: lastOf(frames)?.generator?.errors ?? 0,
    phase: phase?.errors ?? 0,
    phase_share: phase && done > 0 ? phase.errors / done : null,
    agent_dropped: frames.reduce((s, f) => s + (f.server?.dropped ?? 0), 0),
    agent_errors: frames.reduce((s, f) => s + (f.server?.agent_errors ?? 0), 0),
    run_error: run.ended && !run.ended.ok ? run.ended.error ?? 'failed' : null,
    measured_by: measuredBy(frames),
  };
}
