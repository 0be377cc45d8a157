/** The status line both views share (where the cursor is, playback) and the errors panel beside it. */
import type { PhasePanel } from '../panels/phase.js';
import type { ErrorsPanel } from '../panels/errors.js';
import type { PhaseWindow } from '../state/snapshot.js';
import { count, fmtPct, fmtSeconds } from '../widgets/format.js';
import { alert, bold, esc } from '../widgets/tags.js';

/** What the status line shows besides the cursor: the source, and playback or the live run's news. */
export interface ScreenStatus {
  source: 'live' | 'replay';
  scenario: string;
  /** Replay only: playing or paused, and how many intervals of the recording play per interval of real time. */
  playing: boolean;
  speed: number;
  /** Why a replay stops early (damaged recording), or a live run's last log line. */
  note: string | null;
}

export function statusLabel(play: ScreenStatus): string {
  return ` srvlens ${play.source}: ${play.scenario}  (h: help, q: quit) `;
}

export function statusLines(p: PhasePanel | null, play: ScreenStatus): string[] {
  if (!p) return ['waiting for the first interval of the first server...', play.note ? esc(play.note) : ''];
  const size = p.size ? `, ${p.size}` : '';
  const state = p.run_state === 'failed' ? alert(' [run failed]') : p.run_state === 'stopped' ? ' [run cut short]' : '';
  const progress = p.draining ? 'draining' : `${fmtSeconds(p.in_phase_s ?? 0)}${p.planned_s ? ` of ${fmtSeconds(p.planned_s)}` : ''}`;
  const where =
    p.measured_by === 'agents'
      ? 'no generator: server side only'
      : p.measured_by === 'proc'
        ? '/proc: no requests seen'
        : p.phase === null
          ? 'before the first phase'
          : `phase ${bold(esc(p.phase))}${p.phases ? ` ${p.phase_number}/${p.phases}` : ''}: ${progress}`;
  const mode = play.source === 'live' ? 'live' : play.playing ? `playing ${play.speed}x` : 'paused';
  // The figures on screen that cannot be true say so where they are read (the report has the same checks).
  const checks = p.failed_checks.length ? `  ${alert(esc(`[check failed: ${p.failed_checks.map((c) => c.id).join(', ')}]`))}` : '';
  return [
    `${bold(esc(p.server))} (${esc(p.model)}${esc(size)}) ${p.run_number}/${p.runs}${state}  ${where}${checks}`,
    `interval ${p.position}/${p.intervals}, t ${fmtSeconds(p.t_s)}  ${bold(mode)}${play.note ? `  ${alert(esc(play.note))}` : ''}`,
  ];
}

/** Two short lines (the panel has a quarter of the width): failed requests in the phase, then the agent's health. */
export function errorLines(e: ErrorsPanel, width: number): string[] {
  const troubled = e.agent_dropped > 0 || e.agent_errors > 0;
  const health = e.run_error
    ? `run failed: ${e.run_error}`
    : e.measured_by === 'proc'
      ? '/proc, no agent'
      : troubled
        ? `agent ${count(e.agent_dropped, 'drop')} ${count(e.agent_errors, 'err')}`
        : 'agent: no drops';
  const agent = e.run_error || troubled ? alert(esc(health)) : health;
  // Failures are the client's count: without a generator they are not known.
  if (e.measured_by !== 'generator') return [width >= 22 ? 'failures: no generator' : 'failed req: -', agent];
  const share = `failed ${e.phase} req, ${fmtPct(e.phase_share ?? 0)}`;
  const failed = share.length <= width ? share : `failed ${e.phase} req`;
  return [e.phase > 0 ? alert(failed) : failed, agent];
}

/** What a window without phases covers (no generator): "4 s", "last 10 s". */
export function recentText(w: PhaseWindow | null, intervalMs: number): string {
  if (!w) return 'no interval yet';
  const s = fmtSeconds(((w.to - w.from) * intervalMs) / 1000);
  return w.from > w.span.from ? `last ${s}` : s;
}

/** What a phase's figures cover: "busy, 6 s", "busy, 2.5 s so far", "busy, last 10 s". */
export function windowText(w: PhaseWindow | null, intervalMs: number): string {
  if (!w || w.span.index < 0) return 'no phase yet';
  const s = fmtSeconds(((w.to - w.from) * intervalMs) / 1000);
  return `${esc(w.span.name)}, ${w.from > w.span.from ? `last ${s}` : s}${w.partial ? ' so far' : ''}`;
}
