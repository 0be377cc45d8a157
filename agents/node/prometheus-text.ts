/**
 * The agent's totals as a Prometheus scrape page (text exposition format 0.0.4). A pure function of the state, so
 * what a scraper sees is tested without a server.
 *
 * Written here, not by @opentelemetry/exporter-prometheus's serializer: on the same totals the serializer takes
 * 3.8-6.4 times as long per scrape (0.8 ms against 0.2 for an event loop, 28-47 ms against 5-7 for 30 contexts;
 * bench/prometheus-render, where it stays as the peer). Before the histogram lines got their labels formatted once
 * per series it was still 1.13-1.30 times as long as this writer. The buckets make those lines most of the page.
 *
 * Names are OpenTelemetry's conversion of the names the OTLP export uses (src/vocabulary/metric-names.ts): dots to
 * underscores, the unit as a suffix (s: seconds, By: bytes, 1 on a gauge: ratio, {annotations} dropped), `_total`
 * on counters; attributes likewise (`thread.name` -> `thread_name`). Resource attributes go on `target_info`.
 */
import { ATTR, CONTEXT_THREADS, METRIC, STAGES, labelName, prometheusName, type ExpHistogramData } from '../../src/vocabulary/index.js';
import type { ContextTotals, CumulativeState } from './prometheus-cumulative.js';
import { DURATION_BOUNDS, LOOP_DELAY_BOUNDS, countsAtBounds } from './prometheus-buckets.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type MetricType = 'counter' | 'gauge' | 'histogram';
type Labels = Record<string, string>;
/** A line of a family: name suffix (`_bucket`, ...), labels, value. */
type Sample = [string, Labels, number];

function escapeLabelValue(value: string): string {
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

const BOUNDS_HELP = 'Bucket bounds are boundaries of the agent\'s exponential histogram: their counts are exact';

/** `le` label values, formatted once per ladder rather than once per line. */
const leLabels = new WeakMap<readonly number[], string[]>();
function leOf(bounds: readonly number[]): string[] {
  let labels = leLabels.get(bounds);
  if (!labels) leLabels.set(bounds, (labels = [...bounds.map((b) => `le="${b}"`), 'le="+Inf"']));
  return labels;
}

class Page {
  private readonly lines: string[] = [];

  /** A family with its HELP and TYPE, only when it has samples. */
  family(name: string, type: MetricType, help: string, samples: Sample[]): void {
    if (samples.length === 0) return;
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    for (const [suffix, labels, value] of samples) this.lines.push(`${name}${suffix}${formatLabels(labels)} ${formatValue(value)}`);
  }

  /**
   * Classic buckets at `bounds`, counted off each exponential histogram. The bucket lines are most of a page (a
   * series' labels formatted once for its ladder; measured in bench/prometheus-render).
   */
  histogram(name: string, help: string, bounds: readonly number[], series: [Labels, ExpHistogramData][]): void {
    if (series.length === 0) return;
    this.lines.push(`# HELP ${name} ${escapeHelp(`${help}. ${BOUNDS_HELP}`)}`, `# TYPE ${name} histogram`);
    const le = leOf(bounds);
    for (const [labels, h] of series) {
      const inner = formatLabels(labels).slice(1, -1);
      const prefix = `${name}_bucket{${inner ? `${inner},` : ''}`;
      const counts = countsAtBounds(h, bounds);
      for (let i = 0; i < counts.length; i++) this.lines.push(`${prefix}${le[i]}} ${counts[i]}`);
      this.lines.push(`${prefix}${le[counts.length]}} ${h.count}`);
      const braces = inner ? `{${inner}}` : '';
      this.lines.push(`${name}_sum${braces} ${formatValue(h.sum)}`, `${name}_count${braces} ${h.count}`);
    }
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

/** The bucket bounds of the two histograms: prometheus-buckets.ts's, but for a bench that measures other ladders. */
export interface Ladders {
  duration: readonly number[];
  loopDelay: readonly number[];
}

/**
 * The scrape page. `target` holds the resource attributes of the OTLP export (service.name, srvlens.model,
 * srvlens.cpu.limit, ...): they go on `target_info`.
 */
export function toPrometheusText(
  state: CumulativeState,
  target: Record<string, string | number>,
  bounds: Ladders = { duration: DURATION_BOUNDS, loopDelay: LOOP_DELAY_BOUNDS },
): string {
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

  page.histogram(prometheusName(METRIC.requestDuration, 's', 'histogram'), 'Handler start to response finish', bounds.duration,
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
  page.histogram(prometheusName(METRIC.eventLoopDelay, 's', 'histogram'), 'Event loop timer lateness (how late a 100 ms timer ran)', bounds.loopDelay,
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
  page.family(CONTEXT_THREADS, 'gauge', 'Kernel threads in the context in the latest interval', perContext(current, (c) => [[{}, c.threads]]));

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
