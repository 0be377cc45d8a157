/**
 * Turns finished intervals into OpenTelemetry metric data (delta temporality, one data point per interval with
 * the interval's exact bounds), so any OTLP exporter can send them. Runs once per interval, never per request.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type ExponentialHistogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';
import { ATTR, METRIC, STAGES, type ExpHistogramData } from '../../src/model/index.js';
import type { IntervalRecord } from './interval-record.js';

export const SCOPE = { name: 'srvlens-agent-node', version: '0.1.0' };

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

type Point<T> = { attributes: Attributes; value: T };

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

  histogram(name: string, description: string, pick: (r: IntervalRecord) => ExpHistogramData): void {
    this.metrics.push({
      descriptor: { name, unit: 's', description, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.DELTA,
      dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
      dataPoints: this.points((r) => [{ attributes: {}, value: expHist(pick(r)) }]),
    });
  }
}

const one = (value: number): Point<number>[] => [{ attributes: {}, value }];

export function toResourceMetrics(resource: Resource, records: IntervalRecord[]): ResourceMetrics {
  const b = new Builder(records);
  b.sum(METRIC.requests, '{request}', 'Finished requests', (r) => one(r.requests), ValueType.INT);
  b.sum(METRIC.requestsJoined, '{request}', 'Finished requests that carried the client send time', (r) => one(r.joined), ValueType.INT);
  b.sum(METRIC.partTime, 's', 'Time requests spent in each part, summed', (r) =>
    STAGES.map((stage, i) => ({ attributes: { [ATTR.part]: stage }, value: r.stageMs[i] / 1000 })),
  );
  b.sum(METRIC.partEntries, '{entry}', 'Times a part was entered', (r) =>
    STAGES.map((stage, i) => ({ attributes: { [ATTR.part]: stage }, value: r.stageEntries[i] })),
  );
  b.histogram(METRIC.requestDuration, 'Handler start to response finish', (r) => r.duration);
  b.sum(METRIC.cpuTime, 's', 'CPU time of the process', (r) => [
    { attributes: { [ATTR.cpuMode]: 'user' }, value: r.process.cpu_user_ms / 1000 },
    { attributes: { [ATTR.cpuMode]: 'system' }, value: r.process.cpu_system_ms / 1000 },
  ]);
  b.sum(METRIC.contextSwitches, '{context_switch}', 'Context switches of the process', (r) => [
    { attributes: { [ATTR.contextSwitchType]: 'voluntary' }, value: r.process.ctx_voluntary },
    { attributes: { [ATTR.contextSwitchType]: 'involuntary' }, value: r.process.ctx_involuntary },
  ], ValueType.INT);
  // Only intervals where /proc had schedstat: a missing reading is absent, not zero.
  const rq = records.filter((r) => r.process.runqueue_wait_ms !== null);
  if (rq.length) {
    const rqb = new Builder(rq);
    rqb.sum(METRIC.runqueueWait, 's', 'Time runnable but waiting for a CPU, all threads', (r) => one((r.process.runqueue_wait_ms ?? 0) / 1000));
    b.metrics.push(...rqb.metrics);
  }
  b.gauge(METRIC.memoryUsage, 'By', 'Resident set size', (r) => one(r.process.rss_bytes));
  b.gauge(METRIC.eventLoopUtilization, '1', 'Event loop utilization over the interval', (r) => one(r.loopUtilization));
  b.histogram(METRIC.eventLoopDelay, 'Event loop timer lateness', (r) => r.loopDelay);
  b.sum(METRIC.agentDropped, '{record}', 'Requests or intervals the agent could not keep', (r) => one(r.dropped), ValueType.INT);
  b.sum(METRIC.agentErrors, '{error}', 'Errors the agent caught', (r) => one(r.errors), ValueType.INT);
  return { resource, scopeMetrics: [{ scope: SCOPE, metrics: b.metrics }] };
}
