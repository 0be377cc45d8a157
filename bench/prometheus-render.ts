/**
 * What a scrape costs the agent thread, measured, never asserted (bench/README.md): the time to build the page from
 * the agent's totals and its size, the agent's own writer (agents/node/prometheus-text.ts, what it serves) against
 * @opentelemetry/exporter-prometheus's serializer writing the same page (bench/prometheus/library-page.ts), on the
 * same totals, interleaved in the same run; and the page's size as it was before the buckets were chosen
 * (OpenTelemetry's 14 default boundaries for both histograms).
 *
 *   npm run bench:prometheus [-- --ms 40 --rounds 21] [--json]
 *
 * Three servers' totals, synthetic but shaped like the agent's: an event loop (one JS context), a pool of 8 named
 * threads, and 32 contexts (MAX_CONTEXTS: the most a scrape ever holds, e.g. thread per connection), each JS context
 * with requests spread 1-80 ms and loop delay 0-5 ms.
 */
import { cpus, loadavg } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { CumulativeTotals, MAX_CONTEXTS } from '../agents/node/prometheus-cumulative.js';
import { toPrometheusText } from '../agents/node/prometheus-text.js';
import type { ContextRecord, IntervalRecord } from '../agents/node/interval-record.js';
import type { BucketData } from '../agents/node/thread-ring.js';
import { mulberry32 } from '../src/vocabulary/random.js';
import { toLibraryText } from './prometheus/library-page.js';
import { syntheticBucket } from './synthetic-bucket.js';
import type { SuiteJson } from './suite/specs.js';
import { benchArgs } from './cli.js';

const ARGS = benchArgs('prometheus-render', 'usage: node dist/bench/prometheus-render.js [--ms MS] [--rounds N] [--json]', {
  ms: { type: 'string', default: '40' },
  rounds: { type: 'string', default: '21' },
  json: { type: 'boolean', default: false },
});
/** Each timing renders for about this long (a number of renders fixed per server from a first timing). */
const TIMING_MS = Number(ARGS.ms);
const ROUNDS = Number(ARGS.rounds);
/** --json: the suite's figures on stdout (bench/suite/specs.ts, SuiteJson), the text on stderr. */
const JSON_OUT = ARGS.json;
const say = JSON_OUT ? console.error : console.log;
const figures: SuiteJson['figures'] = [];
/** OpenTelemetry's semantic-convention default boundaries for http.server.request.duration: the page before. */
const OTEL_DEFAULT = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const ATTRIBUTES = {
  'service.name': 'bench',
  'process.pid': 4242,
  'srvlens.model': 'thread-pool',
  'srvlens.role': 'server',
  'srvlens.interval_ms': 1000,
  'srvlens.cpu.limit': 2,
  'srvlens.cpu.limit.source': 'host',
};
const resource = resourceFromAttributes(ATTRIBUTES);


/** A server's totals after 60 intervals: `js` JS contexts, the agent's and the runtime's. */
function totals(js: number): CumulativeTotals {
  const rnd = mulberry32(js);
  const t = new CumulativeTotals();
  for (let index = 0; index < 60; index++) {
    const context = (name: string, kind: ContextRecord['kind'], b: BucketData | null): ContextRecord => ({
      tid: 1, name, kind, threads: 1, cpuUserMs: 300, cpuSystemMs: 80, voluntary: 500, involuntary: 20, runqueueMs: 4, bucket: b, hasLoop: b !== null, utilization: b ? 0.4 : null,
    });
    const contexts = Array.from({ length: js }, (_, i) => context(js === 1 ? 'main' : `worker-${i}`, 'js', syntheticBucket(index, rnd, { requests: 400, joined: 400, inFlightMs: 900 })));
    contexts.push(context('srvlens-agent', 'agent', null), { ...context('runtime', 'runtime', null), threads: 6 });
    const record: IntervalRecord = {
      index, startEpochMs: index * 1000, endEpochMs: (index + 1) * 1000, contexts,
      process: { cpuUserMs: 300 * js, cpuSystemMs: 80 * js, voluntary: 500 * js, involuntary: 20 * js, runqueueMs: 4 * js, rssBytes: 80e6 },
      dropped: 0, errors: 0,
    };
    t.add(record);
  }
  return t;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Microseconds per render, over `renders` renders. */
function time(render: () => string, renders: number): number {
  let keep = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < renders; i++) keep += render().length;
  const us = Number(process.hrtime.bigint() - start) / 1000 / renders;
  if (keep === 0) throw new Error('empty pages');
  return us;
}

say(`srvlens Prometheus render bench: ${ROUNDS} rounds of ~${TIMING_MS} ms each way; ${cpus().length} CPUs, ${cpus()[0]?.model ?? '?'}; node ${process.version}; load average ${loadavg()[0].toFixed(1)}`);
say('µs per scrape (median of rounds), page bytes and series; ratio: library / agent\'s own writer in each round (the two');
say('timed back to back, which goes first alternating): its median and the middle half of the rounds\n');
const rows: string[][] = [['server', 'JS contexts', 'bytes before', 'bytes now', 'series now', 'agent µs', 'library µs', 'ratio', 'middle half']];
const verdicts: string[] = [];
for (const js of [1, 8, MAX_CONTEXTS - 2]) {
  const state = totals(js);
  const library = () => toLibraryText(state, resource);
  const hand = () => toPrometheusText(state, ATTRIBUTES);
  const before = toPrometheusText(state, ATTRIBUTES, { duration: OTEL_DEFAULT, loopDelay: OTEL_DEFAULT });
  const page = hand();
  // Warm both up (the JIT), size the timings, then alternate which goes first.
  const renders = Math.max(3, Math.round((TIMING_MS * 1000) / Math.max(time(library, 20), time(hand, 20))));
  const lib: number[] = [];
  const own: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2) {
      lib.push(time(library, renders));
      own.push(time(hand, renders));
    } else {
      own.push(time(hand, renders));
      lib.push(time(library, renders));
    }
  }
  const ratios = lib.map((l, i) => l / own[i]).sort((a, b) => a - b);
  const ratio = median(ratios);
  const [q1, q3] = [ratios[Math.floor(ratios.length / 4)], ratios[Math.floor((ratios.length * 3) / 4)]];
  // Within noise: the middle half of the rounds' ratios holds 1.
  verdicts.push(q1 > 1 ? 'slower' : q3 < 1 ? 'faster' : 'within noise');
  const server = js === 1 ? 'event loop' : js === 8 ? 'pool of 8' : `${MAX_CONTEXTS} contexts`;
  // The agent keeps its own writer only while it is faster than the library's.
  figures.push({ name: `${server}: library / agent writer time`, unit: 'x', samples: ratios, target: { op: '>=', value: 1 } });
  const series = page.split('\n').filter((l) => l && !l.startsWith('#')).length;
  rows.push([
    server,
    String(js),
    String(Buffer.byteLength(before)),
    String(Buffer.byteLength(page)),
    String(series),
    median(own).toFixed(0),
    median(lib).toFixed(0),
    ratio.toFixed(2),
    `${q1.toFixed(2)}-${q3.toFixed(2)}`,
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) say(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
say(`\nthe library against the agent's own writer: ${verdicts.join(', ')}`);
if (JSON_OUT) process.stdout.write(`${JSON.stringify({ figures } satisfies SuiteJson)}\n`);
