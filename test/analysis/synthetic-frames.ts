/**
 * Frames of one server run as the runner would assemble them, made from a seeded generator: per interval, requests
 * with noisy latencies on the client side and noisy stage times on the agent's side, so the per-phase figures are
 * tested on plausible series and a failure names the seed that reproduces it.
 */
import { STAGES, emptyExpHistogram, type Frame, type GeneratorInterval, type ServerInterval, type StageName } from '../../src/vocabulary/index.js';
import { seeded, type Rng } from './synthetic-windows.js';
import { encodeLatencies } from '../helpers/latency-hdr.js';

const between = (r: Rng, lo: number, hi: number) => lo + (hi - lo) * r();
const int = (r: Rng, lo: number, hi: number) => Math.floor(between(r, lo, hi + 1));

/** What one synthetic interval holds, kept beside the frame so a test can work its figures out by hand. */
export interface SyntheticInterval {
  frame: Frame;
  /** Each completed request's corrected latency, µs. */
  latencies_us: number[];
}

export interface IntervalShape {
  phase?: string;
  /** Requests the agent saw but did not join (no send time): the interval's two sides no longer match. */
  unjoined?: number;
  /** The agent saw fewer requests finish than the client did (a response in flight across the boundary). */
  missed?: number;
  warmup?: boolean;
  saturation?: string[];
}

/** One interval of `completed` requests: each one's stages drawn, network 0.2-0.6 ms, send_wait 0-2 ms. */
export function syntheticInterval(r: Rng, index: number, completed: number, shape: IntervalShape = {}): SyntheticInterval {
  const stages = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<StageName, number>;
  const latencies: number[] = [];
  let sendWait = 0;
  let response = 0;
  const seen = completed - (shape.missed ?? 0);
  for (let i = 0; i < completed; i++) {
    const own = Object.fromEntries(STAGES.map((s) => [s, Math.round(between(r, 50, s === 'downstream' ? 3000 : 800))])) as Record<StageName, number>;
    const network = Math.round(between(r, 200, 600));
    const wait = Math.round(between(r, 0, 2000));
    const server = STAGES.reduce((t, s) => t + own[s], 0);
    if (i < seen) for (const s of STAGES) stages[s] += own[s];
    sendWait += wait;
    response += server + network;
    latencies.push(wait + server + network);
  }
  const hdr = encodeLatencies(latencies);
  const joined = seen;
  const requests = seen + (shape.unjoined ?? 0);
  const phase = shape.phase ?? 'steady';
  const generator: GeneratorInterval = {
    phase, phase_index: 0, target_rps: completed, due: completed, sent: completed, completed, errors: 0,
    latency_hdr: hdr, uncorrected_hdr: hdr, sum_total_ms: (sendWait + response) / 1000, sum_send_wait_ms: sendWait / 1000, sum_response_ms: response / 1000,
    backlog: 0, in_flight: 0, connections: 8, cpu_ms: int(r, 50, 200), loop_lag_max_ms: 2,
    saturated: (shape.saturation ?? []).length > 0, saturation: shape.saturation ?? [],
    ...(shape.warmup ? { warmup: true } : {}),
  };
  const server: ServerInterval = {
    requests,
    joined,
    // Only the joined requests carry stage times here, so every stage's sum is over them (unjoined ones add requests only).
    stages: Object.fromEntries(STAGES.map((s) => [s, { sum_ms: stages[s] / 1000, requests: joined, entries: joined }])) as ServerInterval['stages'],
    duration: emptyExpHistogram(),
    dropped: 0,
    agent_errors: 0,
  };
  const frame: Frame = { kind: 'frame', run: 0, index, t_ms: index * 1000, interval_ms: 1000, phase, generator, server, contexts: [], backend: null };
  return { frame, latencies_us: latencies };
}

/** `count` intervals from `seed`, 50-150 requests each, every one of whose two sides match unless `shape` says not. */
export function syntheticRun(seed: number, count: number, shape: (i: number) => IntervalShape = () => ({})): SyntheticInterval[] {
  const r = seeded(seed);
  return Array.from({ length: count }, (_, i) => syntheticInterval(r, i, int(r, 50, 150), shape(i)));
}
