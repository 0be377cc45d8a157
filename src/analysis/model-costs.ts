/**
 * What the model cost to serve a span of frames, per request: CPU, context switches and run-queue wait summed over
 * every execution context, the event loop's delay and utilisation, the accept queue and the backend tier's queue.
 * Pure: frames in, figures out. The same with a load generator (phase-stats.ts) and without (agents-only-phase.ts).
 */
import { expQuantile, mergeExpHistograms, type ExpHistogramData, type Frame, type ServerInterval } from '../vocabulary/index.js';
import { round, sum } from './numbers.js';

export interface ModelCosts {
  cpu_ms_per_request: number | null;
  context_switches_per_request: { voluntary: number; involuntary: number } | null;
  runqueue_wait_ms_per_request: number | null;
  /**
   * On threads that serve one request at a time: the mean request's wall time on its thread, split by schedstat
   * into on CPU, runnable but waiting for a CPU, and blocked in the kernel (ms), over `requests` requests.
   */
  request_thread_time_ms: { on_cpu: number; runqueue: number; blocked: number; requests: number } | null;
  eventloop_delay_ms: { p50: number; p99: number; max: number } | null;
  eventloop_utilization: number | null;
  /** The backend tier: its calls and queue, and its own process's CPU per call (ms; null where not read). */
  backend: { calls: number; queue_max: number; mean_queue_ms: number | null; mean_service_ms: number | null; mean_late_ms: number | null; cpu_ms_per_call: number | null } | null;
  /** Connections waiting to be accepted on the server's listening sockets (sampled from /proc); null when not sampled. */
  accept_queue: { max: number; mean: number } | null;
}

/** `perRequest`: the requests the costs are divided by (the server's count where its agents saw them). */
export function modelCosts(frames: readonly Frame[], perRequest: number): ModelCosts {
  const servers = frames.flatMap((f) => (f.server ? [f.server] : []));
  const contexts = frames.flatMap((f) => f.contexts);
  const per = contexts.length > 0 && perRequest > 0;
  const rq = contexts.filter((c) => c.runqueue_wait_ms !== null);
  const loops = contexts.flatMap((c) => (c.eventloop_delay ? [c.eventloop_delay] : []));
  const elu = contexts.flatMap((c) => (c.eventloop_utilization !== null ? [c.eventloop_utilization] : []));
  const backends = frames.flatMap((f) => (f.backend ? [f.backend] : []));
  const backendDone = sum(backends, (b) => b.completed);
  return {
    cpu_ms_per_request: per ? round(sum(contexts, (c) => c.cpu_user_ms + c.cpu_system_ms) / perRequest, 4) : null,
    context_switches_per_request: per
      ? {
          voluntary: round(sum(contexts, (c) => c.voluntary) / perRequest, 4) ?? 0,
          involuntary: round(sum(contexts, (c) => c.involuntary) / perRequest, 4) ?? 0,
        }
      : null,
    runqueue_wait_ms_per_request: rq.length && perRequest ? round(sum(rq, (c) => c.runqueue_wait_ms ?? 0) / perRequest, 4) : null,
    request_thread_time_ms: threadSplit(servers),
    eventloop_delay_ms: loopDelay(loops),
    eventloop_utilization: elu.length ? round(sum(elu, (v) => v) / elu.length, 4) : null,
    backend: backends.length
      ? {
          calls: sum(backends, (b) => b.calls),
          queue_max: Math.max(...backends.map((b) => b.queue_max)),
          mean_queue_ms: backendDone ? round(sum(backends, (b) => b.sum_queue_ms) / backendDone) : null,
          mean_service_ms: backendDone ? round(sum(backends, (b) => b.sum_service_ms) / backendDone) : null,
          mean_late_ms: backendDone && backends.every((b) => b.sum_late_ms !== undefined) ? round(sum(backends, (b) => b.sum_late_ms ?? 0) / backendDone, 4) : null,
          cpu_ms_per_call: backendDone && backends.every((b) => b.cpu_ms !== undefined) ? round(sum(backends, (b) => b.cpu_ms ?? 0) / backendDone, 4) : null,
        }
      : null,
    accept_queue: acceptQueue(frames),
  };
}

/** The share of the downstream mean from which a loop's p99 delay is worth saying is in it. */
export const LOOP_WAIT_SHARE = 0.1;

/**
 * On an event loop, a reply that arrives while the loop is busy waits for it, and the agent (in user space) sees
 * that wait as part of `downstream`: true where the loop's delay is large enough to matter beside it (its p99 at
 * least LOOP_WAIT_SHARE of the downstream mean), so the reader knows downstream is not the backend's alone.
 */
export function downstreamIncludesLoopWait(downstreamMs: number | null, costs: Pick<ModelCosts, 'eventloop_delay_ms'>): boolean {
  return downstreamMs !== null && downstreamMs > 0 && (costs.eventloop_delay_ms?.p99 ?? 0) >= LOOP_WAIT_SHARE * downstreamMs;
}

function acceptQueue(frames: readonly Frame[]): ModelCosts['accept_queue'] {
  const qs = frames.flatMap((f) => (f.accept_queue ? [f.accept_queue] : []));
  const samples = sum(qs, (q) => q.samples);
  if (samples === 0) return null;
  return { max: Math.max(...qs.map((q) => q.length_max)), mean: round(sum(qs, (q) => q.length_mean * q.samples) / samples, 2) ?? 0 };
}

function threadSplit(servers: readonly ServerInterval[]): ModelCosts['request_thread_time_ms'] {
  const splits = servers.flatMap((s) => (s.thread_split ? [s.thread_split] : []));
  const n = sum(splits, (x) => x.requests);
  if (n === 0) return null;
  return {
    on_cpu: round(sum(splits, (x) => x.on_cpu_ms) / n, 4) ?? 0,
    runqueue: round(sum(splits, (x) => x.runqueue_ms) / n, 4) ?? 0,
    blocked: round(sum(splits, (x) => x.blocked_ms) / n, 4) ?? 0,
    requests: n,
  };
}

/** Merged over every loop and interval: percentiles of the merge, never an average of percentiles. */
function loopDelay(list: ExpHistogramData[]): ModelCosts['eventloop_delay_ms'] {
  const merged = mergeExpHistograms(list);
  if (merged.count === 0) return null;
  const q = (p: number) => round((expQuantile(merged, p) ?? 0) * 1000) ?? 0;
  return { p50: q(0.5), p99: q(0.99), max: round(merged.max * 1000) ?? 0 };
}
