/**
 * A run's answer: its peak, knee and max sustainable rate, what gave out and the evidence, the cost per request at
 * the knee, what to change with a predicted effect, and all of it in words. Pure: a run's phases in, a summary out.
 *
 * Predictions name their model: the simple capacity of a blocking pool (N contexts / the time each request holds
 * one, capped at the cores / CPU per request), the cores over CPU per request for a CPU-bound loop, the loop's own
 * utilisation for the headroom of a loop that never filled, and the USL where the run's concurrency varied enough
 * to fit (usl.ts).
 */
import { LIMIT_CAUSE_MEANING, formatSlo, type Frame, type LimitCause, type ModelId, type Slo } from '../vocabulary/index.js';
import { curveFindings, loadPoints, type LoadPoint } from './load-curve.js';
import { holdMs } from './capacity-verdict.js';
import type { PhaseStats } from './phase-stats.js';
import { whatGaveOutPastKnee, PER_CONNECTION_MODELS } from './gave-out.js';
import { effectiveCores, type HostCores } from './self-checks.js';
import { fitUsl, type UslResult } from './usl.js';
import { contextGroups, type ContextGroup } from './context-shares.js';
import { figure, reqPerSec as rps, round, sum } from './numbers.js';

export interface Prediction {
  change: string;
  predicted_rps: number;
  basis: string;
}

/** One point of the load curve, as charts draw it: per step (a ramp: per window), against its offered rate. */
export interface CurvePoint {
  name: string;
  offered_rps: number;
  achieved_rps: number;
  error_rate: number;
  p50_ms: number | null;
  p99_ms: number | null;
  concurrency: number | null;
  cpu_ms_per_request: number | null;
  runqueue_wait_ms_per_request: number | null;
  /** The event loops' p99 timer delay; null for a server without a loop. */
  loop_delay_p99_ms: number | null;
}

export interface RunSummary {
  peak_rps: number | null;
  /** The phase (or ramp window) of the peak. */
  peak_phase: string | null;
  /** The offered rate of the last step the server followed; null where it followed to the end (or no step). */
  knee_rps: number | null;
  knee_phase: string | null;
  knee_basis: string | null;
  max_sustainable_rps: number | null;
  /** The SLO it was judged against, as text; null when the scenario set none. */
  slo: string | null;
  limited_by: LimitCause;
  evidence: string[];
  graceful: boolean | null;
  degradation: ReturnType<typeof curveFindings>['degradation'];
  /** At the knee (or, with no knee, the heaviest step): per request. */
  cost_at_knee: { phase: string; cpu_ms: number | null; context_switches: number | null; runqueue_wait_ms: number | null; rss_mb: number | null } | null;
  /**
   * Resident memory per extra request in flight, MB: the growth of the contexts' summed RSS from the lightest step to
   * the heaviest over the growth of the mean in flight there; null where either did not grow (by one request, 0 MB).
   */
  memory_per_connection_mb: number | null;
  p99_at_knee_ms: number | null;
  /** The part that took most of the mean at the knee (not counting unmeasured). */
  dominant_part_at_knee: string | null;
  usl: UslResult | null;
  predictions: Prediction[];
  /** The points the peak and knee were read from. */
  curve: CurvePoint[];
  /** At the peak: the CPU and run-queue wait of each group of like contexts (context-shares.ts). */
  contexts_at_peak: ContextGroup[];
  diagnosis: string;
}

/**
 * The USL's peak is said only where N* is within this factor of the largest concurrency measured: further out it
 * is the fitted curve's extrapolation, not the points' (a 4-process prefork's steps say little of 37 in flight).
 */
export const USL_REACH = 2;

/** Pool sizes the size keys name, by model: what N a blocking pool's capacity is. */
const POOL_KEYS = ['threads', 'processes'] as const;

const r1 = (v: number) => Number(v.toFixed(1));
const fmtMs = (v: number) => `${figure(v)} ms`;

export function summariseRun(input: {
  server: string;
  model: string;
  size: Record<string, number>;
  /** The run's phases; `stats` where the caller has them already (phaseStats of the same frames and host). */
  phases: readonly { name: string; frames: readonly Frame[]; stats?: PhaseStats }[];
  host: HostCores | null;
  slo: Slo | null;
  /** The CPUs the server was pinned to, if it was. */
  cores?: number;
}): RunSummary {
  const points = loadPoints(input.phases, input.host);
  const curve = curveFindings(points, input.slo);
  const light = curve.points[0] ?? null;
  const at = curve.knee ?? curve.points[curve.points.length - 1] ?? null;
  const gave =
    light === null
      ? { cause: 'unknown' as const, evidence: ['no phase was measured'] }
      : curve.past_knee
        ? whatGaveOutPastKnee(input.model, curve.points.slice(curve.points.indexOf(curve.past_knee)), light, input.host, input.slo?.max_error_rate ?? 0.01, input.cores ?? null)
        : { cause: 'not_reached' as const, evidence: [`it followed the load up to ${at ? rps(at.offered_rps) : '-'} offered: ${LIMIT_CAUSE_MEANING.not_reached}`] };
  const usl = uslOf(curve.points);
  const cost = at ? costOf(at) : null;
  const predictions = at && light ? predict(input, gave.cause, at, light, usl, curve.points) : [];
  const summary: Omit<RunSummary, 'diagnosis'> = {
    peak_rps: curve.peak?.achieved_rps ?? null,
    peak_phase: curve.peak?.name ?? null,
    knee_rps: curve.knee?.offered_rps ?? null,
    knee_phase: curve.knee?.name ?? null,
    knee_basis: curve.knee_basis,
    max_sustainable_rps: curve.max_sustainable?.offered_rps ?? null,
    slo: input.slo ? formatSlo(input.slo) : null,
    limited_by: gave.cause,
    evidence: gave.evidence,
    graceful: curve.graceful,
    degradation: curve.degradation,
    cost_at_knee: cost,
    memory_per_connection_mb: light ? memoryPerConnection(light, curve.points[curve.points.length - 1]) : null,
    p99_at_knee_ms: at?.p99_ms ?? null,
    dominant_part_at_knee: at ? dominantPart(at) : null,
    usl,
    predictions,
    curve: curve.points.map(curvePoint),
    contexts_at_peak: curve.peak ? contextGroups(curve.peak.frames) : [],
  };
  return { ...summary, diagnosis: diagnose(input, summary, light, at) };
}

function curvePoint(p: LoadPoint): CurvePoint {
  const s = p.stats;
  return {
    name: p.name,
    offered_rps: p.offered_rps,
    achieved_rps: p.achieved_rps,
    error_rate: p.error_rate,
    p50_ms: s.latency_ms?.p50 ?? null,
    p99_ms: p.p99_ms,
    concurrency: round(p.concurrency, 2),
    cpu_ms_per_request: s.cpu_ms_per_request,
    runqueue_wait_ms_per_request: s.runqueue_wait_ms_per_request,
    loop_delay_p99_ms: s.eventloop_delay_ms?.p99 ?? null,
  };
}

/** The contexts' resident sets summed per interval, averaged over the intervals that read them, bytes; null if none. */
function rssBytes(p: LoadPoint): number | null {
  const rss = p.frames.map((f) => f.contexts.flatMap((c) => (c.rss_bytes !== null ? [c.rss_bytes] : []))).filter((l) => l.length > 0);
  return rss.length ? sum(rss, (l) => sum(l, (v) => v)) / rss.length : null;
}

function memoryPerConnection(light: LoadPoint, heavy: LoadPoint): number | null {
  const a = rssBytes(light);
  const b = rssBytes(heavy);
  if (a === null || b === null || light.concurrency === null || heavy.concurrency === null) return null;
  const more = heavy.concurrency - light.concurrency;
  if (more < 1 || b <= a) return null;
  return round((b - a) / more / 2 ** 20, 2);
}

function costOf(p: LoadPoint): RunSummary['cost_at_knee'] {
  const s = p.stats;
  const cs = s.context_switches_per_request;
  const rss = rssBytes(p);
  return {
    phase: p.name,
    cpu_ms: s.cpu_ms_per_request,
    context_switches: cs ? round(cs.voluntary + cs.involuntary, 2) : null,
    runqueue_wait_ms: s.runqueue_wait_ms_per_request,
    rss_mb: rss === null ? null : round(rss / 2 ** 20, 1),
  };
}

function dominantPart(p: LoadPoint): string | null {
  const entries = Object.entries(p.stats.parts_ms).filter(([k, v]) => k !== 'unmeasured' && v !== null) as [string, number][];
  if (entries.length === 0) return null;
  return entries.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}

/** The USL over the run's steps, concurrency from Little's law (the agents' mean in flight). */
function uslOf(points: readonly LoadPoint[]): UslResult | null {
  const usable = points.filter((p) => p.concurrency !== null && p.concurrency > 0 && p.achieved_rps > 0);
  if (points.length === 0) return null;
  return fitUsl(usable.map((p) => ({ n: p.concurrency!, x: p.achieved_rps })));
}

/** A blocking pool of n: n / hold time, capped by the cores / CPU per request. */
function poolCapacity(n: number, hold: number, cpuMs: number | null, coreCount: number | null): { rps: number; basis: string } {
  const byPool = (n * 1000) / hold;
  const byCpu = cpuMs && coreCount ? (coreCount * 1000) / cpuMs : Infinity;
  const capped = byCpu < byPool;
  return {
    rps: r1(Math.min(byPool, byCpu)),
    basis:
      `simple capacity of a blocking pool: ${n} / ${fmtMs(hold)} held per request = ${rps(byPool)}` +
      (Number.isFinite(byCpu) ? `, ${capped ? 'capped at' : 'under'} ${coreCount} cores / ${fmtMs(cpuMs!)} CPU per request = ${rps(byCpu)}` : ''),
  };
}

function predict(
  input: { model: string; size: Record<string, number>; host: HostCores | null; cores?: number },
  cause: LimitCause,
  at: LoadPoint,
  light: LoadPoint,
  usl: UslResult | null,
  points: readonly LoadPoint[],
): Prediction[] {
  const out: Prediction[] = [];
  const hold = holdMs(light.stats);
  const cpu = at.stats.cpu_ms_per_request;
  const coreCount = input.host === null ? null : Math.min(effectiveCores(input.host), input.cores ?? Infinity);
  const key = POOL_KEYS.find((k) => input.size[k] !== undefined);
  if (hold !== null && hold > 0) {
    if (cause === 'accept_queue' && key && (input.model === 'thread-pool' || input.model === 'prefork')) {
      const n = input.size[key] * 2;
      const c = poolCapacity(n, hold, cpu, coreCount);
      out.push({ change: `${key}: ${input.size[key]} -> ${n}`, predicted_rps: c.rps, basis: c.basis });
    }
    if (cause === 'accept_queue' && input.model === 'iterative') {
      const c = poolCapacity(8, hold, cpu, coreCount);
      out.push({ change: 'a pool of 8 threads (thread-pool) instead of one request at a time', predicted_rps: c.rps, basis: c.basis });
    }
    if (cause === 'context_creation' || PER_CONNECTION_MODELS.includes(input.model as ModelId)) {
      // The pool's CPU per request is not known from this run (creation is in it): the cap is left out, and said.
      const c = poolCapacity(8, hold, null, null);
      out.push({ change: 'a pool of 8 threads made once (thread-pool) instead of a context per connection', predicted_rps: c.rps, basis: `${c.basis} (the CPU of creation left out; not capped by CPU)` });
    }
  }
  const elu = at.stats.eventloop_utilization;
  const loopModel = input.model.startsWith('event-loop') || input.model === 'hybrid';
  if (loopModel && cause === 'not_reached' && elu !== null && elu > 0) {
    // The loops' headroom, and the host's: loops on more threads than cores run out of cores first.
    const byLoop = at.achieved_rps / elu;
    const byCpu = cpu && coreCount ? (coreCount * 1000) / cpu : Infinity;
    out.push({
      change: 'none needed at this load: the headroom as it is',
      predicted_rps: r1(Math.min(byLoop, byCpu)),
      basis:
        `the loops were ${Math.round(elu * 100)} % busy at ${rps(at.achieved_rps)}: ${rps(at.achieved_rps)} / ${elu.toFixed(3)} = ${rps(byLoop)}` +
        (Number.isFinite(byCpu) ? `, ${byCpu < byLoop ? 'capped at' : 'under'} ${coreCount} cores / ${fmtMs(cpu!)} CPU per request = ${rps(byCpu)}` : '') +
        ', if the time per request stays',
    });
  }
  if (loopModel && cause === 'cpu' && cpu && coreCount && input.model !== 'event-loop-per-core') {
    out.push({ change: `one loop per core (event-loop-per-core, ${coreCount} processes)`, predicted_rps: r1((coreCount * 1000) / cpu), basis: `${coreCount} cores / ${fmtMs(cpu)} CPU per request` });
  }
  const measuredN = Math.max(0, ...points.flatMap((p) => (p.concurrency !== null ? [p.concurrency] : [])));
  if (usl?.ok && usl.fit.peak_rps !== null && usl.fit.n_star !== null && usl.fit.n_star <= USL_REACH * measuredN) {
    out.push({ change: `${usl.fit.n_star.toFixed(1)} requests in flight (the USL's N*)`, predicted_rps: r1(usl.fit.peak_rps), basis: `USL fit of the run's steps (sigma ${usl.fit.sigma.toFixed(4)}, kappa ${usl.fit.kappa.toFixed(5)}, r2 ${usl.fit.r2.toFixed(3)})` });
  }
  return out;
}

const MODEL_WORDS: Record<string, string> = {
  iterative: 'one request at a time on one thread',
  'thread-pool': 'a fixed pool of threads, each serving one request at a time',
  'thread-per-connection': 'a new thread for every connection',
  prefork: 'a fixed set of processes, each serving one request at a time',
  'fork-per-connection': 'a new process for every connection',
  'event-loop': 'one event loop multiplexing every connection',
  'event-loop-raw': 'one event loop on raw sockets with its own HTTP parser',
  'event-loop-per-core': 'one event loop per core, in processes sharing the listener',
  hybrid: 'event loops on a few threads',
};

function diagnose(
  input: { server: string; model: string; size: Record<string, number> },
  s: Omit<RunSummary, 'diagnosis'>,
  light: LoadPoint | null,
  at: LoadPoint | null,
): string {
  if (light === null || at === null) return `${input.server}: no phase was measured.`;
  const size = Object.entries(input.size).map(([k, v]) => `${v} ${k}`).join(', ');
  const words: string[] = [];
  words.push(`${input.server} (${input.model}${size ? `, ${size}` : ''}: ${MODEL_WORDS[input.model] ?? 'a server srvlens did not build'})`);
  words.push(`peaks at ${s.peak_rps === null ? '-' : rps(s.peak_rps)}${s.peak_phase ? ` (${s.peak_phase})` : ''}`);
  words.push(s.knee_rps !== null ? `and follows the load up to ${rps(s.knee_rps)} offered.` : `and follows the load to the heaviest step, ${rps(at.offered_rps)}.`);
  const top = topParts(light);
  if (top) words.push(`At ${rps(light.offered_rps)} its ${fmtMs(light.stats.latency_ms.mean ?? 0)} mean goes to ${top}.`);
  if (s.limited_by !== 'not_reached') words.push(`Past the knee ${LIMIT_CAUSE_MEANING[s.limited_by]}: ${s.evidence.join('; ')}.`);
  else words.push(s.evidence[0] ? `${s.evidence[0][0].toUpperCase()}${s.evidence[0].slice(1)}.` : '');
  if (s.graceful !== null) {
    const worst = s.degradation.reduce((a, b) => (b.achieved_share < a.achieved_share ? b : a));
    words.push(
      s.graceful
        ? `It degrades gracefully: at ${worst.times_peak}x its peak's rate it still answers ${Math.round(worst.achieved_share * 100)} % of the peak (${Math.round(worst.error_rate * 100)} % errors).`
        : `It does not degrade gracefully: at ${worst.times_peak}x its peak's rate it answers ${Math.round(worst.achieved_share * 100)} % of the peak (${Math.round(worst.error_rate * 100)} % errors).`,
    );
  }
  if (s.slo) words.push(s.max_sustainable_rps !== null ? `Within ${s.slo} it sustains ${rps(s.max_sustainable_rps)}.` : `Not even its lightest step, ${rps(light.offered_rps)}, is within ${s.slo}.`);
  const p = s.predictions[0];
  if (p) words.push(`With ${p.change}: ~${rps(p.predicted_rps)} (${p.basis}).`);
  return words.filter((w) => w !== '').join(' ');
}

/** The two largest parts of the mean at a point, with their share: "downstream 20.4 ms (91 %), send_wait 1.2 ms". */
function topParts(p: LoadPoint): string | null {
  const mean = p.stats.latency_ms.mean;
  const entries = (Object.entries(p.stats.parts_ms).filter(([k, v]) => k !== 'unmeasured' && v !== null) as [string, number][]).sort((a, b) => b[1] - a[1]);
  if (!mean || entries.length === 0) return null;
  return entries
    .slice(0, 2)
    .map(([k, v]) => `${k} ${fmtMs(v)} (${Math.round((v / mean) * 100)} %)`)
    .join(', ');
}
