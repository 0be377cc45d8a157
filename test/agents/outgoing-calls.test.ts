/**
 * The Node agent times an unmodified app's outgoing calls (node:http and fetch) as `downstream`, each call
 * counted for the server request it was made for, even with many requests in flight on one loop. The app is a
 * real process preloaded with the agent, as a user would run it; its upstream is a real HTTP server here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCollector, type Collector } from '../../src/collect/receiver.js';
import type { AgentContext, AgentInterval } from '../../src/collect/otlp-json.js';
import { ENTRY, PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';
import { closeListeners, listen } from '../helpers/listen.js';
import { newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';

const UPSTREAM_MS = 40;

// The app: no srvlens code except in /explicit, which marks its own stages (and so turns the automatic timing off).
const APP = (stageHook: string) => `
import http from 'node:http';
import { markStage } from '${stageHook}';
const upstream = 'http://127.0.0.1:' + process.env.UPSTREAM_PORT;
const get = (ms) => new Promise((resolve, reject) =>
  http.get(upstream + '/?ms=' + ms, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
const fetchText = async (ms) => (await fetch(upstream + '/?ms=' + ms)).text();
// A background poll, set up before any request: its calls belong to no request.
setInterval(() => get(${UPSTREAM_MS}).catch(() => {}), 25).unref();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const ms = Number(url.searchParams.get('ms') ?? ${UPSTREAM_MS});
  switch (url.pathname) {
    case '/http': await get(ms); break;
    case '/fetch': await fetchText(ms); break;
    case '/parallel': await Promise.all([get(ms), get(ms)]); await fetchText(ms); break;
    case '/explicit': markStage(res, 3); await get(ms); break;
  }
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
`;

describe('node agent: outgoing calls as downstream, with no code change', () => {
  let dir = '';
  let collector: Collector | null = null;
  let port = 0;
  const tag = newTag();
  let received: AgentInterval[] = [];

  let upstreamPort = 0;
  const apps: ChildProcess[] = [];

  /** The app under the agent, as a user would run it; its port. */
  async function startApp(env: Record<string, string> = {}): Promise<number> {
    const child = spawn(process.execPath, ['--import', ENTRY.agent, join(dir, 'app.mjs')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...tag.env,
        UPSTREAM_PORT: String(upstreamPort),
        SRVLENS_COLLECTOR_URL: collector!.metricsUrl,
        SRVLENS_INTERVAL_MS: '200',
        SRVLENS_SERVER_NAME: 'plain-app',
        ...env,
      },
    });
    apps.push(child);
    const [message] = (await once(child, 'message')) as [{ port: number }];
    return message.port;
  }

  beforeAll(async () => {
    const upstream = http.createServer((req, res) => {
      const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms'));
      setTimeout(() => res.end('upstream'), ms);
    });
    upstreamPort = await listen(upstream);
    collector = await startCollector({ intervalMs: 200, onAgentIntervals: (l) => received.push(...l) });
    dir = mkdtempSync(join(tmpdir(), 'srvlens-calls-'));
    writeFileSync(join(dir, 'app.mjs'), APP(pathToFileURL(join(PACKAGE_ROOT, 'dist/src/vocabulary/stage-hook.js')).href));
    port = await startApp();
  });

  afterAll(async () => {
    for (const a of apps) a.kill('SIGKILL');
    await collector?.close();
    closeListeners();
    rmSync(dir, { recursive: true, force: true });
    expect(await waitUntil(() => taggedProcesses(tag.tag).length === 0, 5000)).toBe(true);
  });

  function call(path: string): Promise<void> {
    return new Promise((resolve, reject) =>
      http.get(`http://127.0.0.1:${port}${path}`, (res) => res.resume().on('end', resolve)).on('error', reject),
    );
  }

  /** Runs the requests, waits until the agent has reported them all, and sums their stages (ms). */
  async function measure(requests: () => Promise<unknown>, n: number): Promise<{ requests: number; stage: (s: keyof AgentContext['stage_ms']) => number }> {
    received = [];
    await requests();
    const js = () => received.flatMap((a) => a.contexts).filter((c) => c.kind === 'js');
    const count = () => js().reduce((s, c) => s + c.requests, 0);
    expect(await waitUntil(() => count() >= n, 5000)).toBe(true);
    return { requests: count(), stage: (s) => js().reduce((sum, c) => sum + c.stage_ms[s], 0) };
  }

  async function sequential(path: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await call(path);
  }

  it('times a node:http call and a fetch as downstream, the rest of the handler as process', async () => {
    for (const path of ['/http', '/fetch']) {
      const n = 8;
      const m = await measure(() => sequential(path, n), n);
      expect(m.requests).toBe(n);
      const downstream = m.stage('downstream') / n;
      expect(downstream, path).toBeGreaterThan(UPSTREAM_MS * 0.95);
      expect(downstream, path).toBeLessThan(UPSTREAM_MS * 1.6);
      expect(m.stage('process') / n, path).toBeLessThan(UPSTREAM_MS * 0.5);
    }
  });

  it('counts overlapping calls once, as the time the request waited on any of them', async () => {
    const n = 6;
    const m = await measure(() => sequential('/parallel', n), n);
    const downstream = m.stage('downstream') / n;
    // Two calls at once, then one: two upstream latencies of wall time, not three.
    expect(downstream).toBeGreaterThan(UPSTREAM_MS * 2 * 0.95);
    expect(downstream).toBeLessThan(UPSTREAM_MS * 2.6);
  });

  it('gives each call to its own request with many in flight on one loop', async () => {
    // Twelve requests at once, each waiting on its own upstream latency: the sum of downstream is the sum of those
    // latencies, however the calls interleave. A call given to the wrong request would skew it (overlaps count once).
    const delays = Array.from({ length: 12 }, (_, i) => 20 + 15 * i);
    const m = await measure(() => Promise.all(delays.map((ms) => call(`/http?ms=${ms}`))), delays.length);
    const expected = delays.reduce((s, d) => s + d, 0);
    expect(m.stage('downstream')).toBeGreaterThan(expected * 0.97);
    expect(m.stage('downstream')).toBeLessThan(expected * 1.25);
  });

  it('leaves the calls in process with SRVLENS_OUTGOING_CALLS=0', async () => {
    const defaultPort = port;
    port = await startApp({ SRVLENS_OUTGOING_CALLS: '0' });
    try {
      const n = 5;
      const m = await measure(() => sequential('/http', n), n);
      expect(m.stage('downstream')).toBe(0);
      expect(m.stage('process') / n).toBeGreaterThan(UPSTREAM_MS * 0.95);
    } finally {
      apps.pop()!.kill('SIGKILL');
      port = defaultPort;
    }
  });

  it('leaves an app that marks its own stages to its marks', async () => {
    const n = 5;
    const m = await measure(() => sequential('/explicit', n), n);
    expect(m.stage('downstream')).toBe(0);
    expect(m.stage('process') / n).toBeGreaterThan(UPSTREAM_MS * 0.95);
  });
});
