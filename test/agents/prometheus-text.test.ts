import { describe, expect, it } from 'vitest';
import type { ContextRecord, IntervalRecord } from '../../agents/node/interval-record.js';
import { CumulativeTotals, MAX_CONTEXTS } from '../../agents/node/prometheus-cumulative.js';
import { DURATION_BOUNDS, countsAtBounds, prometheusName, toPrometheusText } from '../../agents/node/prometheus-text.js';
import type { BucketData } from '../../agents/node/thread-ring.js';
import { ExpHistogram, STAGE, STAGE_COUNT, emptyExpHistogram, type ExpHistogramData } from '../../src/vocabulary/index.js';
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

const TARGET = { 'service.name': 'shop', 'srvlens.model': 'event-loop', 'process.pid': 42 };

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
    expect(prometheusName('srvlens.requests', '{request}', 'counter')).toBe('srvlens_requests_total');
    expect(one(samples, 'target_info', { service_name: 'shop', srvlens_model: 'event-loop', process_pid: '42' })).toBe(1);
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

  it('gives cumulative buckets, non-decreasing up to +Inf = _count, within half an exponential bucket of the exact counts', () => {
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
      const atOrBelow = (x: number) => values.filter((v) => v <= x).length;
      DURATION_BOUNDS.forEach((le, i) => {
        expect(counts[i]).toBeGreaterThanOrEqual(atOrBelow(le / 1.022));
        expect(counts[i]).toBeLessThanOrEqual(atOrBelow(le * 1.022));
      });
    }
  });

  it('counts exactly at bounds beyond the smallest and the largest value', () => {
    const h = histogram([0.0101, 0.03, 0.3]);
    expect(countsAtBounds(h, DURATION_BOUNDS)).toEqual([0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3]);
    expect(countsAtBounds(emptyExpHistogram(), DURATION_BOUNDS).every((c) => c === 0)).toBe(true);
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

  it('says the buckets are approximate in the histogram HELP', () => {
    const { help } = page([record(1, [context('main', bucket(1, [0.01]))])]);
    expect(help.get('http_server_request_duration_seconds')).toMatch(/estimated from the agent's base-2 exponential histogram.*2\.2 %/);
  });
});
