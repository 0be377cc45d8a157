/**
 * Context switches per request, voluntary (the context gave up the CPU: it waited for I/O, a lock, a queue) and
 * involuntary (the scheduler took the CPU away: more runnable contexts than cores).
 */
import { intervalStats, lastOf, type PanelInput } from './input.js';
import { intervalServerStats } from '../../src/analysis/server-stats.js';

type PerRequest = { voluntary: number; involuntary: number } | null;

export interface ContextSwitchesPanel {
  /** The cursor's interval. */
  now: PerRequest;
  /** The phase window. */
  phase: PerRequest;
  /**
   * Without requests to count them by (from /proc, or a server that served none): per second, summed over the
   * contexts, in the cursor's interval and over the window. Null with a generator.
   */
  per_second: { now: PerRequest; window: PerRequest } | null;
}

export function contextSwitchesPanel({ frames, phase, server }: PanelInput): ContextSwitchesPanel {
  const last = lastOf(frames);
  const perRequest = phase ?? server?.costs ?? null;
  const d: ContextSwitchesPanel = {
    now: last ? intervalStats(last).context_switches_per_request : null,
    phase: perRequest?.context_switches_per_request ?? null,
    per_second: null,
  };
  if (server && !d.now && !d.phase) d.per_second = { now: last ? intervalServerStats(last).switches_per_s : null, window: server.switches_per_s };
  return d;
}
