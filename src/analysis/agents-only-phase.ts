/**
 * The report's figures of a run no load generator measured (`srvlens dashboard --out`: servers the user started
 * and loaded): what the server side measured, and nothing made up for what only a client measures. The offered
 * rate, the client's latency and errors, send_wait, network and the coverage of the client's latency are null, as
 * a part that could not be measured is everywhere; the fields keep PhaseStats's names, so a reader of the JSON
 * finds every figure where a generator run has it.
 */
import { PART_NAMES, type Frame, type PartName, type RunStart } from '../vocabulary/index.js';
import { downstreamIncludesLoopWait, modelCosts, type ModelCosts } from './model-costs.js';
import { round } from './numbers.js';
import { serverSideStats } from './server-side-stats.js';
import { selfChecks, type Check, type HostCores } from './self-checks.js';

/** The phase of a generator-less run: without a generator there are no phases, so the run is one. */
export const AGENTS_ONLY_PHASE = 'live';

export interface AgentsOnlyPhaseStats extends ModelCosts {
  name: string;
  duration_s: number;
  intervals: number;
  /** What only a client measures: there was no load generator, so not measured (null), never 0. */
  offered_rps: null;
  achieved_rps: null;
  requests: null;
  errors: null;
  latency_ms: { mean: null; p50: null; p90: null; p99: null; max: null; uncorrected_p99: null };
  coverage: null;
  matched_share: null;
  mix: null;
  connect_ms: null;
  closed_loop: null;
  generator_saturated: null;
  generator_saturation: null;
  /** The server's parts, ms per request; send_wait, network and unmeasured are the client's, so null. */
  parts_ms: Record<PartName, number | null>;
  /** Requests the agents saw finish, and per second of the run's intervals; null when no agent reported requests. */
  server_requests: number | null;
  served_rps: number | null;
  /** Handler start to response end, ms, from the agents' duration histograms merged over processes and intervals. */
  server_time_ms: { mean: number | null; p50: number | null; p90: number | null; p99: number | null; max: number | null } | null;
  /** Share of the mean server time the handler's parts (parse to send) cover. */
  server_time_coverage: number | null;
  /** The checks that need no client (self-checks.ts); those that do say so. */
  checks: Check[];
  /** Whether downstream holds the wait for a busy loop (model-costs.ts, downstreamIncludesLoopWait). */
  downstream_includes_loop_wait: boolean;
}

export function agentsOnlyPhaseStats(name: string, frames: readonly Frame[], host: HostCores | null = null): AgentsOnlyPhaseStats {
  const s = serverSideStats(frames);
  const t = s.time_ms;
  const costs = modelCosts(frames, s.requests ?? 0);
  return {
    name,
    duration_s: s.duration_s,
    intervals: s.intervals,
    offered_rps: null,
    achieved_rps: null,
    requests: null,
    errors: null,
    latency_ms: { mean: null, p50: null, p90: null, p99: null, max: null, uncorrected_p99: null },
    parts_ms: Object.fromEntries(PART_NAMES.map((p) => [p, round(s.parts_ms[p], 4)])) as Record<PartName, number | null>,
    coverage: null,
    matched_share: null,
    server_requests: s.requests,
    served_rps: round(s.served_rps, 1),
    server_time_ms: t && { mean: round(t.mean), p50: round(t.p50), p90: round(t.p90), p99: round(t.p99), max: round(t.max) },
    server_time_coverage: round(s.coverage, 4),
    ...costs,
    downstream_includes_loop_wait: downstreamIncludesLoopWait(s.parts_ms.downstream, costs),
    mix: null,
    connect_ms: null,
    closed_loop: null,
    generator_saturated: null,
    generator_saturation: null,
    checks: selfChecks(frames, host, null),
  };
}

/** A run's frames as one phase; none when the run has no frames. */
export function agentsOnlyRunPhases(run: RunStart, frames: readonly Frame[], host: HostCores | null = null): AgentsOnlyPhaseStats[] {
  const own = frames.filter((f) => f.run === run.run);
  return own.length ? [agentsOnlyPhaseStats(AGENTS_ONLY_PHASE, own, host)] : [];
}
