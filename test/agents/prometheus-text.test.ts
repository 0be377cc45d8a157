import { describe, expect, it } from 'vitest';
import type { ContextRecord, IntervalRecord } from '../../agents/node/interval-record.js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { toLibraryText } from '../../bench/prometheus/library-page.js';
import { CumulativeTotals, MAX_CONTEXTS } from '../../agents/node/prometheus-cumulative.js';
import { DURATION_BOUNDS, LOOP_DELAY_BOUNDS, countsAtBounds } from '../../agents/node/prometheus-buckets.js';
import { toPrometheusText } from '../../agents/node/prometheus-text.js';
import type { BucketData } from '../../agents/node/thread-ring.js';
import { ExpHistogram, STAGE, STAGE_COUNT, emptyExpHistogram, expQuantile, type ExpHistogramData } from '../../src/vocabulary/index.js';
import { mulberry32 } from '../../src/vocabulary/random.js';

// --- a reader of the exposition format, independent of the writer ---

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseLabels(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    const name = body.slice(i, eq);
    expect(name).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
    expect(body[eq + 1]).toBe('"');
    let value = '';
    let j = eq + 2;
    for (; body[j] !== '"'; j++) {
      if (body[j] === '\\') {
        j++;
        value += body[j] === 'n' ? '\n' : body[j];
      } else {
        value += body[j];
      }
    }
    out[name] = value;
    i = j + 1;
    if (body[i] === ',') i++;
  }
  return out;
}

function parse(text: string): { types: Map<string, string>; help: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : types).set(meta[2], meta[3]);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const family = m![1].replace(/_(bucket|sum|count)$/, '');
    const name = types.has(m![1]) ? m![1] : family;
    expect(types.has(name), `${m![1]} has no TYPE before it`).toBe(true);
    expect(help.has(name), `${m![1]} has no HELP`).toBe(true);
    samples.push({ name: m![1], labels: parseLabels(m![2] ?? ''), value: m![3] === '+Inf' ? Infinity : Number(m![3]) });
  }
  return { types, help, samples };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const one = (samples: Sample[], name: string, labels: Record<string, string> = {}) => {
  const found = find(samples, name, labels);
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0].value;
};

// --- synthetic intervals, as the agent thread harvests them ---

function histogram(values: number[], lowest = 1e-7, highest = 1e4): ExpHistogramData {
  const h = new ExpHistogram(lowest, highest);
  values.forEach((v) => h.record(v));
  return h.toData();
}

function bucket(index: number, durations: number[], extra: Partial<BucketData> = {}): BucketData {
  const stageMs = new Array<number>(STAGE_COUNT).fill(0);
  const stageEntries = new Array<number>(STAGE_COUNT).fill(0);
  stageMs[STAGE.process] = durations.reduce((s, d) => s + d * 1000, 0);
  stageEntries[STAGE.process] = durations.length;
  return {
    index,
    requests: durations.length,
    joined: 0,
    inFlightMs: 0,
    stageMs,
    stageEntries,
    duration: histogram(durations),
    loopDelay: emptyExpHistogram(),
    exemplars: [],
    split: null,
    ...extra,
  };
}

function context(name: string, b: BucketData | null, extra: Partial<ContextRecord> = {}): ContextRecord {
  return { tid: 1, name, kind: 'js', threads: 1, cpuUserMs: 10, cpuSystemMs: 5, voluntary: 3, involuntary: 1, runqueueMs: 2, bucket: b, hasLoop: true, utilization: 0.5, ...extra };
}

function record(index: number, contexts: ContextRecord[], rssBytes = 50e6): IntervalRecord {
  return {
    index,
    startEpochMs: index * 1000,
    endEpochMs: (index + 1) * 1000,
    contexts,
    process: { cpuUserMs: 20, cpuSystemMs: 10, voluntary: 7, involuntary: 2, runqueueMs: 4, rssBytes },
    dropped: 1,
    errors: 2,
  };
}

const TARGET = { 'service.name': 'shop', 'srvlens.model': 'event-loop', 'process.pid': 42, 'srvlens.cpu.limit': 1.5, 'srvlens.cpu.limit.source': 'cgroup cpu.max' };

function page(records: IntervalRecord[]) {
  const totals = new CumulativeTotals();
  records.forEach((r) => totals.add(r));
  const text = toPrometheusText(totals, TARGET);
  return { text, ...parse(text) };
}

describe('Prometheus text of the agent totals', () => {
  it('names every family by OpenTelemetry\'s conversion of the OTLP names, with HELP and TYPE', () => {
    const { types, samples } = page([record(5, [context('main', bucket(5, [0.01, 0.02]))])]);
    expect(Object.fromEntries(types)).toMatchObject({
      target_info: 'gauge',
      http_server_request_duration_seconds: 'histogram',
      srvlens_requests_total: 'counter',
      srvlens_request_part_time_seconds_total: 'counter',
      srvlens_request_part_entries_total: 'counter',
      process_cpu_time_seconds_total: 'counter',
      process_context_switches_total: 'counter',
      process_memory_usage_bytes: 'gauge',
      nodejs_eventloop_utilization_ratio: 'gauge',
      srvlens_thread_cpu_time_seconds_total: 'counter',
      srvlens_agent_dropped_total: 'counter',
      srvlens_agent_errors_total: 'counter',
    });
    expect(one(samples, 'target_info', { service_name: 'shop', srvlens_model: 'event-loop', process_pid: '42', srvlens_cpu_limit: '1.5', srvlens_cpu_limit_source: 'cgroup cpu.max' })).toBe(1);
    // Labelled as before the serializer wrote the page: no scope label on any series.
    expect(samples.filter((x) => Object.keys(x.labels).some((k) => k.startsWith('otel_')))).toEqual([]);
    expect(one(samples, 'process_cpu_time_seconds_total', { cpu_mode: 'user' })).toBeCloseTo(0.02);
    expect(one(samples, 'process_context_switches_total', { process_context_switch_type: 'involuntary' })).toBe(2);
    expect(one(samples, 'srvlens_request_part_time_seconds_total', { thread_name: 'main', srvlens_context_kind: 'js', srvlens_part: 'process' })).toBeCloseTo(0.03);
    expect(one(samples, 'srvlens_request_part_entries_total', { srvlens_part: 'downstream' })).toBe(0);
  });

  it('escapes backslashes, quotes and newlines in label values', () => {
    const name = 'pool "a"\\b\nc';
    const { text, samples } = page([record(1, [context(name, bucket(1, [0.1]))])]);
    expect(text).toContain('thread_name="pool \\"a\\"\\\\b\\nc"');
    expect(one(samples, 'srvlens_requests_total', { thread_name: name })).toBe(1);
  });

  it('sums intervals since the start: counters, histogram count and sum', () => {
    const { samples } = page([
      record(1, [context('main', bucket(1, [0.01, 0.02, 0.03]))]),
      record(2, [context('main', null)]), // an interval without requests
      record(3, [context('main', bucket(3, [0.2, 0.3, 0.4, 0.5]))]),
    ]);
    expect(one(samples, 'srvlens_requests_total', { thread_name: 'main' })).toBe(7);
    expect(one(samples, 'http_server_request_duration_seconds_count', { thread_name: 'main' })).toBe(7);
    expect(one(samples, 'http_server_request_duration_seconds_sum', { thread_name: 'main' })).toBeCloseTo(1.46);
    expect(one(samples, 'srvlens_thread_cpu_time_seconds_total', { thread_name: 'main', cpu_mode: 'system' })).toBeCloseTo(0.015);
    expect(one(samples, 'process_cpu_time_seconds_total', { cpu_mode: 'system' })).toBeCloseTo(0.03);
    expect(one(samples, 'srvlens_agent_errors_total')).toBe(6);
  });

  it('gives cumulative buckets, non-decreasing up to +Inf = _count, each the exact count at the agent\'s bucket boundary it labels', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const rnd = mulberry32(seed);
      const values = Array.from({ length: 3000 }, () => Math.exp(rnd() * 10 - 7.6)); // 0.5 ms .. 11 s, log-uniform
      const records = [0, 1, 2].map((i) => record(i, [context('main', bucket(i, values.slice(i * 1000, (i + 1) * 1000)))]));
      const { samples } = page(records);
      const buckets = find(samples, 'http_server_request_duration_seconds_bucket', { thread_name: 'main' });
      expect(buckets.map((b) => b.labels.le)).toEqual([...DURATION_BOUNDS.map(String), '+Inf']);
      const counts = buckets.map((b) => b.value);
      for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]);
      expect(counts.at(-1)).toBe(3000);
      expect(one(samples, 'http_server_request_duration_seconds_count', { thread_name: 'main' })).toBe(3000);
      // A label is the boundary to 4 digits; the count is of the values at or below the boundary itself.
      DURATION_BOUNDS.forEach((le, i) => {
        const boundary = 2 ** (Math.round(Math.log2(le) * 16) / 16);
        expect(Math.abs(boundary / le - 1)).toBeLessThan(5e-4);
        expect(counts[i]).toBe(values.filter((v) => v <= boundary).length);
      });
    }
  });

  it('counts exactly at bounds beyond the smallest and the largest value', () => {
    const h = histogram([0.0101, 0.03, 0.3]);
    expect(countsAtBounds(h, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 10])).toEqual([0, 0, 1, 2, 2, 2, 3, 3]);
    expect(countsAtBounds(emptyExpHistogram(), DURATION_BOUNDS).every((c) => c === 0)).toBe(true);
  });

  it('lays its bounds on a ladder of the agent\'s bucket boundaries: 215 for durations, 1 ms to 10 s; 29 for loop delay, with 1 s', () => {
    expect(DURATION_BOUNDS).toHaveLength(215);
    expect(DURATION_BOUNDS[0]).toBeCloseTo(0.000977, 6);
    expect(DURATION_BOUNDS.at(-1)).toBeCloseTo(10.37, 2);
    for (let i = 1; i < DURATION_BOUNDS.length; i++) expect(Math.abs(DURATION_BOUNDS[i] / DURATION_BOUNDS[i - 1] / 2 ** (1 / 16) - 1)).toBeLessThan(1e-3);
    expect(LOOP_DELAY_BOUNDS).toHaveLength(29);
    expect(LOOP_DELAY_BOUNDS).toContain(1);
  });

  it('lets linear interpolation in its buckets (histogram_quantile) read p50/p90/p99 within 5 % of the agent\'s own, spikes and all', () => {
    /** Prometheus's histogram_quantile on classic buckets (promql/quantile.go): linear inside the bucket, from 0 below the first. */
    const histogramQuantile = (q: number, bounds: readonly number[], cumulative: number[], total: number) => {
      const rank = q * total;
      const i = cumulative.findIndex((c) => c >= rank);
      if (i < 0) return bounds.at(-1)!;
      const lower = i === 0 ? 0 : bounds[i - 1];
      const below = i === 0 ? 0 : cumulative[i - 1];
      return lower + (bounds[i] - lower) * ((rank - below) / (cumulative[i] - below));
    };
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = mulberry32(seed);
      // A few narrow spikes (fixed delays with 0.5-3 % jitter) in random shares, 2-80 ms, or a smooth log-normal.
      const spikes = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => ({ at: 0.002 * 40 ** rnd(), width: 0.005 + rnd() * 0.025, share: rnd() }));
      const total = spikes.reduce((n, s) => n + s.share, 0);
      const values = Array.from({ length: 2000 }, () => {
        if (seed % 5 === 0) return 0.01 * Math.exp((rnd() + rnd() + rnd() - 1.5) * 1.5);
        let pick = rnd() * total;
        const s = spikes.find((x) => (pick -= x.share) <= 0) ?? spikes[0];
        return s.at * (1 + s.width * rnd());
      });
      const h = histogram(values);
      const cumulative = countsAtBounds(h, DURATION_BOUNDS);
      for (const q of [0.5, 0.9, 0.99]) {
        const agent = expQuantile(h, q)!;
        const prometheus = histogramQuantile(q, DURATION_BOUNDS, cumulative, h.count);
        expect(Math.abs(prometheus / agent - 1), `seed ${seed} q ${q}: ${prometheus} vs ${agent}`).toBeLessThan(0.05);
      }
    }
  });

  it('keeps the series bounded: past MAX_CONTEXTS thread names, further threads fold into `other`', () => {
    const contexts = Array.from({ length: 100 }, (_, i) => context(`conn-${i}`, bucket(1, [0.01])));
    const { samples } = page([record(1, contexts)]);
    const names = find(samples, 'srvlens_requests_total').map((s) => s.labels.thread_name);
    expect(names).toHaveLength(MAX_CONTEXTS + 1);
    expect(one(samples, 'srvlens_requests_total', { thread_name: 'other' })).toBe(100 - MAX_CONTEXTS);
    expect(names.reduce((n, name) => n + one(samples, 'srvlens_requests_total', { thread_name: name }), 0)).toBe(100);
  });

  it('leaves out the gauges of a thread that ended, and a late hand-off moves no gauge back', () => {
    const { samples } = page([
      record(1, [context('main', null, { utilization: 0.2 }), context('worker-1', null, { utilization: 0.9 })]),
      record(2, [context('main', null, { utilization: 0.4 })], 60e6),
      // a forked child's hand-off for interval 1, after interval 2 was harvested: no process figures
      record(1, [context('main', bucket(1, [0.05]), { utilization: null, threads: 1 })], 0),
    ]);
    expect(find(samples, 'nodejs_eventloop_utilization_ratio').map((s) => [s.labels.thread_name, s.value])).toEqual([['main', 0.4]]);
    expect(one(samples, 'srvlens_context_threads', { thread_name: 'main' })).toBe(1);
    expect(one(samples, 'process_memory_usage_bytes')).toBe(60e6);
    expect(one(samples, 'srvlens_requests_total', { thread_name: 'main' })).toBe(1);
    // the ended thread's counters stay, as counters do
    expect(one(samples, 'srvlens_thread_cpu_time_seconds_total', { thread_name: 'worker-1', cpu_mode: 'user' })).toBeCloseTo(0.01);
  });

  it('is the page @opentelemetry/exporter-prometheus writes from the same totals (the bench\'s peer), sample for sample', () => {
    const totals = new CumulativeTotals();
    [
      record(1, [context('main', bucket(1, [0.003, 0.02, 0.4])), context('pool "x"', bucket(1, [0.01], { split: { requests: 1, onCpuMs: 2, runqueueMs: 1, blockedMs: 7, wallMs: 10 } }))]),
      record(2, [context('main', bucket(2, [0.05])), context('srvlens-agent', null, { kind: 'agent', hasLoop: false, utilization: null })]),
    ].forEach((r) => totals.add(r));
    const lines = (text: string) => parse(text).samples.map((x) => `${x.name} ${JSON.stringify(Object.entries(x.labels).sort())} ${x.value}`).sort();
    const ours = lines(toPrometheusText(totals, TARGET));
    expect(ours.length).toBeGreaterThan(300);
    expect(lines(toLibraryText(totals, resourceFromAttributes(TARGET)))).toEqual(ours);
  });

  it('says the bucket counts are exact in the histogram HELP', () => {
    const { help } = page([record(1, [context('main', bucket(1, [0.01]))])]);
    expect(help.get('http_server_request_duration_seconds')).toMatch(/boundaries of the agent's exponential histogram: their counts are exact/);
  });
});
