/**
 * What the server side measured over a span of frames, whoever loaded it: the requests its agents saw finish,
 * their server time (handler start to response end) and the parts of it. Used where no load generator measured
 * the client side: the live dashboard (server-stats.ts) and the report of its recordings
 * (agents-only-phase.ts). Pure: frames in, figures out, unrounded.
 */
import { PART_NAMES, STAGES, expQuantile, mergeExpHistograms, type Frame, type PartName, type ServerInterval, type StageName } from '../vocabulary/index.js';
import { sum } from './numbers.js';

/** Who measured a span: the load generator (`srvlens run`), the servers' agents alone, or /proc alone. */
export type MeasuredBy = 'generator' | 'agents' | 'proc';

export function measuredBy(frames: readonly Frame[]): MeasuredBy {
  if (frames.some((f) => f.generator)) return 'generator';
  return frames.some((f) => f.server) ? 'agents' : 'proc';
}

/**
 * Who measured the requests of these intervals: the agents in the server, or the kernel tracer for a server with no
 * agent in it (ServerInterval.source); null where nothing did.
 */
export function serverMeasuredBy(servers: readonly ServerInterval[]): 'agents' | 'kernel' | null {
  if (servers.length === 0) return null;
  return servers.every((s) => s.source === 'kernel') ? 'kernel' : 'agents';
}

export interface ServerSideStats {
  measured_by: MeasuredBy;
  intervals: number;
  duration_s: number;
  /** Requests the agents saw finish, and per second; null when no agent reported requests (from /proc alone). */
  requests: number | null;
  served_rps: number | null;
  /** Handler start to response end, ms, from the agents' duration histograms merged; null without requests. */
  time_ms: { mean: number; p50: number | null; p90: number | null; p99: number | null; max: number } | null;
  /** The server's parts, ms per request; the client's (send_wait, network, unmeasured) are always null. */
  parts_ms: Record<PartName, number | null>;
  /** Share of the mean server time that the handler's parts cover. */
  coverage: number | null;
}

/**
 * Each stage's mean, ms per request, over the requests its sums are over (the agent says which: every finished
 * request for the handler's stages, the joined ones, which carried the client's send time, for the queue stages).
 * Null for a stage never entered: not measured, not 0.
 */
export function stageMeansMs(servers: readonly ServerInterval[]): Record<StageName, number | null> {
  const out = {} as Record<StageName, number | null>;
  for (const stage of STAGES) {
    const entries = sum(servers, (s) => s.stages[stage].entries);
    const over = sum(servers, (s) => s.stages[stage].requests);
    out[stage] = entries > 0 && over > 0 ? sum(servers, (s) => s.stages[stage].sum_ms) / over : null;
  }
  return out;
}

/** The handler's stages: within the server time. The queue stages come before the handler starts. */
const HANDLER_STAGES = STAGES.filter((s) => s !== 'accept_queue' && s !== 'server_queue');

export function serverSideStats(frames: readonly Frame[]): ServerSideStats {
  const servers = frames.flatMap((f) => (f.server ? [f.server] : []));
  const seconds = sum(frames, (f) => f.interval_ms) / 1000;
  const requests = servers.length ? sum(servers, (s) => s.requests) : null;
  // Exponential histograms merge exactly, across processes and intervals alike: percentiles come from the merge.
  const duration = mergeExpHistograms(servers.map((s) => s.duration));
  const parts = { ...Object.fromEntries(PART_NAMES.map((p) => [p, null])), ...stageMeansMs(servers) } as Record<PartName, number | null>;
  const time =
    duration.count > 0
      ? {
          mean: (duration.sum / duration.count) * 1000,
          p50: msOf(expQuantile(duration, 0.5)),
          p90: msOf(expQuantile(duration, 0.9)),
          p99: msOf(expQuantile(duration, 0.99)),
          max: duration.max * 1000,
        }
      : null;
  const handler = sum(HANDLER_STAGES, (s) => parts[s] ?? 0);
  return {
    measured_by: measuredBy(frames),
    intervals: frames.length,
    duration_s: seconds,
    requests,
    served_rps: requests === null || seconds === 0 ? null : requests / seconds,
    time_ms: time,
    parts_ms: parts,
    coverage: time && time.mean > 0 ? Math.min(1, handler / time.mean) : null,
  };
}

const msOf = (seconds: number | null) => (seconds === null ? null : seconds * 1000);
