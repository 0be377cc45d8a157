/**
 * The agent configured like any OpenTelemetry app (issue 17): a plain node:http app under `node --import` the agent,
 * with only OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME set (no SRVLENS_* at all), sends its metrics to a
 * srvlens collector there, under that name, over the protocol OTEL_EXPORTER_OTLP_PROTOCOL names (http/protobuf by
 * default; grpc to a gRPC server). Between the app and the collector a recorder keeps each export's content type and raw body, so the test
 * sees which encoding went over the socket. Needs `npm run build` first.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { startCollector, type Collector } from '../../src/collect/receiver.js';
import { parseOtlpMetrics, type AgentInterval } from '../../src/collect/otlp-json.js';
import { decodeMetricsProto } from '../../src/collect/otlp-proto.js';
import { ENTRY } from '../../src/vocabulary/package-paths.js';
import { exitCode, spawnGathered, until, type GatheredChild } from '../helpers/children.js';

const APP = `
import { createServer } from 'node:http';
const server = createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

let app: GatheredChild | null = null;
let collector: Collector | null = null;
let recorder: http.Server | null = null;
let grpcServer: grpc.Server | null = null;
afterEach(async () => {
  grpcServer?.forceShutdown();
  grpcServer = null;
  if (app) {
    app.kill('SIGKILL');
    await exitCode(app);
  }
  app = null;
  await collector?.close();
  collector = null;
  recorder?.close();
  recorder = null;
});

interface Seen {
  path: string;
  type: string;
  body: Buffer;
}

/** Forwards every request to the collector as it came, and keeps what it was. */
async function startRecorder(target: string, seen: Seen[]): Promise<string> {
  recorder = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const type = String(req.headers['content-type'] ?? '');
    seen.push({ path: req.url ?? '', type, body });
    const answer = await fetch(new URL(req.url ?? '/', target), { method: 'POST', headers: { 'content-type': type }, body });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' }).end(Buffer.from(await answer.arrayBuffer()));
  });
  recorder.listen(0, '127.0.0.1');
  await once(recorder, 'listening');
  return `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
}

/** The app's environment: the test runner's, less every variable that would configure the agent another way. */
function plainEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SRVLENS_') && !k.startsWith('OTEL_')) env[k] = v;
  return { ...env, ...extra };
}

async function startApp(env: NodeJS.ProcessEnv): Promise<number> {
  app = spawnGathered(['--import', ENTRY.agent, '--input-type=module', '-e', APP], env);
  const started = app;
  const port = Number(await until(() => /^(\d+)\n/.exec(started.out())?.[1] ?? (started.exitCode !== null && `exited: ${started.err()}`), 'the app to listen'));
  expect(Number.isInteger(port)).toBe(true);
  return port;
}

async function served(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    await res.text();
  }
}

describe('the agent under the standard OpenTelemetry environment', () => {
  it.each([
    [undefined, 'application/x-protobuf'],
    ['http/protobuf', 'application/x-protobuf'],
    ['http/json', 'application/json'],
  ])('OTEL_EXPORTER_OTLP_PROTOCOL=%s: the metrics reach the collector under OTEL_SERVICE_NAME, as %s', async (protocol, contentType) => {
    const received: AgentInterval[] = [];
    collector = await startCollector({ intervalMs: 1000, onAgentIntervals: (l) => received.push(...l) });
    const seen: Seen[] = [];
    const endpoint = await startRecorder(collector.metricsUrl, seen);
    const env = plainEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'checkout', ...(protocol ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}) });
    const port = await startApp(env);
    const child = app!;
    const N = 20;
    await served(port, N);
    // At the default 1 s interval: the requests' interval ends, then the agent harvests and exports it.
    await until(() => received.reduce((s, i) => s + i.contexts.reduce((t, c) => t + c.requests, 0), 0) >= N, `${N} requests at the collector (${child.err()})`, 10_000);
    expect(collector.rejected).toEqual([]);
    expect(new Set(received.map((i) => i.service))).toEqual(new Set(['checkout']));
    expect(new Set(received.map((i) => i.pid))).toEqual(new Set([child.pid]));
    expect(received.reduce((s, i) => s + i.contexts.reduce((t, c) => t + c.requests, 0), 0)).toBe(N);
    const metrics = seen.filter((s) => s.path === '/v1/metrics');
    expect(metrics.length).toBeGreaterThan(0);
    expect(new Set(metrics.map((s) => s.type))).toEqual(new Set([contentType]));
    if (contentType === 'application/json') {
      // The standard detectors' attributes ride along (host, process), beside service.name and srvlens's own.
      const resource = JSON.parse(metrics[0].body.toString()).resourceMetrics[0].resource.attributes as { key: string }[];
      const keys = resource.map((a) => a.key);
      expect(keys).toEqual(expect.arrayContaining(['service.name', 'host.name', 'host.arch', 'process.pid', 'process.runtime.name', 'srvlens.interval_ms']));
    }
  });

  it('OTEL_EXPORTER_OTLP_PROTOCOL=grpc: the metrics reach a gRPC MetricsService, and the srvlens collector\'s decoder reads them', async () => {
    // A real gRPC server (the exporter's own @grpc/grpc-js) that keeps each request's bytes as they came.
    const bodies: Buffer[] = [];
    grpcServer = new grpc.Server();
    grpcServer.addService(
      {
        Export: {
          path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: () => Buffer.alloc(0),
          responseDeserialize: (b: Buffer) => b,
        },
      },
      { Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => (bodies.push(call.request), done(null, Buffer.alloc(0))) },
    );
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer!.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const port = await startApp(plainEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${grpcPort}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_SERVICE_NAME: 'grpc-app' }));
    const N = 15;
    await served(port, N);
    const intervals = () => bodies.flatMap((b) => parseOtlpMetrics(decodeMetricsProto(b) as never, 1000));
    const requests = () => intervals().reduce((s, i) => s + i.contexts.reduce((t, c) => t + c.requests, 0), 0);
    await until(() => requests() >= N, `${N} requests over gRPC (${app!.err()})`, 10_000);
    expect(requests()).toBe(N);
    expect(new Set(intervals().map((i) => i.service))).toEqual(new Set(['grpc-app']));
  });
});
