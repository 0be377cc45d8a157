import { afterEach, describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import { once } from 'node:events';
import { startAgent, type RunningAgent } from '../../agents/node/agent.js';
import { readConfig } from '../../agents/node/config.js';
import { startCollector, type Collector } from '../../src/collect/receiver.js';
import type { AgentContext, AgentInterval } from '../../src/collect/otlp-json.js';
import { SEND_TIME_HEADER, STAGE, markStage, monoMs, monoUs } from '../../src/vocabulary/index.js';
import { waitUntil } from '../helpers/processes.js';

const INTERVAL_MS = 200;

function spin(ms: number): void {
  const end = monoMs() + ms;
  while (monoMs() < end);
}

async function get(port: number, headers: Record<string, string> = {}): Promise<number> {
  const req = request({ host: '127.0.0.1', port, path: '/', headers: { ...headers } });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  res.resume();
  await once(res, 'end');
  return res.statusCode ?? 0;
}

describe('node agent', () => {
  let server: Server | null = null;
  let collector: Collector | null = null;
  let agent: RunningAgent | null = null;

  afterEach(async () => {
    await agent?.stop();
    server?.close();
    await collector?.close();
    agent = null;
    server = null;
    collector = null;
  });

  async function startAll(handler: Parameters<typeof createServer>[1]) {
    const received: AgentInterval[] = [];
    collector = await startCollector({ intervalMs: INTERVAL_MS, onAgentIntervals: (l) => received.push(...l) });
    agent = startAgent({ ...readConfig({}), intervalMs: INTERVAL_MS, collectorUrl: collector.metricsUrl, serverName: 'test' });
    server = createServer(handler);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as { port: number }).port, received };
  }

  it('measures the stages an app marks, joined to the client send time, and exports them over OTLP', async () => {
    const { port, received } = await startAll((req, res) => {
      markStage(res, STAGE.process);
      spin(4);
      markStage(res, STAGE.downstream);
      setTimeout(() => {
        markStage(res, STAGE.send);
        res.end('ok');
      }, 10);
    });
    const n = 10;
    for (let i = 0; i < n; i++) await get(port, { [SEND_TIME_HEADER]: String(Math.round(monoUs())) });
    await get(port); // one request without the header: counted, not joined
    const deadline = Date.now() + 5000;
    // The collector runs in this same process, so the agent also sees the collector's own OTLP requests: the
    // test's requests are the joined ones plus the one sent without the header.
    const contexts = () => received.flatMap((a) => a.contexts);
    const joined = () => contexts().reduce((s, c) => s + c.joined, 0);
    // The loop's utilization is published by its 100 ms sampler: the interval that carries it may come after the one
    // that carries the last request.
    const busy = () => contexts().some((c) => c.kind === 'js' && c.eventloop_utilization !== null && c.eventloop_utilization > 0);
    while ((joined() < n || !busy()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(joined()).toBe(n);
    expect(contexts().reduce((s, c) => s + c.requests, 0)).toBeGreaterThanOrEqual(n + 1);
    const sum = (stage: keyof AgentContext['stage_ms']) => contexts().reduce((s, c) => s + c.stage_ms[stage], 0);
    // process spins 4 ms in each of the n + 1 test requests; downstream waits ~10 ms on a timer in each.
    expect(sum('process')).toBeGreaterThan(3.9 * (n + 1));
    expect(sum('downstream')).toBeGreaterThan(9.5 * (n + 1));
    // The queue parts exist only for joined requests, and are small on an idle loop.
    expect(contexts().reduce((s, c) => s + c.stage_entries.server_queue, 0)).toBe(n);
    expect(contexts().reduce((s, c) => s + c.stage_entries.parse, 0)).toBe(0); // never marked: not measured
    expect(received.every((a) => a.pid === process.pid)).toBe(true);
    // Every thread of the process is a context: this one (with its loop), the agent's own, the runtime's.
    const kinds = new Set(contexts().map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['agent', 'js', 'runtime']);
    const mine = contexts().filter((c) => c.kind === 'js');
    expect(mine.some((c) => c.cpu_user_ms + c.cpu_system_ms > 0)).toBe(true);
    expect(mine.some((c) => c.eventloop_delay && c.eventloop_delay.count > 0)).toBe(true);
    expect(mine.some((c) => c.eventloop_utilization !== null && c.eventloop_utilization > 0)).toBe(true);
    // The process totals match the sum of its contexts' CPU within the tick rounding of the split.
    for (const a of received) {
      const sumCpu = a.contexts.reduce((s, c) => s + c.cpu_user_ms + c.cpu_system_ms, 0);
      const total = a.process.cpu_user_ms + a.process.cpu_system_ms;
      expect(Math.abs(sumCpu - total)).toBeLessThan(Math.max(15, total * 0.1));
    }
  });

  it('keeps serving and counts its failures when the collector is gone', async () => {
    const { port } = await startAll((req, res) => res.end('ok'));
    await collector!.close(); // nothing listens there any more
    for (let i = 0; i < 20; i++) expect(await get(port)).toBe(200);
    // The exporter retries a refused connection until its timeout (OpenTelemetry's 10 s), then gives up; the agent
    // counts that and keeps the data queued.
    let stats = await agent!.stats();
    const deadline = Date.now() + 15_000;
    while (stats.errors === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await agent!.stats();
    }
    expect(stats.exported).toBe(0);
    expect(stats.errors).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect(await get(port)).toBe(200);
  }, 30_000);
});

describe('node agent on a thread that serves one request at a time', () => {
  it('splits each request\'s wall time into on-CPU, run-queue wait and blocked, from the thread\'s schedstat', async () => {
    const received: AgentInterval[] = [];
    const collector = await startCollector({ intervalMs: INTERVAL_MS, onAgentIntervals: (l) => received.push(...l) });
    const agent = startAgent({ ...readConfig({}), intervalMs: INTERVAL_MS, collectorUrl: collector.metricsUrl, serverName: 'blocking' });
    try {
      agent.recorder.hooks.context('blocker', false);
      const sleeper = new Int32Array(new SharedArrayBuffer(4));
      const n = 8;
      for (let i = 0; i < n; i++) {
        const conn = {};
        agent.recorder.hooks.begin(conn, 0, 0);
        spin(3); // on CPU
        Atomics.wait(sleeper, 0, 0, 20); // asleep in the kernel, as a blocking read of the backend would be
        agent.recorder.hooks.end(conn);
      }
      const split = () => received.flatMap((a) => a.contexts).flatMap((c) => (c.split ? [c.split] : []));
      expect(await waitUntil(() => split().reduce((s, x) => s + x.requests, 0) >= n, 5000)).toBe(true);
      const total = split().reduce(
        (s, x) => ({ cpu: s.cpu + x.on_cpu_ms, runq: s.runq + x.runqueue_ms, blocked: s.blocked + x.blocked_ms }),
        { cpu: 0, runq: 0, blocked: 0 },
      );
      // The 3 ms spin is on CPU, or runnable when another process took the core; the 20 ms wait is blocked.
      expect((total.cpu + total.runq) / n).toBeGreaterThan(2.7);
      expect(total.cpu / n).toBeGreaterThan(1);
      expect(total.blocked / n).toBeGreaterThan(18);
      expect(total.blocked / n).toBeLessThan(40);
    } finally {
      await agent.stop();
      await collector.close();
    }
  });
});

describe('node agent with exemplar tracing', () => {
  it('exports the slowest requests and a sample as spans continuing the client trace, kept apart from the counts', async () => {
    const received: AgentInterval[] = [];
    const collector = await startCollector({ intervalMs: INTERVAL_MS, onAgentIntervals: (l) => received.push(...l) });
    const agent = startAgent({ ...readConfig({}), intervalMs: INTERVAL_MS, collectorUrl: collector.metricsUrl, serverName: 'ex', exemplars: true });
    const server = createServer((req, res) => {
      markStage(res, STAGE.process);
      // Every fifth request is slow: those must be the ones kept as slowest.
      const slow = req.url === '/slow';
      spin(slow ? 15 : 1);
      markStage(res, STAGE.send);
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const traceIds: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const traceId = (i + 1).toString(16).padStart(32, 'a');
        traceIds.push(traceId);
        const path = i % 5 === 4 ? '/slow' : '/';
        const req = request({ host: '127.0.0.1', port, path, headers: { traceparent: `00-${traceId}-00000000000000aa-01`, [SEND_TIME_HEADER]: String(Math.round(monoUs())) } });
        req.end();
        const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
        res.resume();
        await once(res, 'end');
      }
      const exemplars = () => received.flatMap((a) => a.exemplars ?? []);
      const counted = () => received.flatMap((a) => a.contexts).reduce((s, c) => s + c.joined, 0);
      expect(await waitUntil(() => counted() >= 20 && exemplars().length > 0, 5000)).toBe(true);
      await new Promise((r) => setTimeout(r, INTERVAL_MS * 2));
      expect(counted()).toBe(20); // exemplar spans are not counted as requests again
      // The collector shares this process, so its own OTLP requests are exemplars too: ours have the client's parent.
      const ours = exemplars().filter((e) => e.parent_span_id === '00000000000000aa');
      const slowest = ours.filter((e) => e.kind === 'slowest');
      expect(slowest.length).toBeGreaterThan(0);
      for (const e of ours) {
        expect(traceIds).toContain(e.trace_id);
        expect(e.parts_ms.process!).toBeGreaterThan(0);
      }
      // The slowest kept are the slow requests (15 ms of work against 1 ms).
      const slowIds = traceIds.filter((_, i) => i % 5 === 4);
      expect(slowest.some((e) => slowIds.includes(e.trace_id))).toBe(true);
      expect(Math.max(...slowest.map((e) => e.duration_ms))).toBeGreaterThan(14);
    } finally {
      server.close();
      await agent.stop();
      await collector.close();
    }
  });
});
