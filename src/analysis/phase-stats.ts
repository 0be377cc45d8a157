/**
 * Per-phase figures of one server run, from its frames: throughput, latency, the time decomposition, and what
 * the model cost per request. Pure: frames in, findings out.
 *
 * How the parts are joined (ARCHITECTURE section 1): the generator counts each request in the interval of its
 * response, the agent in the interval its response finished, so in most intervals both count the very same
 * requests. Each server part is a mean over the agent's requests. `network` (last byte handed to the kernel until
 * the client has the response) needs both ends of the same requests, so it is taken only from intervals where the
 * two sides counted exactly the same requests: there it is the client's summed send-to-response time minus the
 * agent's summed send-to-finish time. `unmeasured` is what is left of the mean latency: the requests the agent
 * did not see, and the intervals whose two sides could not be matched (a response in flight across a boundary).
 */
import { DRAIN_PHASE, PART_NAMES, STAGES, type Frame, type GeneratorInterval, type PartName, type RunStart } from '../vocabulary/index.js';
import { summariseHdr } from '../vocabulary/hdr.js';
import { downstreamIncludesLoopWait, modelCosts, type ModelCosts } from './model-costs.js';
import { phasesOf } from './phase-grouping.js';
import { round, sum, usToMs } from './numbers.js';
import { serverMeasuredBy, stageMeansMs } from './server-side-stats.js';
import { clientGaveUp, selfChecks, type Check, type HostCores } from './self-checks.js';

export interface PhaseStats extends ModelCosts {
  name: string;
  duration_s: number;
  intervals: number;
  offered_rps: number;
  achieved_rps: number;
  requests: number;
  errors: number;
  latency_ms: { mean: number | null; p50: number | null; p90: number | null; p99: number | null; max: number | null; uncorrected_p99: number | null };
  parts_ms: Record<PartName, number | null>;
  /** Share of the mean latency that measured parts cover (1 - unmeasured / mean); null with unmeasured. */
  coverage: number | null;
  /** Share of completed requests in intervals where client and agent counted the same requests (network is from these). */
  matched_share: number | null;
  server_requests: number;
  /** Who measured the server's side: the agents in it, the kernel tracer (a server without an agent), or nobody (null). */
  server_measured_by: 'agents' | 'kernel' | null;
  /** Per entry of a request mix: requests, errors and latency (corrected, ms) of that kind of request. */
  mix: { name: string; requests: number; errors: number; p50_ms: number | null; p99_ms: number | null }[] | null;
  /** Connection per request: the mean connect time (ms), part of send_wait. */
  connect_ms: number | null;
  /** Closed loop: latency runs from each user's own send (no intended time), so corrected equals uncorrected. */
  closed_loop: boolean;
  generator_saturated: boolean;
  generator_saturation: string[];
  /** The phase's figures held against the host, the client, Little's law and the clock (self-checks.ts). */
  checks: Check[];
  /** Whether downstream holds the wait for a busy loop (model-costs.ts, downstreamIncludesLoopWait). */
  downstream_includes_loop_wait: boolean;
}

/** `host`: the machine the frames were recorded on, for the CPU check (null: not taken). */
export function phaseStats(name: string, frames: readonly Frame[], host: HostCores | null = null): PhaseStats {
  const gens = frames.flatMap((f) => (f.generator ? [f.generator] : []));
  const servers = frames.flatMap((f) => (f.server ? [f.server] : []));
  // Drain intervals offer nothing: their responses join the phase's requests and latency, but the rate is what
  // was served during the phase itself (a backlog drained afterwards would otherwise raise it past capacity).
  const durationS = sum(frames, (f) => (f.generator?.phase === DRAIN_PHASE ? 0 : f.interval_ms)) / 1000;
  const completedInPhase = sum(gens, (g) => (g.phase === DRAIN_PHASE ? 0 : g.completed));
  const completed = sum(gens, (g) => g.completed);
  const corrected = summariseHdr(gens.map((g) => g.latency_hdr));
  const uncorrected = summariseHdr(gens.map((g) => g.uncorrected_hdr));
  const meanMs = completed ? sum(gens, (g) => g.sum_total_ms) / completed : null;

  const parts = Object.fromEntries(PART_NAMES.map((p) => [p, null])) as Record<PartName, number | null>;
  if (completed) parts.send_wait = sum(gens, (g) => g.sum_send_wait_ms) / completed;
  const serverRequests = sum(servers, (s) => s.requests);
  const joined = sum(servers, (s) => s.joined);
  if (joined > 0) Object.assign(parts, stageMeansMs(servers));
  const matched = matchedNetwork(frames);
  // Equal counts on both sides do not prove the same requests: when a lagging client swaps requests across a
  // boundary the difference can even come out negative. A negative mean is no measurement: leave it unmeasured.
  if (matched.requests > 0 && matched.sum_ms >= 0) parts.network = matched.sum_ms / matched.requests;
  const errors = sum(gens, (g) => g.errors);
  // Where the client gave up on requests the agents went on to serve, the mean and the parts are of different
  // requests: what is left between them is no measurement, so unmeasured (and coverage) stay null.
  if (meanMs !== null && !clientGaveUp(completed, errors)) {
    const measured = PART_NAMES.filter((p) => p !== 'unmeasured').reduce((s, p) => s + (parts[p] ?? 0), 0);
    parts.unmeasured = meanMs - measured;
  }

  const perRequest = serverRequests || completed;
  const meanRounded = round(meanMs);
  const partsRounded = Object.fromEntries(PART_NAMES.map((p) => [p, round(parts[p], 4)])) as Record<PartName, number | null>;
  const saturated = gens.some((g) => g.saturated);
  const costs = modelCosts(frames, perRequest);
  const downstream = parts.downstream;
  return {
    name,
    duration_s: durationS,
    intervals: frames.length,
    offered_rps: round(durationS ? sum(gens, (g) => g.due) / durationS : 0, 1) ?? 0,
    achieved_rps: round(durationS ? completedInPhase / durationS : 0, 1) ?? 0,
    requests: completed,
    errors,
    latency_ms: {
      mean: meanRounded,
      p50: round(corrected && usToMs(corrected.p50_us)),
      p90: round(corrected && usToMs(corrected.p90_us)),
      p99: round(corrected && usToMs(corrected.p99_us)),
      max: round(corrected && usToMs(corrected.max_us)),
      uncorrected_p99: round(uncorrected && usToMs(uncorrected.p99_us)),
    },
    parts_ms: partsRounded,
    coverage: meanMs && parts.unmeasured !== null ? round(1 - Math.abs(parts.unmeasured) / meanMs, 4) : null,
    matched_share: completed ? round(matched.requests / completed, 4) : null,
    server_requests: serverRequests,
    server_measured_by: serverMeasuredBy(servers),
    ...costs,
    mix: mixOf(gens),
    connect_ms: sum(gens, (g) => g.connects ?? 0) ? round(sum(gens, (g) => g.sum_connect_ms ?? 0) / sum(gens, (g) => g.connects ?? 0), 4) : null,
    closed_loop: gens.some((g) => g.closed_loop === true),
    generator_saturated: saturated,
    generator_saturation: [...new Set(gens.flatMap((g) => g.saturation))],
    downstream_includes_loop_wait: downstreamIncludesLoopWait(downstream, costs),
    // Frames no generator reported on (the dashboard's server-side windows) have no client to check against.
    checks: selfChecks(
      frames,
      host,
      gens.length ? { requests: completed, errors, lateAtEdges: lateReads(frames), meanMs, unmeasuredMs: parts.unmeasured } : null,
    ),
  };
}

/**
 * Answers the generator may have read across the phase's edges: in its first and last interval, the answers that
 * came in within the generator's worst lateness (its loop's or its sends') of the boundary, at that interval's rate.
 */
function lateReads(frames: readonly Frame[]): number {
  const withGen = frames.filter((f) => f.generator);
  const edges = withGen.length > 1 ? [withGen[0], withGen[withGen.length - 1]] : withGen;
  return sum(edges, (f) => {
    const g = f.generator!;
    const lateMs = Math.max(g.loop_lag_max_ms, g.send_late_max_ms ?? 0);
    return f.interval_ms > 0 ? (g.completed * Math.min(lateMs, f.interval_ms)) / f.interval_ms : 0;
  });
}

/** Network time from the intervals whose client and agent sides are the same requests (every request joined). */
function matchedNetwork(frames: readonly Frame[]): { sum_ms: number; requests: number } {
  let sumMs = 0;
  let requests = 0;
  for (const f of frames) {
    const g = f.generator;
    const s = f.server;
    if (!g || !s || g.completed === 0 || g.completed !== s.joined || s.joined !== s.requests) continue;
    const serverSide = STAGES.reduce((t, stage) => t + s.stages[stage].sum_ms, 0);
    sumMs += g.sum_response_ms - serverSide;
    requests += g.completed;
  }
  return { sum_ms: sumMs, requests };
}

function mixOf(gens: readonly GeneratorInterval[]): PhaseStats['mix'] {
  const byName = new Map<string, { requests: number; errors: number; hdr: string[] }>();
  for (const g of gens) {
    for (const m of g.mix ?? []) {
      const e = byName.get(m.name) ?? { requests: 0, errors: 0, hdr: [] };
      e.requests += m.completed;
      e.errors += m.errors;
      e.hdr.push(m.latency_hdr);
      byName.set(m.name, e);
    }
  }
  if (byName.size === 0) return null;
  return [...byName].map(([name, e]) => {
    const lat = summariseHdr(e.hdr);
    return { name, requests: e.requests, errors: e.errors, p50_ms: round(lat && usToMs(lat.p50_us)), p99_ms: round(lat && usToMs(lat.p99_us)) };
  });
}

export function runPhases(
  run: RunStart,
  frames: readonly Frame[],
  host: HostCores | null = null,
): { server: string; model: string; size: Record<string, number>; phases: PhaseStats[] } {
  const own = frames.filter((f) => f.run === run.run);
  return { server: run.server, model: run.model, size: run.size, phases: phasesOf(own).map((p) => phaseStats(p.name, p.frames, host)) };
}
