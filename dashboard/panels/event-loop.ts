/**
 * Event-loop delay (how late the loop ran a timer: how long a ready request can wait for the loop) and utilization
 * (the share of time the loop was busy), where the server has a loop at all.
 */
import { intervalStats, lastOf, type PanelInput } from './input.js';

export interface EventLoopPanel {
  /** False for models without an event loop: the panel says so instead of showing zeros. */
  has_loop: boolean;
  now: { p99_ms: number; utilization: number | null } | null;
  phase: { p50_ms: number; p99_ms: number; max_ms: number; utilization: number | null } | null;
}

export function eventLoopPanel({ frames, phase }: PanelInput): EventLoopPanel {
  const last = lastOf(frames);
  const now = last ? intervalStats(last) : null;
  const hasLoop = frames.some((f) => f.contexts.some((c) => c.eventloop_delay !== null || c.eventloop_utilization !== null));
  return {
    has_loop: hasLoop,
    now: now?.eventloop_delay_ms ? { p99_ms: now.eventloop_delay_ms.p99, utilization: now.eventloop_utilization } : null,
    phase: phase?.eventloop_delay_ms
      ? { p50_ms: phase.eventloop_delay_ms.p50, p99_ms: phase.eventloop_delay_ms.p99, max_ms: phase.eventloop_delay_ms.max, utilization: phase.eventloop_utilization }
      : null,
  };
}
