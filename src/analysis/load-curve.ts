/**
 * Throughput and latency against offered load, over a run's phases: the points, the peak, the knee, the highest
 * rate sustained within an SLO, and whether the server degrades gracefully past its peak. Pure: phases in, findings
 * out. A ramp phase is cut into windows of RAMP_WINDOW_INTERVALS intervals, each a point of its own.
 */
import type { Frame, Slo } from '../vocabulary/index.js';
import { judgeProbe, SUSTAIN_SHARE } from './capacity-verdict.js';
import { kneedle, KNEE_SENSITIVITY } from './knee.js';
import { phaseStats, type PhaseStats } from './phase-stats.js';
import { sum } from './numbers.js';
import type { HostCores } from './self-checks.js';

/**
 * Latency has turned up where its p99 is this many times the lowest p99 at any lighter load: a queue has formed.
 * Between steps of a quiet host p99 moves by tens of per cent (a 20 ms request's p99 reads 24-38 ms on the tour).
 */
export const LATENCY_TURN = 2;
/** Degrading gracefully: at twice the peak's rate and beyond, the server still answers this share of its peak. */
export const GRACEFUL_SHARE = 0.9;
/** A phase whose intervals ask for rates this far apart is a ramp, cut into windows. */
const RAMP_SPREAD = 0.1;
/** Intervals per point of a ramp: enough to read a p99 from, few enough to follow the ramp. */
export const RAMP_WINDOW_INTERVALS = 3;

export interface LoadPoint {
  name: string;
  offered_rps: number;
  achieved_rps: number;
  error_rate: number;
  p99_ms: number | null;
  /** Mean requests in flight at the server (the agents' integral), else achieved x mean latency (Little's N). */
  concurrency: number | null;
  stats: PhaseStats;
  frames: readonly Frame[];
}

export interface CurveFindings {
  points: LoadPoint[];
  /** The point of the highest achieved rate. */
  peak: LoadPoint | null;
  /** The last point at which the server followed the load (null: it followed to the end, or never). */
  knee: LoadPoint | null;
  /** How the knee was found, in words (which curve bent, at what sensitivity). */
  knee_basis: string | null;
  /** The first point past the knee: where what gave out is read. */
  past_knee: LoadPoint | null;
  max_sustainable: LoadPoint | null;
  /** Points at twice the peak's rate or more, each as a share of the peak; graceful when all keep GRACEFUL_SHARE. */
  degradation: { name: string; offered_rps: number; times_peak: number; achieved_share: number; error_rate: number; p99_ms: number | null }[];
  graceful: boolean | null;
}

/** `stats`, where given, is phaseStats of the phase's frames: reused when the phase is one point (not a ramp). */
export function loadPoints(phases: readonly { name: string; frames: readonly Frame[]; stats?: PhaseStats }[], host: HostCores | null): LoadPoint[] {
  const out: LoadPoint[] = [];
  for (const phase of phases) {
    const windows = windowsOf(phase);
    for (const w of windows) {
      const stats = windows.length === 1 && phase.stats ? phase.stats : phaseStats(w.name, w.frames, host);
      const ended = stats.requests + stats.errors;
      const inFlight = w.frames.flatMap((f) => (f.server?.in_flight_ms !== undefined ? [f.server.in_flight_ms] : []));
      const spanMs = sum(w.frames, (f) => f.interval_ms);
      const concurrency =
        inFlight.length === w.frames.filter((f) => f.server).length && inFlight.length > 0 && spanMs > 0
          ? sum(inFlight, (v) => v) / spanMs
          : stats.latency_ms.mean !== null
            ? (stats.achieved_rps * stats.latency_ms.mean) / 1000
            : null;
      out.push({
        name: w.name,
        offered_rps: stats.offered_rps,
        achieved_rps: stats.achieved_rps,
        error_rate: ended ? stats.errors / ended : 0,
        p99_ms: stats.latency_ms.p99,
        concurrency,
        stats,
        frames: w.frames,
      });
    }
  }
  return out;
}

function windowsOf(phase: { name: string; frames: readonly Frame[] }): { name: string; frames: readonly Frame[] }[] {
  const rates = phase.frames.flatMap((f) => (f.generator && f.generator.phase === phase.name ? [f.generator.target_rps] : []));
  const hi = Math.max(...rates);
  const lo = Math.min(...rates);
  if (rates.length < 2 * RAMP_WINDOW_INTERVALS || !(hi > 0) || (hi - lo) / hi <= RAMP_SPREAD) return [phase];
  const out: { name: string; frames: Frame[] }[] = [];
  for (let i = 0; i < phase.frames.length; i += RAMP_WINDOW_INTERVALS) {
    out.push({ name: `${phase.name}@${out.length + 1}`, frames: phase.frames.slice(i, i + RAMP_WINDOW_INTERVALS) });
  }
  // A short tail (the drain) joins the window before it.
  const last = out[out.length - 1];
  if (out.length > 1 && last.frames.length < RAMP_WINDOW_INTERVALS) out[out.length - 2].frames.push(...out.pop()!.frames);
  return out;
}

/** `slo` null: no max sustainable rate (the scenario set none). */
export function curveFindings(points: readonly LoadPoint[], slo: Slo | null): CurveFindings {
  const sorted = [...points].sort((a, b) => a.offered_rps - b.offered_rps);
  const peak = sorted.reduce<LoadPoint | null>((best, p) => (best === null || p.achieved_rps > best.achieved_rps ? p : best), null);
  const { index, basis } = kneeIndex(sorted);
  const knee = index === null ? null : sorted[index];
  const past = index === null ? null : sorted[index + 1] ?? null;
  const degradation =
    peak && peak.achieved_rps > 0
      ? sorted
          .filter((p) => p.offered_rps >= 2 * peak.achieved_rps)
          .map((p) => ({
            name: p.name,
            offered_rps: p.offered_rps,
            times_peak: Number((p.offered_rps / peak.achieved_rps).toFixed(2)),
            achieved_share: Number((p.achieved_rps / peak.achieved_rps).toFixed(3)),
            error_rate: Number(p.error_rate.toFixed(4)),
            p99_ms: p.p99_ms,
          }))
      : [];
  return {
    points: sorted,
    peak,
    knee,
    knee_basis: basis,
    past_knee: past,
    max_sustainable: slo ? maxSustainable(sorted, slo) : null,
    degradation,
    graceful: degradation.length === 0 ? null : degradation.every((d) => d.achieved_share >= GRACEFUL_SHARE),
  };
}

/**
 * The knee: the earlier of where throughput bends (Kneedle on achieved against offered, from the origin, since no
 * load is no throughput) and the last point before latency turns up (p99 LATENCY_TURN times the lowest before it).
 * A throughput bend counts only where some point fell short of following (SUSTAIN_SHARE of offered).
 */
function kneeIndex(sorted: readonly LoadPoint[]): { index: number | null; basis: string | null } {
  const candidates: { index: number; basis: string }[] = [];
  if (sorted.some((p) => p.achieved_rps < SUSTAIN_SHARE * p.offered_rps)) {
    const i = kneedle([0, ...sorted.map((p) => p.offered_rps)], [0, ...sorted.map((p) => p.achieved_rps)], 'concave');
    if (i !== null) candidates.push({ index: i - 1, basis: `throughput stops following the offered load (Kneedle, sensitivity ${KNEE_SENSITIVITY})` });
    // Achieved short of offered from the first step on: the bend is before the first point, and it is the knee.
    else if (sorted[0].achieved_rps < SUSTAIN_SHARE * sorted[0].offered_rps) candidates.push({ index: 0, basis: 'throughput short of the offered load from the lightest step on' });
  }
  let lowest = Infinity;
  for (let i = 0; i < sorted.length; i++) {
    const p99 = sorted[i].p99_ms;
    // No answer at all is latency past any limit.
    if (i > 0 && (p99 === null ? sorted[i].achieved_rps === 0 : p99 >= LATENCY_TURN * lowest)) {
      candidates.push({ index: i - 1, basis: `p99 latency turns up (${LATENCY_TURN}x the lowest at a lighter load)` });
      break;
    }
    if (p99 !== null) lowest = Math.min(lowest, p99);
  }
  if (candidates.length === 0) return { index: null, basis: null };
  const first = candidates.reduce((a, b) => (b.index < a.index ? b : a));
  return { index: first.index, basis: first.basis };
}

/** The highest point within the SLO below which every point is within it too (sustained means every lighter load). */
function maxSustainable(sorted: readonly LoadPoint[], slo: Slo): LoadPoint | null {
  let best: LoadPoint | null = null;
  for (const p of sorted) {
    if (!judgeProbe(p.offered_rps, p.frames, slo).pass) break;
    best = p;
  }
  return best;
}
