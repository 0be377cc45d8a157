/**
 * A service in production, from what its agents measured (no load generator, no offered load): how busy it was at
 * its busiest, what it can take, and so how much headroom is left; and which instance is unlike the others.
 *
 * Capacity, the rate at the knee, comes from the first that can say:
 * - a capacity run of the same service recorded with srvlens (`--capacity FILE`): its knee (else its peak: a run that
 *   never bent says "at least"), times the instances where the run was of one;
 * - the USL fitted to the production points themselves (throughput against the mean in flight, Little's L from the
 *   agents' in-flight integral), where they span enough concurrency and the fitted curve peaks;
 * - the CPU: where it would reach HOST_CPU_BUSY (what gave-out.ts calls CPU-bound) of the cores the agents say the
 *   process may use (cgroup cpu.max, cpuset, else the host's) at the CPU per request measured, and no thread past
 *   one core: the busiest serving thread (an event loop's) at its own CPU per request.
 * The lowest of the last two where both speak. Where none can, capacity is null and `basis` says why.
 */
import type { Frame, LimitCause } from '../vocabulary/index.js';
import { HOST_CPU_BUSY } from './gave-out.js';
import { modelCosts } from './model-costs.js';
import { figure, reqPerSec as rps, round, sum } from './numbers.js';
import { serverSideStats } from './server-side-stats.js';
import { fitUsl, type UslResult } from './usl.js';

/** The busiest stretch a headroom is said against: long enough to be load, not a spike. */
export const PEAK_WINDOW_MS = 5 * 60_000;
/** An instance this far above the others' median (p99, or CPU per request) is named. */
export const OUTLIER_FACTOR = 1.5;

export interface Headroom {
  /** The fleet's served rate over its busiest PEAK_WINDOW_MS (the whole range where shorter). */
  current_peak_rps: number | null;
  peak_window: { from: string; to: string; seconds: number } | null;
  capacity_rps: number | null;
  /** current / capacity; headroom_x is its inverse: how many times the current peak it can take. */
  ratio: number | null;
  headroom_x: number | null;
  limited_by: LimitCause | 'contention' | null;
  basis: string;
}

export interface InstanceFigures {
  server: string;
  instance: string;
  served_rps: number | null;
  p99_ms: number | null;
  cpu_ms_per_request: number | null;
  runqueue_wait_ms_per_request: number | null;
  cpu_limit: number | null;
  /** Why this instance is unlike the others, in words; null where it is not. */
  outlier: string | null;
}

export interface ProductionSummary {
  headroom: Headroom;
  usl: UslResult | null;
  instances: InstanceFigures[];
  diagnosis: string;
}

export interface CapacityRun {
  rps: number;
  limited_by: LimitCause;
  /** The run never passed its knee: the rate is what it sustained, at least. */
  at_least: boolean;
  /** Where it came from, for the basis: the file and server. */
  source: string;
}

export interface ProductionInput {
  service: string;
  frames: readonly Frame[];
  /** At least one: a fleet of one is its own instance. cpuLimit: the cores the agents said it may use (null: not said). */
  instances: { server: string; instance: string; frames: readonly Frame[]; cpuLimit: number | null; cpuLimitSource: string | null }[];
  capacity: CapacityRun | null;
}

/** The busiest window of consecutive frames spanning up to PEAK_WINDOW_MS: its served rate and its bounds. */
function busiest(frames: readonly Frame[]): { rps: number; from: number; to: number } | null {
  const list = frames.filter((f) => f.server !== null);
  if (list.length === 0) return null;
  const per = list[0].interval_ms;
  const width = Math.max(1, Math.min(list.length, Math.round(PEAK_WINDOW_MS / per)));
  let best: { rps: number; from: number; to: number } | null = null;
  for (let i = 0; i + width <= list.length; i++) {
    const w = list.slice(i, i + width);
    const r = (sum(w, (f) => f.server!.requests) * 1000) / sum(w, (f) => f.interval_ms);
    if (!best || r > best.rps) best = { rps: r, from: w[0].t_ms, to: w[w.length - 1].t_ms + w[w.length - 1].interval_ms };
  }
  return best;
}

/** Production points for the USL: per step, throughput and the mean in flight (Little's L). */
function uslPoints(frames: readonly Frame[]) {
  return frames.flatMap((f) => {
    const s = f.server;
    if (!s || s.requests === 0 || s.in_flight_ms === undefined) return [];
    return [{ n: s.in_flight_ms / f.interval_ms, x: (s.requests * 1000) / f.interval_ms }];
  });
}

/**
 * What the CPU allows one instance: HOST_CPU_BUSY of its cores (`source` says who set them), and its busiest serving
 * thread at one core; the lower.
 */
function cpuCeiling(frames: readonly Frame[], cores: number | null, source: string | null): { rps: number; basis: string } | null {
  const requests = sum(frames, (f) => f.server?.requests ?? 0);
  if (requests === 0) return null;
  const costs = modelCosts(frames, requests);
  const out: { rps: number; basis: string }[] = [];
  if (cores !== null && costs.cpu_ms_per_request) {
    const from = source ? ` (the limit from ${source})` : '';
    out.push({ rps: (HOST_CPU_BUSY * cores * 1000) / costs.cpu_ms_per_request, basis: `${figure(costs.cpu_ms_per_request)} ms CPU per request on ${figure(cores)} cores (${Math.round(HOST_CPU_BUSY * 100)} % busy)${from}` });
  }
  // The thread that served most: a loop cannot use more than its one core whatever the host has.
  const byThread = new Map<string, { cpu: number; name: string }>();
  for (const f of frames) for (const c of f.contexts) if (c.role === 'js') {
    const t = byThread.get(c.key) ?? { cpu: 0, name: c.name };
    t.cpu += c.cpu_user_ms + c.cpu_system_ms;
    byThread.set(c.key, t);
  }
  const threads = [...byThread.values()].sort((a, b) => b.cpu - a.cpu);
  // Only where one thread did most of the work: in a pool, no single thread is the limit.
  if (threads.length && threads[0].cpu > 0.5 * sum(threads, (t) => t.cpu)) {
    const perRequest = threads[0].cpu / requests;
    out.push({ rps: (HOST_CPU_BUSY * 1000) / perRequest, basis: `its busiest thread (${threads[0].name}) ${figure(perRequest)} ms CPU per request on its one core (${Math.round(HOST_CPU_BUSY * 100)} % busy)` });
  }
  return out.length ? out.reduce((a, b) => (b.rps < a.rps ? b : a)) : null;
}

function outliers(list: Omit<InstanceFigures, 'outlier'>[]): InstanceFigures[] {
  const median = (v: number[]) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  return list.map((x, i) => {
    if (list.length < 2) return { ...x, outlier: null };
    const others = list.filter((_, j) => j !== i);
    const said: string[] = [];
    const p99 = median(others.flatMap((o) => (o.p99_ms !== null ? [o.p99_ms] : [])));
    if (x.p99_ms !== null && p99 !== null && x.p99_ms >= OUTLIER_FACTOR * p99) said.push(`slower: p99 ${figure(x.p99_ms)} ms against ${figure(p99)} ms for the others`);
    const cpu = median(others.flatMap((o) => (o.cpu_ms_per_request !== null ? [o.cpu_ms_per_request] : [])));
    if (x.cpu_ms_per_request !== null && cpu !== null && x.cpu_ms_per_request >= OUTLIER_FACTOR * cpu) said.push(`costlier: ${figure(x.cpu_ms_per_request)} ms CPU per request against ${figure(cpu)} ms for the others`);
    return { ...x, outlier: said.length ? said.join('; ') : null };
  });
}

export function summariseProduction(input: ProductionInput): ProductionSummary {
  const peak = busiest(input.frames);
  const iso = (ms: number) => new Date(ms).toISOString();
  const points = uslPoints(input.frames);
  const usl = points.length ? fitUsl(points) : null;

  // Capacity: the capacity run, else the lower of the USL's peak and the CPU's ceiling.
  const candidates: { rps: number; limited_by: Headroom['limited_by']; basis: string }[] = [];
  const notes: string[] = [];
  const n = input.instances.length;
  if (input.capacity) {
    const c = input.capacity;
    candidates.push({
      rps: c.rps * n,
      limited_by: c.limited_by,
      basis: `the capacity run ${c.source}: ${c.at_least ? 'no knee up to' : 'its knee at'} ${rps(c.rps)}${n > 1 ? ` per instance, x ${n} instances` : ''}`,
    });
  } else {
    if (usl?.ok && usl.fit.peak_rps !== null) candidates.push({ rps: usl.fit.peak_rps, limited_by: 'contention', basis: `the USL of the production points (${usl.fit.points} steps, r2 ${usl.fit.r2.toFixed(2)}): throughput peaks at ${figure(usl.fit.n_star!)} in flight` });
    else if (usl) notes.push(usl.ok ? `the USL of the production points does not peak (sigma ${usl.fit.sigma.toFixed(3)}, kappa ${usl.fit.kappa.toExponential(1)}): no contention limit in sight` : `the USL refused the production points: ${usl.reason}`);
    const perInstance = input.instances.map((i) => cpuCeiling(i.frames, i.cpuLimit, i.cpuLimitSource));
    if (perInstance.every((c) => c !== null)) {
      const total = sum(perInstance, (c) => c!.rps);
      candidates.push({ rps: total, limited_by: 'cpu', basis: `CPU: ${perInstance[0]!.basis}${n > 1 ? `, summed over ${n} instances` : ''}` });
    } else notes.push('no CPU ceiling: the agents did not say how many cores they may use, or no request was served');
  }
  const cap = candidates.length ? candidates.reduce((a, b) => (b.rps < a.rps ? b : a)) : null;
  const current = peak?.rps ?? null;
  const ratio = cap && current !== null ? current / cap.rps : null;
  const headroom: Headroom = {
    current_peak_rps: round(current, 1),
    peak_window: peak && { from: iso(peak.from), to: iso(peak.to), seconds: Math.round((peak.to - peak.from) / 1000) },
    capacity_rps: cap ? round(cap.rps, 1) : null,
    ratio: round(ratio, 3),
    headroom_x: ratio ? round(1 / ratio, 2) : null,
    limited_by: cap?.limited_by ?? null,
    basis: [cap?.basis ?? 'no capacity could be read', ...notes].join('; '),
  };

  const instances = outliers(
    input.instances.map((i) => {
      const s = serverSideStats(i.frames);
      const costs = modelCosts(i.frames, s.requests ?? 0);
      return {
        server: i.server,
        instance: i.instance,
        served_rps: round(s.served_rps, 1),
        p99_ms: round(s.time_ms?.p99 ?? null, 3),
        cpu_ms_per_request: costs.cpu_ms_per_request,
        runqueue_wait_ms_per_request: costs.runqueue_wait_ms_per_request,
        cpu_limit: i.cpuLimit,
      };
    }),
  );

  const words: string[] = [];
  if (current !== null && peak) {
    const span = peak.to - peak.from < PEAK_WINDOW_MS ? `over the whole range, ${Math.round((peak.to - peak.from) / 1000)} s` : 'its busiest 5 min';
    words.push(
      cap
        ? `${input.service} served ${rps(current)} at its peak (${span}): ${Math.round(ratio! * 100)} % of the knee (${rps(cap.rps)}), ${figure(1 / ratio!)}x headroom; the knee is set by ${cap.limited_by === 'contention' ? 'contention' : cap.limited_by} (${cap.basis}).`
        : `${input.service} served ${rps(current)} at its peak (${span}); what it can take is not known: ${headroom.basis}.`,
    );
  }
  for (const i of instances) if (i.outlier) words.push(`Instance ${i.instance} is ${i.outlier}.`);
  return { headroom, usl, instances, diagnosis: words.join(' ') };
}
