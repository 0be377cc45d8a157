/**
 * Whether one capacity probe sustained its rate within the SLO, and if not, what gave out. Pure: a probe's frames
 * (warm-up already left out) and the SLO in, a verdict out. The SLO's percentile being breached is the symptom;
 * the verdict names the cause where the frames show one: the generator itself, errors, the backend's limit, or the
 * server (its own queue, with its loop's utilization as evidence). Saturation counts only in the intervals given:
 * the caller leaves the warm-up out.
 */
import { phaseStats, type PhaseStats } from './phase-stats.js';
import {
  CPU_SATURATION_SHARE, DRAIN_PHASE, SLO_LABELS, SLO_LATENCY_KEYS, SLO_PERCENTILES, formatSlo, type Frame, type Slo, type SloLatencyKey,
} from '../vocabulary/index.js';
import { readMerged } from '../vocabulary/hdr.js';
import { figure } from './numbers.js';

/** Share of the offered rate that must be answered for the rate to count as sustained (the rest is a backlog). */
export const SUSTAIN_SHARE = 0.95;
/**
 * When calls wait for a free backend slot a tenth of a request's mean time or more, with every slot busy, the
 * requests are queueing on the backend's limit: it is what gave out, whatever the server does.
 */
export const BACKEND_QUEUE_SHARE = 0.1;
/** An event loop this busy has no slack left: its queue is where the time went. */
const LOOP_BUSY = 0.9;

export type GaveOut = 'latency' | 'errors' | 'backend' | 'generator' | 'throughput';

export interface ProbeVerdict {
  rate: number;
  pass: boolean;
  /** What gave out, when it did not pass. */
  gave_out: GaveOut | null;
  reason: string;
  achieved_rps: number;
  error_rate: number;
  latency_ms: Partial<Record<SloLatencyKey, number>>;
  /**
   * How long a request held its context, ms: the handler's parts (parse to send), without the queues before it;
   * null where no agent measured them. A blocking pool of N serves at most N / hold_ms (a sweep's lambda).
   */
  hold_ms: number | null;
  /** CPU per request over every context, ms (a cores sweep's lambda is a core / this); null where not measured. */
  cpu_ms_per_request: number | null;
}

/** The handler's parts of a mean request, parse to send (ms): the time it holds its context; null if none measured. */
export function holdMs(stats: Pick<PhaseStats, 'parts_ms'>): number | null {
  const p = stats.parts_ms;
  const list = [p.parse, p.process, p.downstream, p.transform, p.send];
  return list.every((v) => v === null) ? null : list.reduce<number>((s, v) => s + (v ?? 0), 0);
}


export function judgeProbe(rate: number, frames: readonly Frame[], slo: Slo): ProbeVerdict {
  const stats = phaseStats('probe', frames);
  const latency = percentiles(frames, slo);
  // Requests are counted when they end: the window also holds the ends of warm-up requests, so rates are of what
  // ended in it, and the error rate is of requests that ended (errors over answers and errors), never over what was due.
  const ended = stats.requests + stats.errors;
  const errorRate = ended > 0 ? stats.errors / ended : 0;
  const window = frames.filter((f) => f.generator?.phase !== DRAIN_PHASE);
  const windowS = window.reduce((a, f) => a + f.interval_ms, 0) / 1000;
  const achieved = windowS > 0 ? Number((window.reduce((a, f) => a + (f.generator?.completed ?? 0), 0) / windowS).toFixed(1)) : 0;
  const base = { rate, achieved_rps: achieved, error_rate: Number(errorRate.toFixed(4)), latency_ms: latency, hold_ms: holdMs(stats), cpu_ms_per_request: stats.cpu_ms_per_request };
  const fail = (gave_out: GaveOut, reason: string): ProbeVerdict => ({ ...base, pass: false, gave_out, reason: `at ${rate} req/s ${reason}` });

  // A late generator makes latency look worse, never better: a pass despite it stands. A failure is the generator's
  // when it ran out of CPU, or when its own delay is enough to explain the breach; a backlog of hundreds of ms behind
  // a generator 15 ms late on a busy host is still the server's.
  const own = generatorOwn(frames);
  const generator = () =>
    fail('generator', `the generator itself could not keep up (${stats.generator_saturation.join('; ')}): the server's limit was not measured there`);
  if (stats.requests === 0 && stats.errors === 0) return fail('throughput', 'nothing was answered');
  if (errorRate > slo.max_error_rate) {
    if (own.cpuBound) return generator();
    return fail('errors', `${(errorRate * 100).toFixed(1)}% of requests failed (SLO: at most ${(slo.max_error_rate * 100).toFixed(1)}%)`);
  }
  const breached = SLO_LATENCY_KEYS.find((k) => slo[k] !== undefined && (latency[k] ?? Infinity) > slo[k]!);
  const short = achieved < SUSTAIN_SHARE * rate;
  if (breached === undefined && !short) return { ...base, pass: true, gave_out: null, reason: `at ${rate} req/s within ${formatSlo(slo)}` };

  if (own.cpuBound || (breached !== undefined && stats.generator_saturated && (latency[breached] ?? Infinity) - own.delayMs <= slo[breached]!)) return generator();
  const symptom = breached
    ? `${SLO_LABELS[breached]} was ${figure(latency[breached] ?? NaN)} ms (SLO ${SLO_LABELS[breached]}<${slo[breached]}ms)`
    : `only ${achieved} of ${rate} req/s were answered`;
  const backend = backendLimit(frames, stats);
  if (backend !== null) return fail('backend', `${symptom}: the backend's limit gave out (${backend})`);
  return fail(breached ? 'latency' : 'throughput', `${symptom}${serverEvidence(stats)}`);
}

/** Whether the generator ran out of CPU in any interval, and the worst delay it caused itself, ms. */
export function generatorOwn(frames: readonly Frame[]): { cpuBound: boolean; delayMs: number } {
  let cpuBound = false;
  let delayMs = 0;
  for (const f of frames) {
    const g = f.generator;
    if (!g) continue;
    // A generator spread over threads reports their summed CPU; each thread has a core's worth.
    if (g.cpu_ms / f.interval_ms >= CPU_SATURATION_SHARE * (g.threads ?? 1)) cpuBound = true;
    delayMs = Math.max(delayMs, g.loop_lag_max_ms, g.send_late_max_ms ?? 0);
  }
  return { cpuBound, delayMs };
}

/** The SLO's percentiles of the probe's latency (corrected for coordinated omission), from the merged histogram. */
function percentiles(frames: readonly Frame[], slo: Slo): Partial<Record<SloLatencyKey, number>> {
  const out: Partial<Record<SloLatencyKey, number>> = {};
  readMerged(frames.map((f) => f.generator?.latency_hdr ?? ''), (merged) => {
    for (const k of SLO_LATENCY_KEYS) {
      if (slo[k] === undefined) continue;
      const us = k === 'max_ms' ? merged.maxValue : merged.getValueAtPercentile(SLO_PERCENTILES[k]);
      out[k] = Number((us / 1000).toFixed(3));
    }
  });
  return out;
}

/** Evidence that the backend's limit is what the requests queued on, or null. */
export function backendLimit(frames: readonly Frame[], stats: PhaseStats): string | null {
  const list = frames.flatMap((f) => (f.backend ? [f.backend] : []));
  const b = stats.backend;
  if (list.length === 0 || b === null || b.mean_queue_ms === null || stats.latency_ms.mean === null) return null;
  const limit = list[0].limit;
  const inService = Math.max(...list.map((x) => x.in_service_max));
  if (inService < limit || b.mean_queue_ms < BACKEND_QUEUE_SHARE * stats.latency_ms.mean) return null;
  return `all ${limit} calls in service, up to ${b.queue_max} waiting, ${figure(b.mean_queue_ms)} ms mean wait for a slot`;
}

function serverEvidence(stats: PhaseStats): string {
  const elu = stats.eventloop_utilization;
  if (elu !== null && elu >= LOOP_BUSY) return `: the server's event loop was ${Math.round(elu * 100)}% busy`;
  const parts: string[] = [];
  if (stats.parts_ms.send_wait !== null && stats.latency_ms.mean !== null) parts.push(`${figure(stats.parts_ms.send_wait)} ms of ${figure(stats.latency_ms.mean)} ms mean waiting for a connection`);
  if (stats.cpu_ms_per_request !== null) parts.push(`${figure(stats.cpu_ms_per_request)} ms CPU per request`);
  return parts.length > 0 ? ` (the server: ${parts.join(', ')})` : '';
}
