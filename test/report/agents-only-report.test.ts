/**
 * `srvlens report` on a recording made without a load generator, as a user makes one: `srvlens dashboard --out`,
 * a real node:http app under the real agent that spends a known time per request (2 ms on the CPU, then 10 ms
 * waiting, marked as downstream), a known number of requests, SIGTERM. The report says what the agents measured
 * and leaves what only a client measures null ('-' in the text), with a note. Needs `npm run build` first.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/report/json-report.js';
import type { AgentsOnlyPhaseStats } from '../../src/analysis/agents-only-phase.js';
import { newTag, taggedProcesses, waitUntil } from '../helpers/processes.js';
import { exitCode, spawnGathered, until, type GatheredChild } from '../helpers/children.js';
import { knownCostApp } from '../helpers/apps.js';
import { ENTRY } from '../../src/vocabulary/package-paths.js';
import { getRoot as get } from '../helpers/http-get.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const INTERVAL_MS = 500;
const PROCESS_MS = 2;
const DOWNSTREAM_MS = 10;
const REQUESTS = 40;

const children: ChildProcess[] = [];
let dir = '';
let tag = '';
let tagEnv: NodeJS.ProcessEnv = {};

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // Nothing the test started may outlive it.
  expect(await waitUntil(() => taggedProcesses(tag).length === 0, 5000)).toBe(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A child with its output gathered as text; every process the test starts inherits the tag. */
function start(args: string[], env: NodeJS.ProcessEnv = {}): GatheredChild {
  const child = spawnGathered(args, { ...tagEnv, ...env });
  children.push(child);
  return child;
}

async function cli(args: string[]): Promise<string> {
  const child = start([CLI, ...args]);
  const code = await exitCode(child);
  if (code !== 0) throw new Error(`srvlens ${args.join(' ')} exited ${code}: ${child.err()}`);
  return child.out();
}

/** The user's app: 2 ms of CPU, then 10 ms waiting on a timer it marks as downstream (as a backend call). */
async function startApp(collectorUrl: string): Promise<number> {
  const file = join(dir, 'app.mjs');
  writeFileSync(
    file,
    knownCostApp(PROCESS_MS, DOWNSTREAM_MS),
  );
  const app = start(['--import', ENTRY.agent, file], { SRVLENS_COLLECTOR_URL: collectorUrl, SRVLENS_INTERVAL_MS: String(INTERVAL_MS), SRVLENS_SERVER_NAME: 'shop' });
  return Number(await until(() => /^(\d+)\n/.exec(app.out())?.[1], 'the app to listen'));
}


/** Requests in the frames `--json` printed so far. */
const served = (jsonLines: string) =>
  jsonLines
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string; server?: { requests: number } | null })
    .reduce((t, r) => t + (r.kind === 'frame' ? (r.server?.requests ?? 0) : 0), 0);

describe('srvlens report on a dashboard recording (no load generator)', () => {
  it('reports the requests, server time and parts the agents measured, and the client\'s figures as not measured', async () => {
    ({ tag, env: tagEnv } = newTag());
    dir = mkdtempSync(join(tmpdir(), 'srvlens-agents-only-'));
    const out = join(dir, 'live.srvlens.gz');
    const dash = start([CLI, 'dashboard', '--port', '0', '--interval-ms', String(INTERVAL_MS), '--json', '--out', out]);
    const url = await until(() => /listening on (http:\/\/\S+\/v1\/metrics)/.exec(dash.err())?.[1], 'the collector to listen');
    const port = await startApp(url);
    // The agent's first report opens the run; every request from then on is in its frames.
    await until(() => dash.out().includes('"kind":"frame"'), 'the first frame');
    for (let i = 0; i < REQUESTS; i++) await get(port);
    await until(() => served(dash.out()) >= REQUESTS, `frames with the ${REQUESTS} requests`);
    dash.kill('SIGTERM');
    expect(await exitCode(dash), dash.err()).toBe(0);

    const report = JSON.parse(await cli(['report', out, '--format', 'json'])) as Report;
    expect(report).toMatchObject({ schema: 'srvlens.report/2', complete: true, damage: null });
    expect(report.runs).toHaveLength(1);
    const [run] = report.runs;
    expect(run).toMatchObject({ server: 'shop', source: 'agents-only' });
    expect(run.phases).toHaveLength(1);
    const p = run.phases[0] as AgentsOnlyPhaseStats;
    expect(p.name).toBe('live');

    // What the agents counted: every request sent, once.
    expect(p.server_requests).toBe(REQUESTS);
    expect(p.duration_s).toBe((p.intervals * INTERVAL_MS) / 1000);
    expect(p.served_rps).toBeCloseTo(REQUESTS / p.duration_s, 1);
    // The known time each request spent, within generous bounds (a loaded CI machine runs late, never early).
    expect(p.parts_ms.process).toBeGreaterThan(PROCESS_MS * 0.9);
    expect(p.parts_ms.process).toBeLessThan(PROCESS_MS * 3);
    expect(p.parts_ms.downstream).toBeGreaterThan(DOWNSTREAM_MS * 0.95);
    expect(p.parts_ms.downstream).toBeLessThan(DOWNSTREAM_MS * 2);
    const t = p.server_time_ms!;
    expect(t.p50).toBeGreaterThan((PROCESS_MS + DOWNSTREAM_MS) * 0.9);
    expect(t.p50).toBeLessThan((PROCESS_MS + DOWNSTREAM_MS) * 3);
    expect(t.p90!).toBeGreaterThanOrEqual(t.p50!);
    expect(t.p99!).toBeGreaterThanOrEqual(t.p90!);
    expect(t.max!).toBeGreaterThanOrEqual(t.p99!);
    expect(p.server_time_coverage).toBeGreaterThan(0.9);
    // What the model cost: the CPU includes the 2 ms each handler spun; the loop was seen.
    expect(p.cpu_ms_per_request).toBeGreaterThan(PROCESS_MS * 0.9);
    expect(p.context_switches_per_request).not.toBeNull();
    expect(p.eventloop_delay_ms).not.toBeNull();
    expect(p.eventloop_utilization).toBeGreaterThan(0);

    // What only a client measures: null, never 0. No client sent its send time, so the queue parts are null too.
    expect(p).toMatchObject({ offered_rps: null, achieved_rps: null, requests: null, errors: null, coverage: null, matched_share: null });
    expect(Object.values(p.latency_ms).every((v) => v === null)).toBe(true);
    for (const part of ['send_wait', 'accept_queue', 'server_queue', 'network', 'unmeasured'] as const) expect(p.parts_ms[part], part).toBeNull();

    const text = await cli(['report', out]);
    const block = text.slice(text.indexOf('== shop: unknown'));
    expect(block).toContain('note: no load generator');
    expect(block).toMatch(new RegExp(`requests +${REQUESTS} req +as the agents counted them`));
    expect(block).toMatch(/served +[\d.]+ req\/s/);
    expect(block).toMatch(/offered +- +no load generator/);
    expect(block).toMatch(/client latency +- +no load generator/);
    expect(block).toMatch(/errors +- +no load generator/);
    expect(block).toMatch(/server time p99 +[\d.]+ ms/);
    expect(block).toMatch(/send_wait +- +no load generator/);
    expect(block).toMatch(/network +- +no load generator/);
    expect(block).toMatch(/process +[\d.]+ ms\/req/);
    expect(block).toMatch(/downstream +[\d.]+ ms\/req/);
    expect(block).toMatch(/CPU +[\d.]+ ms\/req/);
    // Every number has its unit; no client figure reads as 0.
    expect(block).not.toMatch(/(offered|client latency|errors|send_wait|network) +0/);
    for (const line of block.trimEnd().split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('reports an OpenTelemetry SDK app from its spans alone: requests and parts, its CPU and switches not measured, not 0', async () => {
    ({ tag, env: tagEnv } = newTag());
    dir = mkdtempSync(join(tmpdir(), 'srvlens-spans-only-'));
    const out = join(dir, 'spans.srvlens.gz');
    const dash = start([CLI, 'dashboard', '--port', '0', '--interval-ms', String(INTERVAL_MS), '--json', '--out', out]);
    const url = await until(() => /listening on (http:\/\/\S+)\/v1\/metrics/.exec(dash.err())?.[1], 'the collector to listen');
    // A plain app under the plain SDK (HTTP instrumentation, OTLP protobuf exporter): it knows nothing of srvlens.
    const file = join(dir, 'app.cjs');
    writeFileSync(file, `const http = require('node:http');
const spin = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
const server = http.createServer((req, res) => { spin(${PROCESS_MS}); res.end('ok'); });
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`);
    const app = start(['--require', join(ROOT, 'test/collect/fixtures/otel-setup.cjs'), file], {
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
    const port = Number(await until(() => /^(\d+)\n/.exec(app.out())?.[1], 'the app to listen'));
    for (let i = 0; i < REQUESTS; i++) await get(port);
    await until(() => served(dash.out()) >= REQUESTS, `frames with the ${REQUESTS} requests`);
    dash.kill('SIGTERM');
    expect(await exitCode(dash), dash.err()).toBe(0);

    const report = JSON.parse(await cli(['report', out, '--format', 'json'])) as Report;
    const p = report.runs[0].phases[0] as AgentsOnlyPhaseStats;
    expect(p.server_requests).toBe(REQUESTS);
    expect(p.parts_ms.process).toBeGreaterThan(PROCESS_MS * 0.9);
    // Spans say nothing of threads: no CPU, switches or run-queue wait was measured, and none reads as 0.
    expect(p).toMatchObject({ cpu_ms_per_request: null, context_switches_per_request: null, runqueue_wait_ms_per_request: null, eventloop_delay_ms: null });
    expect(p.checks.find((c) => c.id === 'cpu_within_host')).toMatchObject({ ok: null, detail: 'no CPU was measured' });
    const text = await cli(['report', out]);
    expect(text).toMatch(/CPU +- +not measured: spans carry no CPU/);
    expect(text).toMatch(/voluntary switches +- +not measured: spans carry no CPU/);
    expect(text).not.toMatch(/CPU +0/);
  });
});
