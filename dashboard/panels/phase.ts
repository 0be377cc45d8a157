/** Where the cursor is: which server, which phase of the scenario and how far into it, and what the figures cover. */
import { DRAIN_PHASE } from '../../src/vocabulary/index.js';
import type { Snapshot } from '../state/snapshot.js';
import { measuredBy, type MeasuredBy } from '../../src/analysis/server-side-stats.js';
import { failedChecks } from '../../src/analysis/self-checks.js';

export interface PhasePanel {
  scenario: string;
  source: 'live' | 'replay';
  server: string;
  model: string;
  /** The model's size as configured, e.g. "4 threads". */
  size: string;
  run_number: number;
  runs: number;
  /** The phase at the cursor; null before the generator's first report. */
  phase: string | null;
  phase_number: number | null;
  phases: number | null;
  /** The cursor's interval is after the phase's last send, while the last responses come in. */
  draining: boolean;
  /** Seconds into the phase at the end of the cursor's interval, and the phase's planned length. */
  in_phase_s: number | null;
  planned_s: number | null;
  /** 1-based interval of the run at the cursor, of how many there are (so far, live). */
  position: number;
  intervals: number;
  /** Seconds since the run's first interval began, at the end of the cursor's interval. */
  t_s: number;
  /** How many intervals the phase figures cover, and whether the phase goes on after them. */
  window_intervals: number;
  window_partial: boolean;
  run_state: 'running' | 'done' | 'failed' | 'stopped';
  /** Without a generator there are no phases: the status line says who measured instead. */
  measured_by: MeasuredBy;
  /** The self-checks that fail over the phase window's figures (self-checks.ts), as the report would show them. */
  failed_checks: { id: string; detail: string }[];
}

export function phasePanel(s: Snapshot): PhasePanel {
  const { timeline, run, cursor, window } = s;
  const span = window?.span ?? null;
  const planned = span && timeline.plan ? timeline.plan[span.index] : undefined;
  const seconds = (intervals: number) => (intervals * timeline.intervalMs) / 1000;
  return {
    scenario: timeline.scenario,
    source: timeline.source,
    server: run.start.server,
    model: run.start.model,
    size: Object.entries(run.start.size).map(([k, v]) => `${v} ${k}`).join(', '),
    run_number: cursor.run + 1,
    runs: s.runs.length,
    phase: span && span.index >= 0 ? span.name : null,
    phase_number: span && span.index >= 0 ? span.index + 1 : null,
    phases: timeline.plan?.length ?? null,
    draining: s.frames[s.frames.length - 1]?.generator?.phase === DRAIN_PHASE,
    in_phase_s: span && span.index >= 0 ? seconds(cursor.pos + 1 - span.from) : null,
    planned_s: planned && planned.name === span?.name ? planned.duration_s : null,
    position: cursor.pos + 1,
    intervals: run.frames,
    t_s: seconds(cursor.pos + 1),
    window_intervals: window ? window.to - window.from : 0,
    window_partial: window?.partial ?? false,
    // A replayed run without a run-end record was cut short; a live one is still going.
    run_state: run.ended ? (run.ended.ok ? 'done' : 'failed') : timeline.source === 'live' ? 'running' : 'stopped',
    measured_by: measuredBy(s.frames),
    failed_checks: failedChecks(s.phase?.checks ?? s.server?.costs.checks ?? []).map((c) => ({ id: c.id, detail: c.detail })),
  };
}
