/**
 * Figures of a window of frames that no load generator measured: `srvlens dashboard` (agents in apps the user
 * started and loads) and `srvlens attach --dashboard` (/proc alone). What only a client can measure (offered rate,
 * latency from the intended send, send_wait, network, failures) is absent here, never 0; from /proc the requests
 * themselves are unseen. The server side's figures are the report's own (src/analysis/server-side-stats.ts); the
 * costs (CPU, context switches and run-queue wait per request, the loop, the accept queue) are phaseStats's: without
 * a generator it counts them per request the server finished. Added here: what a live view shows per second.
 */
import type { Frame } from '../vocabulary/index.js';
import { sum } from './numbers.js';
import { phaseStats, type PhaseStats } from './phase-stats.js';
import { serverSideStats, type ServerSideStats } from './server-side-stats.js';
import type { HostCores } from './self-checks.js';

export interface ServerStats extends ServerSideStats {
  /** Context switches per second, summed over the contexts: what they cost when requests are not counted. */
  switches_per_s: { voluntary: number; involuntary: number } | null;
  /** CPU over the window, in cores (1 = one core busy all the time). */
  cpu_cores: number | null;
  costs: PhaseStats;
}

const perInterval = new WeakMap<Frame, ServerStats>();

/** One interval's figures, computed once per frame and kept while the frame is (as intervalStats does). */
export function intervalServerStats(frame: Frame): ServerStats {
  let s = perInterval.get(frame);
  if (!s) {
    s = serverStats([frame]);
    perInterval.set(frame, s);
  }
  return s;
}

/** `host`: the machine the frames come from, for the CPU check among the costs' checks (null: not taken). */
export function serverStats(frames: readonly Frame[], host: HostCores | null = null): ServerStats {
  const side = serverSideStats(frames);
  const contexts = frames.flatMap((f) => f.contexts);
  const seconds = side.duration_s;
  const cpuMs = contexts.reduce((t, c) => t + c.cpu_user_ms + c.cpu_system_ms, 0);
  const windowMs = sum(frames, (f) => f.interval_ms);
  return {
    ...side,
    switches_per_s:
      contexts.length && seconds
        ? {
            voluntary: contexts.reduce((t, c) => t + c.voluntary, 0) / seconds,
            involuntary: contexts.reduce((t, c) => t + c.involuntary, 0) / seconds,
          }
        : null,
    cpu_cores: contexts.length && windowMs ? cpuMs / windowMs : null,
    costs: phaseStats('-', frames, host),
  };
}
