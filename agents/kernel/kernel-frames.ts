/**
 * One interval of the kernel tracer as a timeline frame (src/vocabulary/frames.ts): the accept queue's wait for every
 * server, and for a server with no agent in it the request data an agent would have sent (`server`, source
 * 'kernel'), so that every report, check and view reads it as it reads the agents'.
 */
import { STAGES, type ExpHistogramData, type Frame, type ServerInterval, type StageName, type StageSum } from '../../src/vocabulary/index.js';
import type { KernelInterval } from './tracer-output.js';
import { DURATION_SCALE } from './tracer-program.js';

const NS_PER_MS = 1e6;

export function kernelFrame(run: number, i: KernelInterval, intervalMs: number, requests: boolean): Frame {
  const c = i.counters;
  return {
    kind: 'frame',
    run,
    index: i.index,
    t_ms: i.index * intervalMs,
    interval_ms: intervalMs,
    phase: null,
    generator: null,
    server: requests ? kernelServer(i) : null,
    contexts: [],
    backend: null,
    accept_wait: { connections: c.aq_n, sum_ms: c.aq_ns / NS_PER_MS },
  };
}

/**
 * The agents' shape from the kernel's counters. Each stage's sum is the kernel's own measure of it; `process` is
 * the handler's time less its calls (downstream), the one part that is what the other leaves.
 */
function kernelServer(i: KernelInterval): ServerInterval {
  const c = i.counters;
  const n = c.req;
  const calls = c.up_ns + c.ow_ns;
  const stage = (sumNs: number, entries: number): StageSum => ({ sum_ms: sumNs / NS_PER_MS, requests: n, entries });
  const measured: Partial<Record<StageName, StageSum>> = {
    accept_queue: stage(c.aq_ns, c.aq_n),
    server_queue: stage(c.sq_ns, c.sq_n),
    process: stage(Math.max(0, c.srv_ns - calls), n),
    downstream: stage(calls, c.up_n),
    send: stage(c.send_ns, c.send_n),
  };
  const stages = Object.fromEntries(STAGES.map((s) => [s, measured[s] ?? stage(0, 0)])) as Record<StageName, StageSum>;
  return {
    requests: n,
    joined: n,
    stages,
    duration: durationHistogram(i, c.srv_ns),
    ...(c.split_n > 0
      ? {
          thread_split: {
            requests: c.split_n,
            on_cpu_ms: c.oncpu_ns / NS_PER_MS,
            runqueue_ms: c.rq_ns / NS_PER_MS,
            blocked_ms: c.blk_ns / NS_PER_MS,
            wall_ms: c.split_srv_ns / NS_PER_MS,
          },
        }
      : {}),
    dropped: 0,
    agent_errors: 0,
    source: 'kernel',
  };
}

/** The program's buckets (index at DURATION_SCALE of seconds -> count) as an OpenTelemetry exponential histogram. */
function durationHistogram(i: KernelInterval, sumNs: number): ExpHistogramData {
  const keys = [...i.buckets.keys()];
  if (keys.length === 0) return { scale: DURATION_SCALE, zero_threshold: 0, zero_count: 0, offset: 0, counts: [], count: 0, sum: 0, min: 0, max: 0 };
  const lo = Math.min(...keys);
  const counts = new Array<number>(Math.max(...keys) - lo + 1).fill(0);
  for (const [k, v] of i.buckets) counts[k - lo] = v;
  return {
    scale: DURATION_SCALE,
    zero_threshold: 0,
    zero_count: 0,
    offset: lo,
    counts,
    count: counts.reduce((a, b) => a + b, 0),
    sum: sumNs / 1e9,
    // The program keeps no minimum (one aggregation less a request): the lowest bucket's lower bound, at most 9 % below it.
    min: 2 ** (lo / 2 ** DURATION_SCALE),
    max: (i.maxNs ?? 0) / 1e9,
  };
}
