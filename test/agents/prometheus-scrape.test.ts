/**
 * The agent's Prometheus endpoint on real processes: a node:http server under `node --import` the agent, scraped by
 * Debian's Prometheus (its own config, port and storage in a temporary directory; never the packaged daemon's :9090).
 * Without Prometheus this fails and says how to install it (scripts/test-deps.sh). Last, the latency quantiles
 * Prometheus reads from the page against the agent's own, on a server whose latencies are known.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_TYPE } from '../../agents/node/prometheus-text.js';
import { startCollector, type Collector } from '../../src/collect/receiver.js';
import type { AgentInterval } from '../../src/collect/otlp-json.js';
import { expQuantile, intervalIndex, mergeExpHistograms, monoMs } from '../../src/vocabulary/index.js';
import { mulberry32 } from '../../src/vocabulary/random.js';
import { freePort } from '../helpers/listen.js';
import { waitUntil } from '../helpers/processes.js';

const REGISTER = join(import.meta.dirname, '../../dist/agents/node/register.js');
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const INSTALL_HINT = 'run scripts/test-deps.sh (it installs the Debian packages the tests need)';
const INTERVAL_MS = 200;
const BLOCK_MS = 2000;

/**
 * The app: plain node:http, nothing of srvlens in it. /block spins its only thread; /close closes its server, after
 * which the process ends by itself if nothing (the endpoint included) holds it.
 */
const APP = `
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  if (req.url === '/block') {
    console.log('blocking');
    const end = Date.now() + ${BLOCK_MS};
    while (Date.now() < end);
  }
  if (req.url === '/close') return res.end('bye', () => { server.close(); server.closeAllConnections(); });
  if (req.url.startsWith('/delay/')) return setTimeout(() => res.end('ok'), Number(req.url.slice(7)));
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;


interface Reply {
  status: number;
  type: string;
  body: string;
}

/** One GET, on a connection of its own unless given an agent (the app's /close must leave nothing open). */
async function get(port: number, path: string, agent: http.Agent | false = false): Promise<Reply> {
  const req = http.get({ host: '127.0.0.1', port, path, agent });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode ?? 0, type: String(res.headers['content-type']), body };
}

interface App {
  child: ChildProcess;
  port: number;
  lines: string[];
  stderr: () => string;
}

const children = new Set<ChildProcess>();

async function startApp(env: Record<string, string>): Promise<App> {
  if (!existsSync(REGISTER)) throw new Error(`${REGISTER} is missing: build first (npx tsc -p .)`);
  const child = spawn(process.execPath, ['--import', pathToFileURL(REGISTER).href, '--input-type=module', '-e', APP], {
    env: { ...process.env, SRVLENS_INTERVAL_MS: String(INTERVAL_MS), SRVLENS_COLLECTOR_URL: `http://127.0.0.1:${await freePort()}/v1/metrics`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  let err = '';
  child.stdout!.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  await waitUntil(() => lines.length > 0 || child.exitCode !== null, 10_000);
  const port = Number(lines[0]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`the app did not start (exit ${child.exitCode}): ${err}`);
  return { child, port, lines, stderr: () => err };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child) return;
  children.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Debian's Prometheus, scraping `target` every second, on a free port of its own. */
async function startPrometheus(target: number): Promise<{ child: ChildProcess; port: number; log: () => string; dir: string }> {
  if (!existsSync(PROMETHEUS)) throw new Error(`Prometheus is not installed (${PROMETHEUS}): ${INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'srvlens-prometheus-'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: srvlens\n    static_configs:\n      - targets: ['127.0.0.1:${target}']\n`,
  );
  const port = await freePort();
  const child = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  return { child, port, log: () => log, dir };
}

describe('the node agent\'s Prometheus endpoint, scraped by Prometheus', () => {
  let app: App;
  let metricsPort: number;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  const N = 25;

  beforeAll(async () => {
    metricsPort = await freePort();
    // Prometheus only: no collector, and OTLP turned off the standard way, so the agent counts no failed exports.
    app = await startApp({
      SRVLENS_PROMETHEUS_PORT: String(metricsPort),
      SRVLENS_SERVER_NAME: 'prom-e2e',
      SRVLENS_MODEL: 'event-loop',
      SRVLENS_COLLECTOR_URL: '',
      OTEL_METRICS_EXPORTER: 'prometheus',
    });
    // The agent thread loads in the background (0.3-0.7 s here on a busy machine) and then reads back as far as the
    // rings reach, 8 intervals (1.6 s at 200 ms): requests older than that when it starts would be lost. Once the
    // endpoint answers, the agent thread is running.
    const deadline = Date.now() + 10_000;
    while ((await get(metricsPort, '/metrics').catch(() => null))?.status !== 200) {
      if (Date.now() > deadline) throw new Error(`the endpoint did not answer: ${app.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let i = 0; i < N; i++) expect((await get(app.port, '/')).status).toBe(200);
  });

  afterAll(async () => {
    await Promise.all([...children].map(stop));
    if (prometheus) rmSync(prometheus.dir, { recursive: true, force: true });
  });

  async function query(q: string): Promise<number | null> {
    try {
      const r = await get(prometheus!.port, `/api/v1/query?query=${encodeURIComponent(q)}`);
      const result = JSON.parse(r.body).data?.result as { value: [number, string] }[] | undefined;
      return result?.length ? Number(result[0].value[1]) : null;
    } catch {
      return null; // not up yet
    }
  }

  it('gives Prometheus the requests served, cumulative, with the target up', async () => {
    prometheus = await startPrometheus(metricsPort);
    const p = prometheus;
    const seen = { requests: null as number | null, histogram: null as number | null, up: null as number | null };
    const ok = async () => {
      seen.up = await query('up{job="srvlens"}');
      seen.requests = await query('sum(srvlens_requests_total{job="srvlens"})');
      seen.histogram = await query('sum(http_server_request_duration_seconds_bucket{job="srvlens",le="+Inf"})');
      return seen.up === 1 && seen.requests === N && seen.histogram === N;
    };
    const deadline = Date.now() + 15_000;
    while (!(await ok()) && Date.now() < deadline && p.child.exitCode === null) await new Promise((r) => setTimeout(r, 250));
    expect(seen, `Prometheus (exit ${p.child.exitCode}) log:\n${p.log()}`).toEqual({ up: 1, requests: N, histogram: N });
    expect(await query('sum(process_cpu_time_seconds_total{job="srvlens"})')).toBeGreaterThan(0);
    expect(await query('count(target_info{job="srvlens",service_name="prom-e2e",srvlens_model="event-loop"})')).toBe(1);
    // The scrapes themselves run on the agent thread: they are not the host's requests.
    expect(await query('sum(srvlens_requests_total{job="srvlens"})')).toBe(N);
    // With OTLP off nothing tries localhost:4318 interval after interval, so nothing fails.
    expect(await query('sum(srvlens_agent_errors_total{job="srvlens"})')).toBe(0);
  });

  it('serves a page promtool finds nothing to say about', async () => {
    const page = await get(metricsPort, '/metrics');
    expect(page.status).toBe(200);
    expect(page.type).toBe(CONTENT_TYPE);
    if (!existsSync(PROMTOOL)) throw new Error(`promtool is not installed (${PROMTOOL}): ${INSTALL_HINT}`);
    const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: page.body, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(lint.status).toBe(0);
    expect((await get(metricsPort, '/')).status).toBe(404);
  });

  it('answers while the host\'s only loop is stuck, and shows the stall in the loop delay afterwards', async () => {
    let blockDone = false;
    const blocked = get(app.port, '/block').then((r) => {
      blockDone = true;
      return r;
    });
    expect(await waitUntil(() => app.lines.includes('blocking'), 5000)).toBe(true);
    const page = await get(metricsPort, '/metrics');
    expect(page.status).toBe(200);
    expect(page.body).toContain('srvlens_requests_total{');
    expect(blockDone).toBe(false); // the host was still spinning when the page came
    expect((await blocked).status).toBe(200);
    // The loop's 100 ms timer ran ~2 s late: a count above the 1 s bucket (the interval harvests it shortly after).
    const overOneSecond = (body: string) => {
      const count = /^srvlens_eventloop_delay_seconds_count\{thread_name="main",[^}]*\} (\S+)$/m.exec(body);
      const le1 = /^srvlens_eventloop_delay_seconds_bucket\{thread_name="main",[^}]*le="1"\} (\S+)$/m.exec(body);
      return count && le1 ? Number(count[1]) - Number(le1[1]) : 0;
    };
    let body = '';
    const deadline = Date.now() + 5000;
    while (overOneSecond(body) < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      body = (await get(metricsPort, '/metrics')).body;
    }
    expect(overOneSecond(body)).toBeGreaterThanOrEqual(1);
  });

  it('never keeps its host alive: the app ends by itself once its own server closes', async () => {
    const exited = once(app.child, 'exit');
    expect((await get(app.port, '/close')).body).toBe('bye');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });
});

describe('the node agent\'s Prometheus endpoint on a port in use', () => {
  it('says so once on stderr and the app serves on, unobserved by Prometheus only', async () => {
    const holder = net.createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const taken = (holder.address() as net.AddressInfo).port;
    let app: App | undefined;
    try {
      app = await startApp({ SRVLENS_PROMETHEUS_PORT: String(taken) });
      for (let i = 0; i < 5; i++) expect((await get(app.port, '/')).status).toBe(200);
      const said = () => app!.stderr().split('\n').filter((l) => l.includes('Prometheus'));
      // Said by the agent thread once it has loaded; then nothing more, interval after interval.
      expect(await waitUntil(() => said().length > 0, 10_000)).toBe(true);
      await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
      expect(said()).toEqual([`srvlens agent: no Prometheus endpoint: 127.0.0.1:${taken} is in use (SRVLENS_PROMETHEUS_HOST/PORT); the agent carries on without it`]);
      const exited = once(app.child, 'exit');
      expect((await get(app.port, '/close')).body).toBe('bye');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
    } finally {
      await stop(app?.child);
      holder.close();
    }
  });
});

/**
 * The latency quantiles a reader gets from Prometheus, `histogram_quantile(q, sum by (le) (rate(..._bucket[1m])))`,
 * against the agent's own from its exponential histograms (sent over OTLP to a collector in this test), on a server
 * whose requests take known delays: 2-80 ms timers in fixed shares, chosen so that p50, p90 and p99 each fall inside
 * one delay's spread (at a share's edge the quantile jumps between two delays for any reader: nothing to compare).
 * Before the buckets were chosen (OpenTelemetry's default boundaries) p99 read 49 ms for 35 ms.
 */
describe('the latency quantiles Prometheus reads from the page', () => {
  // ms -> requests: cumulative 20, 40, 65 (p50 in the 10 ms ones), 80, 95 (p90 in the 35 ms ones), 100 % (p99: 80 ms)
  const MIX: [number, number][] = [[2, 120], [5, 120], [10, 150], [20, 90], [35, 90], [80, 30]];
  const N = MIX.reduce((n, [, k]) => n + k, 0);
  /** Requests in flight at once: ~250 req/s over ~2.4 s. */
  const CONCURRENCY = 4;
  let collector: Collector | undefined;
  let app: App | undefined;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;

  afterAll(async () => {
    await stop(prometheus?.child);
    await stop(app?.child);
    await collector?.close();
    if (prometheus) rmSync(prometheus.dir, { recursive: true, force: true });
  });

  it('are within 5 % of the agent\'s own at p50, p90 and p99', async () => {
    const received: AgentInterval[] = [];
    collector = await startCollector({ intervalMs: INTERVAL_MS, onAgentIntervals: (l) => received.push(...l) });
    const metricsPort = await freePort();
    app = await startApp({ SRVLENS_PROMETHEUS_PORT: String(metricsPort), SRVLENS_COLLECTOR_URL: collector.metricsUrl, SRVLENS_SERVER_NAME: 'fidelity' });
    prometheus = await startPrometheus(metricsPort);
    const p = prometheus;
    const query = async (q: string): Promise<number | null> => {
      const r = await get(p.port, `/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => null);
      const result = r ? (JSON.parse(r.body).data?.result as { value: [number, string] }[] | undefined) : undefined;
      return result?.length ? Number(result[0].value[1]) : null;
    };
    const seen = async (q: string, want: number, ms: number) => {
      const deadline = Date.now() + ms;
      while ((await query(q)) !== want && Date.now() < deadline && p.child.exitCode === null) await new Promise((r) => setTimeout(r, 250));
      return query(q);
    };
    const COUNT = 'sum(http_server_request_duration_seconds_count{job="srvlens"})';
    // One request first, scraped: every bucket series exists before the load, so rate() counts all of the load.
    expect((await get(app.port, '/')).status).toBe(200);
    expect(await seen(COUNT, 1, 20_000), `Prometheus (exit ${p.child.exitCode}) log:\n${p.log()}`).toBe(1);
    const loadFrom = intervalIndex(monoMs(), INTERVAL_MS);

    const rnd = mulberry32(14);
    const paths = MIX.flatMap(([ms, k]) => Array.from({ length: k }, () => `/delay/${ms}`));
    for (let i = paths.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [paths[i], paths[j]] = [paths[j], paths[i]];
    }
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < paths.length) expect((await get(app!.port, paths[next++], keepAlive)).status).toBe(200);
    }));
    keepAlive.destroy();
    expect(await seen(COUNT, N + 1, 10_000)).toBe(N + 1);
    await new Promise((r) => setTimeout(r, 1200)); // one more scrape of the final totals

    const load = () => received.filter((a) => a.index >= loadFrom).flatMap((a) => a.contexts).filter((c) => c.kind === 'js' && c.duration);
    expect(await waitUntil(() => load().reduce((n, c) => n + c.requests, 0) === N, 5000)).toBe(true);
    const own = mergeExpHistograms(load().map((c) => c.duration!));
    const rows: string[] = [];
    for (const q of [0.5, 0.9, 0.99]) {
      const agent = expQuantile(own, q)!;
      const read = await query(`histogram_quantile(${q}, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="srvlens"}[1m])))`);
      rows.push(`p${q * 100}: agent ${(agent * 1000).toFixed(2)} ms, Prometheus ${read === null ? '-' : (read * 1000).toFixed(2)} ms`);
      expect(read, rows.join('; ')).not.toBeNull();
      expect(Math.abs(read! / agent - 1), rows.join('; ')).toBeLessThan(0.05);
    }
    console.log(`fidelity, ${N} requests: ${rows.join('; ')}`);
  });
});
