/**
 * Metric names the agents export. OpenTelemetry semantic-convention names where one exists, `srvlens.*` otherwise.
 * The stable conventions come from @opentelemetry/semantic-conventions' constants. The others are in its incubating
 * entry only (over a megabyte of JavaScript, which OpenTelemetry advises copying from, not depending on): they are
 * spelled here, and test/vocabulary/semantic-conventions.test.ts holds each spelling to the package's constant.
 * The agent's preload does not reach this file (it imports the vocabulary's modules, not its index): the package costs
 * 16-26 ms of CPU to load in a thread here, and the preload runs in every thread.
 */
import { ATTR_SERVICE_NAME, METRIC_HTTP_SERVER_REQUEST_DURATION } from '@opentelemetry/semantic-conventions';

export const METRIC = {
  cpuTime: 'process.cpu.time', // s, attr cpu.mode = user | system
  contextSwitches: 'process.context_switches', // {switch}, attr process.context_switch.type = voluntary | involuntary
  memoryUsage: 'process.memory.usage', // By (RSS)
  runqueueWait: 'srvlens.process.runqueue.wait', // s: runnable but not running (schedstat), all threads
  eventLoopUtilization: 'nodejs.eventloop.utilization', // 1
  eventLoopDelay: 'srvlens.eventloop.delay', // s, exponential histogram of timer lateness
  requestDuration: METRIC_HTTP_SERVER_REQUEST_DURATION, // s, exponential histogram, from handler start to finish
  partTime: 'srvlens.request.part.time', // s, summed over the interval's requests, attr srvlens.part
  partEntries: 'srvlens.request.part.entries', // {entry}: how often a stage was entered, attr srvlens.part
  requestThreadTime: 'srvlens.request.thread.time', // s, requests' wall time on one-request-at-a-time threads, attr srvlens.thread.state = on_cpu | runqueue | blocked
  requestsSplit: 'srvlens.requests.split', // {request}: requests whose wall time was split by schedstat
  requestsSplitTime: 'srvlens.requests.split.time', // s: those requests' wall time (handler start to finish), summed
  requests: 'srvlens.requests', // {request}: finished requests
  requestsJoined: 'srvlens.requests.joined', // {request}: finished requests that carried the client's send time
  inFlightTime: 'srvlens.requests.in_flight.time', // s: requests in flight integrated over time (request-seconds); / interval = mean in flight
  threadCpuTime: 'srvlens.thread.cpu.time', // s, per thread (thread.id, thread.name), attr cpu.mode
  threadContextSwitches: 'srvlens.thread.context_switches', // per thread, attr process.context_switch.type
  threadRunqueueWait: 'srvlens.thread.runqueue.wait', // s, per thread
  threadCount: 'srvlens.thread.count', // {thread}: kernel threads folded into a context (runtime threads)
  agentDropped: 'srvlens.agent.dropped', // {record}: data dropped because a bound was hit
  agentErrors: 'srvlens.agent.errors', // {error}: errors the agent caught and counted
} as const;

export const ATTR = {
  cpuMode: 'cpu.mode',
  contextSwitchType: 'process.context_switch.type',
  part: 'srvlens.part',
  intervalMs: 'srvlens.interval_ms',
  serverName: 'srvlens.server',
  model: 'srvlens.model',
  role: 'srvlens.role',
  processPid: 'process.pid',
  threadId: 'thread.id',
  threadName: 'thread.name',
  contextKind: 'srvlens.context.kind',
  threadState: 'srvlens.thread.state',
  exemplar: 'srvlens.exemplar', // on exemplar spans: slowest | sample
  durationMs: 'srvlens.duration_ms',
  serviceName: ATTR_SERVICE_NAME,
  /**
   * Resource attributes: the cores the process may use, and what set that: `cgroup cpu.max` (a quota), `cpuset` (the
   * CPUs it may run on), else `host` (every core). A reader of production data divides CPU by this, never by a guess.
   */
  cpuLimit: 'srvlens.cpu.limit',
  cpuLimitSource: 'srvlens.cpu.limit.source',
} as const;

/** The scrape page's own gauge (no OTLP name): the kernel threads folded into a context, at the latest interval. */
export const CONTEXT_THREADS = 'srvlens_context_threads';

const UNIT_SUFFIX: Record<string, string> = { s: 'seconds', By: 'bytes' };

/**
 * OpenTelemetry's metric name -> Prometheus name conversion, for the units the agent uses: dots to underscores, the
 * unit as a suffix (s: seconds, By: bytes, 1 on a gauge: ratio, {annotations} dropped), `_total` on counters. The
 * agent's scrape page and the reader of Prometheus (src/collect/prometheus) both name families by it.
 */
export function prometheusName(otelName: string, unit: string, type: 'counter' | 'gauge' | 'histogram'): string {
  let name = otelName.replace(/[^a-zA-Z0-9_:]/g, '_');
  const suffix = unit === '1' && type === 'gauge' ? 'ratio' : (UNIT_SUFFIX[unit] ?? '');
  if (suffix && !name.endsWith(`_${suffix}`)) name += `_${suffix}`;
  return type === 'counter' ? `${name}_total` : name;
}

/** An attribute's name as a Prometheus label (`thread.name` -> `thread_name`). */
export function labelName(otelAttribute: string): string {
  return otelAttribute.replace(/[^a-zA-Z0-9_]/g, '_');
}
