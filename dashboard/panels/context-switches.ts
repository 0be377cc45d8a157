/**
 * Context switches per request, voluntary (the context gave up the CPU: it waited for I/O, a lock, a queue) and
 * involuntary (the scheduler took the CPU away: more runnable contexts than cores).
 */
import { intervalStats, lastOf, type PanelInput } from './input.js';

type PerRequest = { voluntary: number; involuntary: number } | null;

export interface ContextSwitchesPanel {
  /** The cursor's interval. */
  now: PerRequest;
  /** The phase window. */
  phase: PerRequest;
}

export function contextSwitchesPanel({ frames, phase }: PanelInput): ContextSwitchesPanel {
  const last = lastOf(frames);
  return {
    now: last ? intervalStats(last).context_switches_per_request : null,
    phase: phase?.context_switches_per_request ?? null,
  };
}
