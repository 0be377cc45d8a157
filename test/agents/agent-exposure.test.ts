/**
 * The agent and tokens, on real processes: a plain node:http app under `node --import` the agent. Its Prometheus
 * endpoint beyond loopback without SRVLENS_TOKEN is not served (said once on stderr; the app serves on), with one
 * every scrape needs the bearer; its OTLP exports carry the token (SRVLENS_TOKEN, or the standard
 * OTEL_EXPORTER_OTLP_HEADERS) to a collector that asks for it. Needs `npm run build` first.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../src/collect/receiver.js';
import type { AgentInterval } from '../../src/collect/otlp-json.js';
import { ENTRY } from '../../src/vocabulary/package-paths.js';
import { exitCode, spawnGathered, until, type GatheredChild } from '../helpers/children.js';
import { freePort } from '../helpers/listen.js';

const INTERVAL_MS = 200;
const APP = `
import { createServer } from 'node:http';
const server = createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

const children: GatheredChild[] = [];
let collector: Collector | null = null;
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await exitCode(c);
  }
  await collector?.close();
  collector = null;
});

/** The app under the agent; resolves with it and its port. No token unless `env` gives one. */
async function startApp(env: NodeJS.ProcessEnv): Promise<{ app: GatheredChild; port: number }> {
  const base: NodeJS.ProcessEnv = { ...process.env, SRVLENS_INTERVAL_MS: String(INTERVAL_MS), SRVLENS_COLLECTOR_URL: '', OTEL_METRICS_EXPORTER: 'none' };
  delete base.SRVLENS_TOKEN;
  delete base.OTEL_EXPORTER_OTLP_HEADERS;
  const app = spawnGathered(['--import', ENTRY.agent, '--input-type=module', '-e', APP], { ...base, ...env });
  children.push(app);
  const port = Number(await until(() => /^(\d+)\n/.exec(app.out())?.[1] ?? (app.exitCode !== null && `exited: ${app.err()}`), 'the app to listen'));
  if (!Number.isInteger(port)) throw new Error(String(port));
  return { app, port };
}

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const req = http.get({ host: '127.0.0.1', port, path, agent: false, headers });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode ?? 0, body };
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function untilAccepts(port: number, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const NO_ENDPOINT =
  'srvlens agent: no Prometheus endpoint: SRVLENS_PROMETHEUS_HOST=0.0.0.0 is beyond loopback: anyone who can reach it could use it, so it needs a token ' +
  "(SRVLENS_TOKEN=TOKEN in the app's environment; e.g. TOKEN=$(openssl rand -hex 16)), or listen on 127.0.0.1; the agent carries on without it\n";

describe('the agent beyond loopback', () => {
  it('serves no Prometheus endpoint on 0.0.0.0 without SRVLENS_TOKEN, says so once, and the app serves on', async () => {
    const metrics = await freePort();
    const { app, port } = await startApp({ SRVLENS_PROMETHEUS_PORT: String(metrics), SRVLENS_PROMETHEUS_HOST: '0.0.0.0' });
    await until(() => app.err().includes('no Prometheus endpoint'), 'the agent to say why it serves no endpoint');
    expect(app.err()).toBe(NO_ENDPOINT);
    expect(await accepts(metrics)).toBe(false);
    // Intervals later, the app still answers and nothing more was said.
    for (let i = 0; i < 5; i++) expect((await get(port, '/')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    expect(app.err()).toBe(NO_ENDPOINT);
    expect(app.exitCode).toBeNull();
  });

  it('with SRVLENS_TOKEN serves the endpoint on 0.0.0.0, and GET /metrics needs the bearer', async () => {
    const metrics = await freePort();
    const { app } = await startApp({ SRVLENS_PROMETHEUS_PORT: String(metrics), SRVLENS_PROMETHEUS_HOST: '0.0.0.0', SRVLENS_TOKEN: 'scrape-me' });
    await untilAccepts(metrics, 'the endpoint to listen');
    expect(await get(metrics, '/metrics')).toEqual({ status: 401, body: 'srvlens agent: no Authorization header: send Authorization: Bearer TOKEN\n' });
    expect(await get(metrics, '/metrics', { authorization: 'Bearer nope' })).toEqual({ status: 401, body: 'srvlens agent: wrong token\n' });
    // The agent's figures are on the page once it has folded its first interval in.
    let page = await get(metrics, '/metrics', { authorization: 'Bearer scrape-me' });
    for (const end = Date.now() + 5000; page.status === 200 && !page.body.includes('srvlens_requests_total') && Date.now() < end; ) {
      await new Promise((r) => setTimeout(r, 100));
      page = await get(metrics, '/metrics', { authorization: 'Bearer scrape-me' });
    }
    expect(page.status).toBe(200);
    expect(page.body).toContain('srvlens_requests_total');
    expect(app.err()).toBe('');
  });

  it('sends its token with every export: SRVLENS_TOKEN or OTEL_EXPORTER_OTLP_HEADERS; a wrong one is refused', async () => {
    const received: AgentInterval[] = [];
    collector = await startCollector({ intervalMs: INTERVAL_MS, token: 'collect', onAgentIntervals: (l) => received.push(...l) });
    const to = { SRVLENS_COLLECTOR_URL: collector.metricsUrl };
    // The wrong one also serves its endpoint (on loopback, same token): once that answers, its agent thread runs.
    const metrics = await freePort();
    await startApp({ ...to, SRVLENS_SERVER_NAME: 'wrong-token', SRVLENS_TOKEN: 'nope', SRVLENS_PROMETHEUS_PORT: String(metrics) });
    await startApp({ ...to, SRVLENS_SERVER_NAME: 'srvlens-token', SRVLENS_TOKEN: 'collect' });
    await startApp({ ...to, SRVLENS_SERVER_NAME: 'otel-headers', OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer collect' });
    const from = (name: string) => received.filter((a) => a.service === name).length;
    await until(() => from('srvlens-token') > 0 && from('otel-headers') > 0, 'exports with the token');
    await untilAccepts(metrics, 'the wrong-token agent to run');
    // Several of its intervals' exports have gone by now, each answered 401.
    await new Promise((r) => setTimeout(r, 5 * INTERVAL_MS));
    expect(from('wrong-token')).toBe(0);
  });
});
