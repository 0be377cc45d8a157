/**
 * Figures of a window of frames that no load generator measured: `srvlens dashboard` (agents in apps the user
 * started and loads) and `srvlens attach --dashboard` (/proc alone). What only a client can measure (offered rate,
 * latency from the intended send, send_wait, network, failures) is absent here, never 0; from /proc the requests
 * themselves are unseen. The costs (CPU, context switches and run-queue wait per request, the loop, the accept
 * queue) are phaseStats's own: without a generator it counts them per request the server finished.
 */
import { PART_NAMES, STAGES, expQuantile, mergeExpHistograms, type Frame, type PartName } from '../src/model/index.js';
import { phaseStats, type PhaseStats } from '../src/analysis/phase-stats.js';

/** Who measured a window: the load generator (`srvlens run`), the servers' agents alone, or /proc alone. */
export type MeasuredBy = 'generator' | 'agents' | 'proc';

export function measuredBy(frames: readonly Frame[]): MeasuredBy {
  if (frames.some((f) => f.generator)) return 'generator';
  return frames.some((f) => f.server) ? 'agents' : 'proc';
}

export interface ServerStats {
  measured_by: MeasuredBy;
  intervals: number;
  /** Requests the agents saw finish, and per second; null from /proc, which does not see requests. */
  requests: number | null;
  served_rps: number | null;
  /** Handler start to response end, ms (the agents' request duration); null without requests. */
  time_ms: { mean: number; p50: number | null; p99: number | null; max: number } | null;
  /** The server's parts, ms per request; the client's (send_wait, network, unmeasured) are always null. */
  parts_ms: Record<PartName, number | null>;
  /** Share of the server time that the handler's parts cover. */
  coverage: number | null;
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

export function serverStats(frames: readonly Frame[]): ServerStats {
  const servers = frames.flatMap((f) => (f.server ? [f.server] : []));
  const contexts = frames.flatMap((f) => f.contexts);
  const seconds = frames.reduce((t, f) => t + f.interval_ms, 0) / 1000;
  const requests = servers.length ? servers.reduce((t, s) => t + s.requests, 0) : null;
  const duration = mergeExpHistograms(servers.map((s) => s.duration));
  const parts = Object.fromEntries(PART_NAMES.map((p) => [p, null])) as Record<PartName, number | null>;
  for (const stage of STAGES) {
    const entries = servers.reduce((t, s) => t + s.stages[stage].entries, 0);
    const over = servers.reduce((t, s) => t + s.stages[stage].requests, 0);
    if (entries > 0 && over > 0) parts[stage] = servers.reduce((t, s) => t + s.stages[stage].sum_us, 0) / over / 1000;
  }
  const time =
    duration.count > 0
      ? {
          mean: (duration.sum / duration.count) * 1000,
          p50: msOf(expQuantile(duration, 0.5)),
          p99: msOf(expQuantile(duration, 0.99)),
          max: duration.max * 1000,
        }
      : null;
  // The handler's parts lie within the server time; the queue parts come before it.
  const handler = STAGES.filter((s) => s !== 'accept_queue' && s !== 'server_queue').reduce((t, s) => t + (parts[s] ?? 0), 0);
  const cpuMs = contexts.reduce((t, c) => t + c.cpu_user_ms + c.cpu_system_ms, 0);
  return {
    measured_by: measuredBy(frames),
    intervals: frames.length,
    requests,
    served_rps: requests === null || seconds === 0 ? null : requests / seconds,
    time_ms: time,
    parts_ms: parts,
    coverage: time && time.mean > 0 ? Math.min(1, handler / time.mean) : null,
    switches_per_s:
      contexts.length && seconds
        ? {
            voluntary: contexts.reduce((t, c) => t + c.ctx_voluntary, 0) / seconds,
            involuntary: contexts.reduce((t, c) => t + c.ctx_involuntary, 0) / seconds,
          }
        : null,
    cpu_cores: contexts.length && seconds ? cpuMs / 1000 / seconds : null,
    costs: phaseStats('-', frames),
  };
}

const msOf = (seconds: number | null) => (seconds === null ? null : seconds * 1000);
