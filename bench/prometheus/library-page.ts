/**
 * The peer of bench/prometheus-render: the agent's scrape page (agents/node/prometheus-text.ts) written by
 * @opentelemetry/exporter-prometheus's serializer instead, from cumulative metric data built here: the same
 * families, labels, buckets and values (test/agents/prometheus-text.test.ts holds them equal), timed against the
 * agent's own on the same totals. The agent serves its own: it was the faster (see the bench).
 *
 * Names are OpenTelemetry's conversion of the names the OTLP export uses (src/vocabulary/metric-names.ts). The
 * serializer (0.223) turns dots into underscores in names and attributes (`thread.name` -> `thread_name`), adds
 * `_total` to counters and puts the resource's attributes on `target_info`; it adds no unit suffix, so the unit is
 * appended here (s: seconds, By: bytes, 1 on a gauge: ratio, {annotations}: none). No `otel_scope_name` label: the
 * series are labelled as they were before the serializer wrote them.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { ATTR, METRIC, STAGES, type ExpHistogramData } from '../../src/vocabulary/index.js';
import { DURATION_BOUNDS, LOOP_DELAY_BOUNDS, countsAtBounds } from '../../agents/node/prometheus-buckets.js';
import type { ContextTotals, CumulativeState } from '../../agents/node/prometheus-cumulative.js';
import { SCOPE } from '../../agents/node/otlp-metrics.js';

const UNIT_SUFFIX: Record<string, string> = { s: 'seconds', By: 'bytes' };

/** The OTel name with the unit's Prometheus suffix, which the serializer does not add; it converts the rest. */
function withUnit(otelName: string, unit: string, gauge: boolean): string {
  const suffix = unit === '1' && gauge ? 'ratio' : UNIT_SUFFIX[unit];
  return suffix ? `${otelName}_${suffix}` : otelName;
}

/** The serializer reads every point's end time, even with timestamps off; a scrape's samples carry none. */
const NO_TIME: HrTime = [0, 0];
const BOUNDS_HELP = 'Bucket bounds are boundaries of the agent\'s exponential histogram: their counts are exact';

type Point = [Attributes, number];

class Families {
  readonly metrics: MetricData[] = [];

  /** A counter, only when it has points (a family with no series is left off the page). */
  counter(otel: string, unit: string, description: string, points: Point[]): void {
    if (points.length === 0) return;
    this.metrics.push({
      descriptor: { name: withUnit(otel, unit, false), unit: '', description, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: points.map(([attributes, value]) => ({ startTime: NO_TIME, endTime: NO_TIME, attributes, value })),
    });
  }

  gauge(name: string, description: string, points: Point[]): void {
    if (points.length === 0) return;
    this.metrics.push({
      descriptor: { name, unit: '', description, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: points.map(([attributes, value]) => ({ startTime: NO_TIME, endTime: NO_TIME, attributes, value })),
    });
  }

  /** Classic buckets at `bounds`, counted off each exponential histogram (prometheus-buckets.ts). */
  histogram(otel: string, description: string, bounds: readonly number[], series: [Attributes, ExpHistogramData][]): void {
    if (series.length === 0) return;
    this.metrics.push({
      descriptor: { name: withUnit(otel, 's', false), unit: '', description: `${description}. ${BOUNDS_HELP}`, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: series.map(([attributes, h]) => {
        const atBounds = countsAtBounds(h, bounds);
        // The serializer sums per-bucket counts back up; the last is the +Inf bucket's.
        const counts = atBounds.map((c, i) => c - (i > 0 ? atBounds[i - 1] : 0));
        counts.push(h.count - (atBounds.at(-1) ?? 0));
        return {
          startTime: NO_TIME,
          endTime: NO_TIME,
          attributes,
          value: { buckets: { boundaries: bounds as number[], counts }, sum: h.sum, count: h.count },
        };
      }),
    });
  }
}

const contextAttributes = (c: ContextTotals): Attributes => ({ [ATTR.threadName]: c.name, [ATTR.contextKind]: c.kind });

/** One point per context, per extra attribute set. */
const perContext = (list: readonly ContextTotals[], values: (c: ContextTotals) => Point[]): Point[] =>
  list.flatMap((c) => values(c).map(([extra, v]): Point => [{ ...contextAttributes(c), ...extra }, v]));

const serializer = new PrometheusSerializer(undefined, false, undefined, false, true);

/** The scrape page. `resource` is the OTLP export's (service.name, srvlens.model, srvlens.cpu.limit, ...): target_info. */
export function toLibraryText(state: CumulativeState, resource: Resource): string {
  const f = new Families();
  const all = state.contexts;
  const js = all.filter((c) => c.kind === 'js');
  // Gauges of a context absent from the latest interval (a thread that ended) would be stale: left out.
  const current = all.filter((c) => c.index === state.index);

  f.histogram(METRIC.requestDuration, 'Handler start to response finish', DURATION_BOUNDS,
    js.filter((c) => c.duration.count > 0).map((c) => [contextAttributes(c), c.duration]));
  f.counter(METRIC.requests, '{request}', 'Finished requests', perContext(js, (c) => [[{}, c.requests]]));
  f.counter(METRIC.requestsJoined, '{request}', 'Finished requests that carried the client send time', perContext(js, (c) => [[{}, c.joined]]));
  f.counter(METRIC.inFlightTime, 's', 'Requests in flight integrated over time: its rate is the mean in flight', perContext(js, (c) => [[{}, c.inFlightMs / 1000]]));
  f.counter(METRIC.partTime, 's', 'Time requests spent in each part, summed', perContext(js, (c) =>
    STAGES.map((stage, i): Point => [{ [ATTR.part]: stage }, c.stageMs[i] / 1000])));
  f.counter(METRIC.partEntries, '{entry}', 'Times a part was entered', perContext(js, (c) =>
    STAGES.map((stage, i): Point => [{ [ATTR.part]: stage }, c.stageEntries[i]])));

  const split = js.filter((c) => c.splitRequests > 0);
  f.counter(METRIC.requestsSplit, '{request}', 'Requests whose wall time was split by the thread schedstat', perContext(split, (c) => [[{}, c.splitRequests]]));
  f.counter(METRIC.requestsSplitTime, 's', 'Wall time of the requests split by the thread schedstat, summed', perContext(split, (c) => [[{}, c.splitWallMs / 1000]]));
  f.counter(METRIC.requestThreadTime, 's', 'Requests\' wall time on their thread: on CPU, runnable waiting, blocked', perContext(split, (c) => [
    [{ [ATTR.threadState]: 'on_cpu' }, c.splitOnCpuMs / 1000],
    [{ [ATTR.threadState]: 'runqueue' }, c.splitRunqueueMs / 1000],
    [{ [ATTR.threadState]: 'blocked' }, c.splitBlockedMs / 1000],
  ]));

  f.gauge(withUnit(METRIC.eventLoopUtilization, '1', true), 'Event loop utilization over the latest interval',
    perContext(current.filter((c) => c.utilization !== null), (c) => [[{}, c.utilization!]]));
  f.histogram(METRIC.eventLoopDelay, 'Event loop timer lateness (how late a 100 ms timer ran)', LOOP_DELAY_BOUNDS,
    js.filter((c) => c.loopDelay.count > 0).map((c) => [contextAttributes(c), c.loopDelay]));

  f.counter(METRIC.threadCpuTime, 's', 'CPU time of the context\'s threads', perContext(all, (c) => [
    [{ [ATTR.cpuMode]: 'user' }, c.cpuUserMs / 1000],
    [{ [ATTR.cpuMode]: 'system' }, c.cpuSystemMs / 1000],
  ]));
  f.counter(METRIC.threadContextSwitches, '{context_switch}', 'Context switches of the context\'s threads', perContext(all, (c) => [
    [{ [ATTR.contextSwitchType]: 'voluntary' }, c.voluntary],
    [{ [ATTR.contextSwitchType]: 'involuntary' }, c.involuntary],
  ]));
  f.counter(METRIC.threadRunqueueWait, 's', 'Time the context\'s threads were runnable but waiting for a CPU', perContext(all, (c) => [[{}, c.runqueueMs / 1000]]));
  // Not `srvlens_thread_count`: Prometheus reserves the `_count` suffix for histograms and summaries.
  f.gauge('srvlens_context_threads', 'Kernel threads in the context in the latest interval', perContext(current, (c) => [[{}, c.threads]]));

  const p = state.process;
  f.counter(METRIC.cpuTime, 's', 'CPU time of the process', [[{ [ATTR.cpuMode]: 'user' }, p.cpuUserMs / 1000], [{ [ATTR.cpuMode]: 'system' }, p.cpuSystemMs / 1000]]);
  f.counter(METRIC.contextSwitches, '{context_switch}', 'Context switches of the process', [
    [{ [ATTR.contextSwitchType]: 'voluntary' }, p.voluntary],
    [{ [ATTR.contextSwitchType]: 'involuntary' }, p.involuntary],
  ]);
  f.counter(METRIC.runqueueWait, 's', 'Time runnable but waiting for a CPU, all threads', [[{}, p.runqueueMs / 1000]]);
  f.gauge(withUnit(METRIC.memoryUsage, 'By', true), 'Resident set size at the latest interval\'s end', p.rssBytes > 0 ? [[{}, p.rssBytes]] : []);
  f.counter(METRIC.agentDropped, '{record}', 'Requests or intervals the agent could not keep', [[{}, state.dropped]]);
  f.counter(METRIC.agentErrors, '{error}', 'Errors the agent caught', [[{}, state.errors]]);

  const data: ResourceMetrics = { resource, scopeMetrics: [{ scope: SCOPE, metrics: f.metrics }] };
  return serializer.serialize(data);
}
