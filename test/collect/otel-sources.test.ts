import { afterAll, describe, expect, it } from 'vitest';
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import { join } from 'node:path';
import { startCollector } from '../../src/collect/receiver.js';
import type { AgentInterval } from '../../src/collect/otlp-json.js';
import { waitUntil } from '../helpers/processes.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

describe('any OpenTelemetry source', () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  /** A downstream tier answering in 20 ms, and `file` under the plain SDK setup exporting to `collectorPort`. */
  async function startApp(file: string, collectorPort: number): Promise<{ port: number }> {
    const downstream = createServer((req, res) => setTimeout(() => res.end('x'), 20));
    downstream.listen(0, '127.0.0.1');
    await once(downstream, 'listening');
    cleanup.push(() => downstream.close());
    const app: ChildProcess = fork(join(FIXTURES, file), [], {
      execArgv: ['--require', join(FIXTURES, 'otel-setup.cjs')],
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        DOWNSTREAM_PORT: String((downstream.address() as { port: number }).port),
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    cleanup.push(() => app.kill('SIGKILL'));
    const [ready] = (await once(app, 'message')) as [{ port: number }];
    return ready;
  }

  async function get(port: number, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const req = request({ host: '127.0.0.1', port, path: '/' });
      req.end();
      const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
      res.resume();
      await once(res, 'end');
    }
  }

  it('maps a plain sdk-node app\'s server spans (OTLP protobuf) onto the parts', async () => {
    const received: AgentInterval[] = [];
    const collector = await startCollector({ intervalMs: 500, onAgentIntervals: (l) => received.push(...l) });
    cleanup.push(() => collector.close());
    const ready = await startApp('otel-app.cjs', collector.port);
    const n = 12;
    await get(ready.port, n);
    const contexts = () => received.flatMap((a) => a.contexts);
    const requests = () => contexts().reduce((s, c) => s + c.requests, 0);
    expect(await waitUntil(() => requests() >= n, 10_000)).toBe(true);
    expect(requests()).toBe(n);
    expect(received.every((a) => a.service === 'plain-otel-app')).toBe(true);
    const mean = (stage: 'process' | 'downstream' | 'transform') => contexts().reduce((s, c) => s + c.stage_ms[stage], 0) / n;
    expect(mean('downstream')).toBeGreaterThanOrEqual(19);
    expect(mean('transform')).toBeGreaterThanOrEqual(1.9);
    expect(mean('process')).toBeGreaterThanOrEqual(2.9);
    // No client send time in a plain app: the queue parts are not measured, not zero.
    expect(contexts().reduce((s, c) => s + c.joined + c.stage_entries.server_queue, 0)).toBe(0);
    expect(collector.rejected).toEqual([]);
  });

  it('says what arrived when an app\'s spans hold no server span (an ES module app under a require-only SDK)', async () => {
    const received: AgentInterval[] = [];
    const notices: string[] = [];
    const collector = await startCollector({ intervalMs: 500, onAgentIntervals: (l) => received.push(...l), onNotice: (m) => notices.push(m) });
    cleanup.push(() => collector.close());
    const ready = await startApp('otel-app.mjs', collector.port);
    // Two batches at least (the SDK exports every 200 ms): a server span may come one batch after its children.
    await get(ready.port, 5);
    await new Promise((r) => setTimeout(r, 600));
    await get(ready.port, 5);
    expect(await waitUntil(() => notices.length > 0, 10_000)).toBe(true);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/^service plain-otel-app \(PID \d+\) sent 10 spans \(10 client\) and no server span/);
    expect(notices[0]).toContain('--experimental-loader=@opentelemetry/instrumentation/hook.mjs');
    // Nothing is made up from the client spans: no requests, not zero requests in a run of their own.
    expect(received.flatMap((a) => a.contexts).reduce((s, c) => s + c.requests, 0)).toBe(0);
  });
});

describe('OTLP encodings', () => {
  it('reads the same agent data from protobuf as from JSON', async () => {
    const { OTLPMetricExporter: ProtoExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
    const { OTLPMetricExporter: JsonExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const { toResourceMetrics } = await import('../../agents/node/otlp-metrics.js');
    const { ExpHistogram, monoMs, monoToEpochMs, STAGE_COUNT } = await import('../../src/vocabulary/index.js');
    const intervalMs = 1000;
    const index = Math.floor(monoMs() / intervalMs) - 1;
    const duration = new ExpHistogram();
    [0.002, 0.004, 0.0045, 0.1].forEach((v) => duration.record(v));
    const bucket = {
      index,
      requests: 4,
      joined: 3,
      stageMs: Array.from({ length: STAGE_COUNT }, (_, i) => i * 1.5),
      stageEntries: Array.from({ length: STAGE_COUNT }, () => 3),
      duration: duration.toData(),
      loopDelay: new ExpHistogram(1e-6, 1e3).toData(),
      split: null,
      exemplars: [],
      inFlightMs: 37.5,
    };
    const record = {
      index,
      startEpochMs: monoToEpochMs(index * intervalMs),
      endEpochMs: monoToEpochMs((index + 1) * intervalMs),
      contexts: [{ tid: 42, name: 'main', kind: 'js' as const, threads: 1, cpuUserMs: 12.5, cpuSystemMs: 3, voluntary: 7, involuntary: 2, runqueueMs: 1.25, bucket, hasLoop: true, utilization: 0.4 }],
      process: { cpuUserMs: 20, cpuSystemMs: 5, voluntary: 9, involuntary: 3, runqueueMs: 2, rssBytes: 1234567 },
      dropped: 1,
      errors: 0,
    };
    const resource = resourceFromAttributes({ 'service.name': 'enc', 'process.pid': 777, 'srvlens.interval_ms': intervalMs });
    const got: Record<string, AgentInterval[]> = { json: [], proto: [] };
    for (const [name, Exporter] of [['json', JsonExporter], ['proto', ProtoExporter]] as const) {
      const collector = await startCollector({ intervalMs, onAgentIntervals: (l) => got[name].push(...l) });
      const exporter = new Exporter({ url: collector.metricsUrl });
      const result = await new Promise<{ code: number }>((r) => exporter.export(toResourceMetrics(resource, [record]), r));
      expect(result.code).toBe(0);
      await exporter.shutdown();
      await collector.close();
      expect(collector.rejected).toEqual([]);
    }
    expect(got.json).toHaveLength(1);
    expect(got.proto).toEqual(got.json);
    const [a] = got.json;
    expect(a.index).toBe(index);
    expect(a.contexts[0]).toMatchObject({ tid: 42, requests: 4, joined: 3, voluntary: 7, eventloop_utilization: 0.4 });
    expect(a.contexts[0].duration!.count).toBe(4);
    expect(a.contexts[0].in_flight_ms).toBeCloseTo(37.5, 6);
    expect(a.process.cpu_user_ms).toBeCloseTo(20, 6);
  });
});
