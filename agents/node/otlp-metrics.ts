/**
 * Turns finished intervals into OpenTelemetry metric data (delta temporality, one data point per interval with
 * the interval's exact bounds, per thread where the figure is a thread's), so any OTLP exporter can send them.
 * Runs in the agent thread once per interval, never per request.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type ExponentialHistogram,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { ATTR, METRIC, STAGES, type ExpHistogramData } from '../../src/vocabulary/index.js';
import type { ChildRecord, ContextRecord, IntervalRecord } from './interval-record.js';

export const SCOPE = { name: 'srvlens-agent-node', version: '0.1.0' };

type Point<T> = { attributes: Attributes; value: T };

function hr(epochMs: number): HrTime {
  const s = Math.floor(epochMs / 1000);
  return [s, Math.round((epochMs - s * 1000) * 1e6)];
}

function expHist(h: ExpHistogramData): ExponentialHistogram {
  return {
    count: h.count,
    sum: h.sum,
    scale: h.scale,
    zeroCount: h.zero_count,
    positive: { offset: h.offset, bucketCounts: h.counts },
    negative: { offset: 0, bucketCounts: [] },
    min: h.count ? h.min : undefined,
    max: h.count ? h.max : undefined,
  };
}

/** A child's threads (one whose rings the agent reads) say whose they are: the collector files them under its pid. */
function threadAttrs(c: ContextRecord): Attributes {
  const a: Attributes = { [ATTR.threadId]: c.tid, [ATTR.threadName]: c.name, [ATTR.contextKind]: c.kind };
  if (c.pid !== undefined) a[ATTR.processPid] = c.pid;
  return a;
}

class Builder {
  readonly metrics: MetricData[] = [];
  constructor(private readonly records: IntervalRecord[]) {}

  private points<T>(pick: (r: IntervalRecord) => Point<T>[]) {
    return this.records.flatMap((r) =>
      pick(r).map((p) => ({ startTime: hr(r.startEpochMs), endTime: hr(r.endEpochMs), attributes: p.attributes, value: p.value })),
    );
  }

  sum(name: string, unit: string, description: string, pick: (r: IntervalRecord) => Point<number>[], valueType = ValueType.DOUBLE): void {
    this.metrics.push({
      descriptor: { name, unit, description, valueType },
      aggregationTemporality: AggregationTemporality.DELTA,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: this.points(pick),
    });
  }

  gauge(name: string, unit: string, description: string, pick: (r: IntervalRecord) => Point<number>[]): void {
    this.metrics.push({
      descriptor: { name, unit, description, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: this.points(pick),
    });
  }

  histogram(name: string, description: string, pick: (r: IntervalRecord) => Point<ExpHistogramData>[]): void {
    this.metrics.push({
      descriptor: { name, unit: 's', description, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.DELTA,
      dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
      dataPoints: this.points(pick).map((p) => ({ ...p, value: expHist(p.value) })),
    });
  }
}

const one = (value: number): Point<number>[] => [{ attributes: {}, value }];
/** Contexts that recorded requests or loop delay in the interval. */
const withBucket = (r: IntervalRecord) => r.contexts.filter((c) => c.bucket !== null);
const perThread = (r: IntervalRecord, value: (c: ContextRecord) => number) =>
  r.contexts.map((c) => ({ attributes: threadAttrs(c), value: value(c) }));

/** The records as one scope's metrics: what the agent's MetricProducer gives the SDK's reader (metric-export.ts). */
export function toScopeMetrics(records: IntervalRecord[]): ScopeMetrics {
  const b = new Builder(records);
  // Requests and their parts, per thread that served them.
  b.sum(METRIC.requests, '{request}', 'Finished requests', (r) => withBucket(r).map((c) => ({ attributes: threadAttrs(c), value: c.bucket!.requests })), ValueType.INT);
  b.sum(METRIC.requestsJoined, '{request}', 'Finished requests that carried the client send time', (r) =>
    withBucket(r).map((c) => ({ attributes: threadAttrs(c), value: c.bucket!.joined })), ValueType.INT);
  b.sum(METRIC.inFlightTime, 's', 'Requests in flight integrated over time: over the interval, the mean in flight', (r) =>
    withBucket(r).map((c) => ({ attributes: threadAttrs(c), value: c.bucket!.inFlightMs / 1000 })));
  b.sum(METRIC.partTime, 's', 'Time requests spent in each part, summed', (r) =>
    withBucket(r).flatMap((c) => STAGES.map((stage, i) => ({ attributes: { ...threadAttrs(c), [ATTR.part]: stage }, value: c.bucket!.stageMs[i] / 1000 }))));
  b.sum(METRIC.partEntries, '{entry}', 'Times a part was entered', (r) =>
    withBucket(r).flatMap((c) => STAGES.map((stage, i) => ({ attributes: { ...threadAttrs(c), [ATTR.part]: stage }, value: c.bucket!.stageEntries[i] }))));
  b.histogram(METRIC.requestDuration, 'Handler start to response finish', (r) =>
    withBucket(r).filter((c) => c.bucket!.duration.count > 0).map((c) => ({ attributes: threadAttrs(c), value: c.bucket!.duration })));
  // Threads that serve one request at a time: each request's wall time split by the thread's schedstat.
  const split = (r: IntervalRecord) => withBucket(r).filter((c) => c.bucket!.split !== null);
  b.sum(METRIC.requestsSplit, '{request}', 'Requests whose wall time was split by the thread schedstat', (r) =>
    split(r).map((c) => ({ attributes: threadAttrs(c), value: c.bucket!.split!.requests })), ValueType.INT);
  b.sum(METRIC.requestsSplitTime, 's', 'Wall time of the requests split by the thread schedstat, summed', (r) =>
    split(r).map((c) => ({ attributes: threadAttrs(c), value: c.bucket!.split!.wallMs / 1000 })));
  b.sum(METRIC.requestThreadTime, 's', 'Requests\' wall time on their thread: on CPU, runnable waiting, blocked', (r) =>
    split(r).flatMap((c) => [
      { attributes: { ...threadAttrs(c), [ATTR.threadState]: 'on_cpu' }, value: c.bucket!.split!.onCpuMs / 1000 },
      { attributes: { ...threadAttrs(c), [ATTR.threadState]: 'runqueue' }, value: c.bucket!.split!.runqueueMs / 1000 },
      { attributes: { ...threadAttrs(c), [ATTR.threadState]: 'blocked' }, value: c.bucket!.split!.blockedMs / 1000 },
    ]));
  // Event loops, per thread that has one.
  b.gauge(METRIC.eventLoopUtilization, '1', 'Event loop utilization over the interval', (r) =>
    r.contexts.filter((c) => c.utilization !== null).map((c) => ({ attributes: threadAttrs(c), value: c.utilization! })));
  b.histogram(METRIC.eventLoopDelay, 'Event loop timer lateness', (r) =>
    withBucket(r).filter((c) => c.hasLoop && c.bucket!.loopDelay.count > 0).map((c) => ({ attributes: threadAttrs(c), value: c.bucket!.loopDelay })));
  // Execution contexts: every thread of the process, the ones the agent does not run in folded into `runtime`.
  b.sum(METRIC.threadCpuTime, 's', 'CPU time of the thread', (r) =>
    r.contexts.flatMap((c) => [
      { attributes: { ...threadAttrs(c), [ATTR.cpuMode]: 'user' }, value: c.cpuUserMs / 1000 },
      { attributes: { ...threadAttrs(c), [ATTR.cpuMode]: 'system' }, value: c.cpuSystemMs / 1000 },
    ]));
  b.sum(METRIC.threadContextSwitches, '{context_switch}', 'Context switches of the thread', (r) =>
    r.contexts.flatMap((c) => [
      { attributes: { ...threadAttrs(c), [ATTR.contextSwitchType]: 'voluntary' }, value: c.voluntary },
      { attributes: { ...threadAttrs(c), [ATTR.contextSwitchType]: 'involuntary' }, value: c.involuntary },
    ]), ValueType.INT);
  b.sum(METRIC.threadRunqueueWait, 's', 'Time the thread was runnable but waiting for a CPU', (r) => perThread(r, (c) => c.runqueueMs / 1000));
  b.gauge(METRIC.threadCount, '{thread}', 'Kernel threads in the context', (r) => perThread(r, (c) => c.threads));
  // The process as a whole, under the semantic-convention names; then each child whose rings the agent reads, under
  // its pid.
  const processes = (r: IntervalRecord) => [{ attributes: {} as Attributes, p: r.process }, ...(r.children ?? []).map((c) => ({ attributes: { [ATTR.processPid]: c.pid } as Attributes, p: c.process }))];
  b.sum(METRIC.cpuTime, 's', 'CPU time of the process', (r) =>
    processes(r).flatMap(({ attributes, p }) => [
      { attributes: { ...attributes, [ATTR.cpuMode]: 'user' }, value: p.cpuUserMs / 1000 },
      { attributes: { ...attributes, [ATTR.cpuMode]: 'system' }, value: p.cpuSystemMs / 1000 },
    ]));
  b.sum(METRIC.contextSwitches, '{context_switch}', 'Context switches of the process', (r) =>
    processes(r).flatMap(({ attributes, p }) => [
      { attributes: { ...attributes, [ATTR.contextSwitchType]: 'voluntary' }, value: p.voluntary },
      { attributes: { ...attributes, [ATTR.contextSwitchType]: 'involuntary' }, value: p.involuntary },
    ]), ValueType.INT);
  b.sum(METRIC.runqueueWait, 's', 'Time runnable but waiting for a CPU, all threads', (r) => processes(r).map(({ attributes, p }) => ({ attributes, value: p.runqueueMs / 1000 })));
  b.gauge(METRIC.memoryUsage, 'By', 'Resident set size', (r) => processes(r).map(({ attributes, p }) => ({ attributes, value: p.rssBytes })));
  const childCounts = (r: IntervalRecord, pick: (c: ChildRecord) => number) => (r.children ?? []).map((c) => ({ attributes: { [ATTR.processPid]: c.pid } as Attributes, value: pick(c) }));
  b.sum(METRIC.agentDropped, '{record}', 'Requests or intervals the agent could not keep', (r) => [...one(r.dropped), ...childCounts(r, (c) => c.dropped)], ValueType.INT);
  b.sum(METRIC.agentErrors, '{error}', 'Errors the agent caught', (r) => [...one(r.errors), ...childCounts(r, (c) => c.errors)], ValueType.INT);
  return { scope: SCOPE, metrics: b.metrics };
}

/** The records under a resource, as an exporter takes them (tests and benches that export without the pipeline). */
export function toResourceMetrics(resource: Resource, records: IntervalRecord[]): ResourceMetrics {
  return { resource, scopeMetrics: [toScopeMetrics(records)] };
}
