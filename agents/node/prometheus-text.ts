/**
 * The agent's totals as a Prometheus scrape page (text exposition format 0.0.4). A pure function of the state, so
 * what a scraper sees is tested without a server.
 *
 * Names are OpenTelemetry's conversion of the names the OTLP export uses (src/vocabulary/metric-names.ts): dots to
 * underscores, the unit as a suffix (s: seconds, By: bytes, 1 on a gauge: ratio, {annotations} dropped), `_total`
 * on counters; attributes likewise (`thread.name` -> `thread_name`). Resource attributes go on `target_info`.
 */
import { ATTR, DEFAULT_SCALE, METRIC, STAGES, type ExpHistogramData } from '../../src/vocabulary/index.js';
import type { ContextTotals, CumulativeState } from './prometheus-cumulative.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** OpenTelemetry's semantic-convention default boundaries for http.server.request.duration, seconds. */
export const DURATION_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

type MetricType = 'counter' | 'gauge' | 'histogram';
type Labels = Record<string, string>;
/** A line of a family: name suffix (`_bucket`, ...), labels, value. */
type Sample = [string, Labels, number];

const UNIT_SUFFIX: Record<string, string> = { s: 'seconds', By: 'bytes' };

/** OpenTelemetry's metric name -> Prometheus name conversion, for the units the agent uses. */
export function prometheusName(otelName: string, unit: string, type: MetricType): string {
  let name = otelName.replace(/[^a-zA-Z0-9_:]/g, '_');
  const suffix = unit === '1' && type === 'gauge' ? 'ratio' : (UNIT_SUFFIX[unit] ?? '');
  if (suffix && !name.endsWith(`_${suffix}`)) name += `_${suffix}`;
  return type === 'counter' ? `${name}_total` : name;
}

export function labelName(otelAttribute: string): string {
  return otelAttribute.replace(/[^a-zA-Z0-9_]/g, '_');
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/**
 * How many values were at or below each bound, from an exponential histogram. A bucket (lower, upper] counts toward
 * `le` when its geometric middle is at or below `le`, so a count may include or miss only values within half a
 * bucket of the bound (2.2 % at scale 4); it is exact at bounds above the largest value or below the smallest.
 * Ascending bounds give non-decreasing counts, none above the total.
 */
export function countsAtBounds(h: ExpHistogramData, bounds: readonly number[]): number[] {
  const step = 2 ** -h.scale;
  let running = h.zero_count;
  let i = 0;
  return bounds.map((le) => {
    while (i < h.counts.length && 2 ** ((h.offset + i + 0.5) * step) <= le) running += h.counts[i++];
    if (h.count === 0 || le < h.min) return 0;
    if (le >= h.max) return h.count;
    return Math.min(running, h.count);
  });
}

/** The relative error of a bucket count's bound, as a percentage for the HELP text. */
const BOUND_ERROR_PCT = ((2 ** (2 ** -DEFAULT_SCALE / 2) - 1) * 100).toFixed(1);
const APPROXIMATE = `Buckets are estimated from the agent's base-2 exponential histogram: a count at a bound may include or miss values within ${BOUND_ERROR_PCT} % of it; _sum and _count are exact.`;

class Page {
  private readonly lines: string[] = [];

  /** A family with its HELP and TYPE, only when it has samples. */
  family(name: string, type: MetricType, help: string, samples: Sample[]): void {
    if (samples.length === 0) return;
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [suffix, labels, value] of samples) this.lines.push(`${name}${suffix}${formatLabels(labels)} ${formatValue(value)}`);
  }

  histogram(name: string, help: string, series: [Labels, ExpHistogramData][]): void {
    this.family(name, 'histogram', `${help}. ${APPROXIMATE}`, series.flatMap(([labels, h]) => {
      const counts = countsAtBounds(h, DURATION_BOUNDS);
      return [
        ...DURATION_BOUNDS.map((le, i): Sample => ['_bucket', { ...labels, le: String(le) }, counts[i]]),
        ['_bucket', { ...labels, le: '+Inf' }, h.count],
        ['_sum', labels, h.sum],
        ['_count', labels, h.count],
      ];
    }));
  }

  text(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n` : '';
  }
}

const L = {
  threadName: labelName(ATTR.threadName),
  contextKind: labelName(ATTR.contextKind),
  part: labelName(ATTR.part),
  cpuMode: labelName(ATTR.cpuMode),
  switchType: labelName(ATTR.contextSwitchType),
  threadState: labelName(ATTR.threadState),
};

function contextLabels(c: ContextTotals): Labels {
  return { [L.threadName]: c.name, [L.contextKind]: c.kind };
}

const s = (labels: Labels, value: number): Sample => ['', labels, value];

/** The scrape page. `target` holds the resource attributes of the OTLP export (service.name, srvlens.model, ...). */
export function toPrometheusText(state: CumulativeState, target: Record<string, string | number>): string {
  const page = new Page();
  const counter = (otel: string, unit: string, help: string, samples: Sample[]) =>
    page.family(prometheusName(otel, unit, 'counter'), 'counter', help, samples);
  const gauge = (otel: string, unit: string, help: string, samples: Sample[]) =>
    page.family(prometheusName(otel, unit, 'gauge'), 'gauge', help, samples);
  const perContext = (list: readonly ContextTotals[], values: (c: ContextTotals) => [Labels, number][]): Sample[] =>
    list.flatMap((c) => values(c).map(([extra, v]) => s({ ...contextLabels(c), ...extra }, v)));

  const targetLabels = Object.fromEntries(Object.entries(target).map(([k, v]) => [labelName(k), String(v)]));
  page.family('target_info', 'gauge', 'Target metadata: the resource attributes of the agent\'s OTLP export', [s(targetLabels, 1)]);

  const all = state.contexts;
  const js = all.filter((c) => c.kind === 'js');
  // Gauges of a context absent from the latest interval (a thread that ended) would be stale: left out.
  const current = all.filter((c) => c.index === state.index);

  page.histogram(prometheusName(METRIC.requestDuration, 's', 'histogram'), 'Handler start to response finish',
    js.filter((c) => c.duration.count > 0).map((c) => [contextLabels(c), c.duration]));
  counter(METRIC.requests, '{request}', 'Finished requests', perContext(js, (c) => [[{}, c.requests]]));
  counter(METRIC.requestsJoined, '{request}', 'Finished requests that carried the client send time', perContext(js, (c) => [[{}, c.joined]]));
  counter(METRIC.inFlightTime, 's', 'Requests in flight integrated over time: its rate is the mean in flight', perContext(js, (c) => [[{}, c.inFlightMs / 1000]]));
  counter(METRIC.partTime, 's', 'Time requests spent in each part, summed', perContext(js, (c) =>
    STAGES.map((stage, i) => [{ [L.part]: stage }, c.stageMs[i] / 1000])));
  counter(METRIC.partEntries, '{entry}', 'Times a part was entered', perContext(js, (c) =>
    STAGES.map((stage, i) => [{ [L.part]: stage }, c.stageEntries[i]])));

  const split = js.filter((c) => c.splitRequests > 0);
  counter(METRIC.requestsSplit, '{request}', 'Requests whose wall time was split by the thread schedstat', perContext(split, (c) => [[{}, c.splitRequests]]));
  counter(METRIC.requestsSplitTime, 's', 'Wall time of the requests split by the thread schedstat, summed', perContext(split, (c) => [[{}, c.splitWallMs / 1000]]));
  counter(METRIC.requestThreadTime, 's', 'Requests\' wall time on their thread: on CPU, runnable waiting, blocked', perContext(split, (c) => [
    [{ [L.threadState]: 'on_cpu' }, c.splitOnCpuMs / 1000],
    [{ [L.threadState]: 'runqueue' }, c.splitRunqueueMs / 1000],
    [{ [L.threadState]: 'blocked' }, c.splitBlockedMs / 1000],
  ]));

  gauge(METRIC.eventLoopUtilization, '1', 'Event loop utilization over the latest interval', perContext(current.filter((c) => c.utilization !== null), (c) => [[{}, c.utilization!]]));
  page.histogram(prometheusName(METRIC.eventLoopDelay, 's', 'histogram'), 'Event loop timer lateness (how late a 50 ms timer ran)',
    js.filter((c) => c.loopDelay.count > 0).map((c) => [contextLabels(c), c.loopDelay]));

  counter(METRIC.threadCpuTime, 's', 'CPU time of the context\'s threads', perContext(all, (c) => [
    [{ [L.cpuMode]: 'user' }, c.cpuUserMs / 1000],
    [{ [L.cpuMode]: 'system' }, c.cpuSystemMs / 1000],
  ]));
  counter(METRIC.threadContextSwitches, '{context_switch}', 'Context switches of the context\'s threads', perContext(all, (c) => [
    [{ [L.switchType]: 'voluntary' }, c.voluntary],
    [{ [L.switchType]: 'involuntary' }, c.involuntary],
  ]));
  counter(METRIC.threadRunqueueWait, 's', 'Time the context\'s threads were runnable but waiting for a CPU', perContext(all, (c) => [[{}, c.runqueueMs / 1000]]));
  // Not `srvlens_thread_count`: Prometheus reserves the `_count` suffix for histograms and summaries.
  page.family('srvlens_context_threads', 'gauge', 'Kernel threads in the context in the latest interval', perContext(current, (c) => [[{}, c.threads]]));

  const p = state.process;
  counter(METRIC.cpuTime, 's', 'CPU time of the process', [s({ [L.cpuMode]: 'user' }, p.cpuUserMs / 1000), s({ [L.cpuMode]: 'system' }, p.cpuSystemMs / 1000)]);
  counter(METRIC.contextSwitches, '{context_switch}', 'Context switches of the process', [
    s({ [L.switchType]: 'voluntary' }, p.voluntary),
    s({ [L.switchType]: 'involuntary' }, p.involuntary),
  ]);
  counter(METRIC.runqueueWait, 's', 'Time runnable but waiting for a CPU, all threads', [s({}, p.runqueueMs / 1000)]);
  gauge(METRIC.memoryUsage, 'By', 'Resident set size at the latest interval\'s end', p.rssBytes > 0 ? [s({}, p.rssBytes)] : []);
  counter(METRIC.agentDropped, '{record}', 'Requests or intervals the agent could not keep', [s({}, state.dropped)]);
  counter(METRIC.agentErrors, '{error}', 'Errors the agent caught', [s({}, state.errors)]);
  return page.text();
}
