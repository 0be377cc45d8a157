/** Offered vs achieved throughput: the rate the phase asked for and the rate the server answered at. */
import { intervalStats, lastOf, type PanelInput } from './input.js';
import { intervalServerStats } from '../../src/analysis/server-stats.js';
import { measuredBy, serverMeasuredBy, type MeasuredBy } from '../../src/analysis/server-side-stats.js';

/**
 * Achieved below offered by more than this share over the phase window means the server (or the generator) is not
 * keeping up. 2 %: at 1 s intervals a steady server's responses straddle boundaries by a request or two, not more.
 */
export const SHORTFALL_SHARE = 0.02;

export interface ThroughputPanel {
  /** The cursor's interval, req/s; null without a generator report. */
  offered_rps: number | null;
  achieved_rps: number | null;
  /** Per interval of the window, req/s, oldest first. */
  offered: (number | null)[];
  achieved: (number | null)[];
  phase_offered_rps: number | null;
  phase_achieved_rps: number | null;
  shortfall: boolean;
  /** Without a generator: requests the agents saw finish, per second (the cursor's interval, each one, the window). */
  measured_by: MeasuredBy;
  served_rps: number | null;
  served: (number | null)[];
  window_served_rps: number | null;
  /** Who counted them: the agents in the server, or the kernel tracer (a server with no agent in it). */
  served_by: 'agents' | 'kernel';
}

export function throughputPanel({ frames, phase, server }: PanelInput): ThroughputPanel {
  const per = frames.map((f) => (f.generator ? intervalStats(f) : null));
  const last = lastOf(frames);
  const now = last?.generator ? intervalStats(last) : null;
  return {
    offered_rps: now?.offered_rps ?? null,
    achieved_rps: now?.achieved_rps ?? null,
    offered: per.map((s) => s?.offered_rps ?? null),
    achieved: per.map((s) => s?.achieved_rps ?? null),
    phase_offered_rps: phase?.offered_rps ?? null,
    phase_achieved_rps: phase?.achieved_rps ?? null,
    shortfall: phase !== null && phase.offered_rps > 0 && phase.achieved_rps < phase.offered_rps * (1 - SHORTFALL_SHARE),
    ...served(frames, server ?? null),
  };
}

function served(frames: PanelInput['frames'], server: PanelInput['server']): Pick<ThroughputPanel, 'measured_by' | 'served_rps' | 'served' | 'window_served_rps' | 'served_by'> {
  const by = measuredBy(frames);
  const servedBy = serverMeasuredBy(frames.flatMap((f) => (f.server ? [f.server] : []))) === 'kernel' ? 'kernel' : 'agents';
  if (by === 'generator') return { measured_by: by, served_rps: null, served: [], window_served_rps: null, served_by: servedBy };
  const per = frames.map((f) => intervalServerStats(f).served_rps);
  return { measured_by: by, served_rps: per[per.length - 1] ?? null, served: per, window_served_rps: server?.served_rps ?? null, served_by: servedBy };
}
