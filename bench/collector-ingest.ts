/**
 * How fast the collector takes in agent exports: data points per CPU second of one core, OTLP JSON against
 * protobuf, on the bytes OpenTelemetry's own exporters send (captured once from each), decoded and read as the
 * receiver does (src/collect/receiver.ts: JSON.parse or the protobuf decoder, then parseOtlpMetrics). In this process,
 * without HTTP: the figure is the collector's own work, which a loaded machine's sockets would only add to.
 * A measurement, not a test.
 *
 *   npm run build && node dist/bench/collector-ingest.js [--rounds 7] [--ms 300] [--json]
 *
 * The exports: an interval of a pool of 8 threads (8 JS contexts, the agent's thread and the runtime's), each JS
 * context with 400 requests of 1-80 ms and its loop delay, as the agent sends them once an interval.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ContextRecord, IntervalRecord } from '../agents/node/interval-record.js';
import { toResourceMetrics } from '../agents/node/otlp-metrics.js';
import { parseOtlpMetrics } from '../src/collect/otlp-json.js';
import { countProtoItems, decodeMetricsProto } from '../src/collect/otlp-proto.js';
import { syntheticBucket } from './synthetic-bucket.js';
import { monoMs, monoToEpochMs } from '../src/vocabulary/index.js';
import { mulberry32 } from '../src/vocabulary/random.js';
import type { SuiteJson } from './suite/specs.js';
import { textTable } from './suite/table.js';
import { figure } from './suite/figures.js';
import { benchArgs } from './cli.js';

const INTERVAL_MS = 1000;
const POOL_THREADS = 8;
const REQUESTS_PER_CONTEXT = 400;

function record(index: number): IntervalRecord {
  const rnd = mulberry32(7);
  const js = Array.from({ length: POOL_THREADS }, (_, i): ContextRecord => {
    const bucket = syntheticBucket(index, rnd, { requests: REQUESTS_PER_CONTEXT, joined: 0, inFlightMs: 300 });
    return { tid: 100 + i, name: `pool-${i}`, kind: 'js', threads: 1, cpuUserMs: 400, cpuSystemMs: 50, voluntary: 30, involuntary: 5, runqueueMs: 20, bucket, hasLoop: true, utilization: 0.8 };
  });
  const other = (tid: number, name: string, kind: 'agent' | 'runtime', threads: number): ContextRecord => ({
    tid, name, kind, threads, cpuUserMs: 5, cpuSystemMs: 1, voluntary: 10, involuntary: 1, runqueueMs: 0.5, bucket: null, hasLoop: false, utilization: null,
  });
  return {
    index,
    startEpochMs: monoToEpochMs(index * INTERVAL_MS),
    endEpochMs: monoToEpochMs((index + 1) * INTERVAL_MS),
    contexts: [...js, other(99, 'srvlens-agent', 'agent', 1), other(0, 'runtime', 'runtime', 7)],
    process: { cpuUserMs: 3300, cpuSystemMs: 410, voluntary: 260, involuntary: 41, runqueueMs: 170, rssBytes: 180e6 },
    dropped: 0,
    errors: 0,
  };
}

/** The body each exporter sends for one interval, caught by a server that answers as a collector does. */
async function capture(Exporter: typeof JsonExporter | typeof ProtoExporter, rec: IntervalRecord): Promise<Buffer> {
  let body: Buffer | null = null;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    body = Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const exporter = new Exporter({ url: `http://127.0.0.1:${port}/v1/metrics` });
  const resource = resourceFromAttributes({ 'service.name': 'ingest-bench', 'process.pid': 4242, 'srvlens.model': 'thread-pool', 'srvlens.interval_ms': INTERVAL_MS });
  const result = await new Promise<{ code: number; error?: Error }>((r) => exporter.export(toResourceMetrics(resource, [rec]), r));
  await exporter.shutdown();
  server.close();
  if (result.code !== 0 || body === null) throw new Error(`the exporter did not deliver its export: ${result.error?.message ?? 'no body'}`);
  return body;
}

/** Parses `body` for about `ms` of CPU; data points per CPU second. */
function rate(parse: () => unknown, points: number, ms: number): number {
  let n = 0;
  const t0 = process.cpuUsage();
  let used = 0;
  while (used < ms * 1000) {
    parse();
    n++;
    const d = process.cpuUsage(t0);
    used = d.user + d.system;
  }
  return (n * points) / (used / 1e6);
}

async function main(): Promise<void> {
  const values = benchArgs('collector-ingest', 'usage: node dist/bench/collector-ingest.js [--rounds N] [--ms MS] [--json]', {
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
  });
  const rounds = Number(values.rounds);
  const ms = Number(values.ms);
  const rec = record(Math.floor(monoMs() / INTERVAL_MS) - 1);
  const json = await capture(JsonExporter, rec);
  const proto = await capture(ProtoExporter, rec);
  const points = countProtoItems(proto, true);
  const parsers = {
    json: () => parseOtlpMetrics(JSON.parse(json.toString('utf8')), INTERVAL_MS),
    protobuf: () => parseOtlpMetrics(decodeMetricsProto(proto) as Parameters<typeof parseOtlpMetrics>[0], INTERVAL_MS),
  };
  // Both must read the same agent data, or the rates compare different work.
  if (JSON.stringify(parsers.json()) !== JSON.stringify(parsers.protobuf())) throw new Error('JSON and protobuf exports read differently');
  const got = { json: [] as number[], protobuf: [] as number[] };
  rate(parsers.json, points, ms); // the JIT's turn
  rate(parsers.protobuf, points, ms);
  for (let r = 0; r < rounds; r++) {
    // Which goes first alternates, so that a drift of the machine falls on both alike.
    for (const enc of r % 2 ? (['protobuf', 'json'] as const) : (['json', 'protobuf'] as const)) got[enc].push(rate(parsers[enc], points, ms));
  }
  const note = `${points} data points an export (${POOL_THREADS} pool threads); JSON ${json.length} bytes, protobuf ${proto.length}`;
  const figures: SuiteJson['figures'] = [
    { name: 'OTLP JSON: data points per CPU second', unit: '/s', samples: got.json, note },
    { name: 'OTLP protobuf: data points per CPU second', unit: '/s', samples: got.protobuf },
  ];
  if (values.json) process.stdout.write(`${JSON.stringify({ figures } satisfies SuiteJson)}\n`);
  else process.stdout.write(textTable(figures.map((f) => figure({ ...f, bench: 'collector-ingest' }))));
}

await main();
