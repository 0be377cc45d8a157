/**
 * Issue 19's collector faults, on real sockets and processes: a plain node:http app under the agent, configured the
 * standard way (OTEL_EXPORTER_OTLP_ENDPOINT), served at a fixed rate while its collector is absent, killed mid-run,
 * answering 500, answering after 5 s, or resetting every connection it accepted. What the host shows (errors,
 * throughput, RSS from /proc) and what the agent counted (srvlens.agent.dropped on its Prometheus page, and in the
 * records a srvlens collector started on the same port afterwards receives) come back as figures. Needs the build.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import autocannon from 'autocannon';
import { startCollector } from '../../src/collect/receiver.js';
import type { AgentInterval } from '../../src/collect/otlp-json.js';
import { ENTRY } from '../../src/vocabulary/package-paths.js';
import { exitCode, spawnGathered, until, type GatheredChild } from './children.js';
import { freePort } from './listen.js';

export type CollectorFault = 'none' | 'absent' | 'killed' | 'http-500' | 'slow-5s' | 'reset';

export interface FaultFigures {
  fault: CollectorFault;
  seconds: number;
  /** Requests answered, and the ones answered with anything but a 2xx or not at all. */
  requests: number;
  errors: number;
  reqPerSec: number;
  p99Ms: number;
  /** The host's RSS growth (from /proc) between the start and the end of the measured load. */
  rssGrowthMB: number;
  /** Its RSS every 10 s of the load, MB: a plateau is a bound, a slope a leak. */
  rssSeriesMB: number[];
  /** srvlens_agent_dropped_total on the agent's page at the end of the load. */
  droppedOnPage: number;
  /** What the records that reached a working collector afterwards say was dropped, and how many records came. */
  droppedReceived: number;
  intervalsReceived: number;
}

/** Short intervals, so that the agent's queue (60 intervals, 12 s) overflows well within a run and drops show. */
export const INTERVAL_MS = 200;
/**
 * A fixed rate per app. The six runs (the baseline and five faults) go at once, so that the suite stays within its
 * 15 minutes and every fault shares the machine with its baseline: 6 x 250 req/s is the 1500 req/s these 2 cores
 * held for one app alone, with the agent on.
 */
const RATE = 250;
/**
 * Load before the measured minute: with a working collector the app's RSS still rose 11 MB over a minute after 3 s
 * of warm-up (82 86 90 90 90 92 93 93 MB every 10 s: V8's heaps sizing up to the load), which is no fault's doing.
 */
const WARMUP_S = 15;
const APP = `
import { createServer } from 'node:http';
const server = createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;
/** The srvlens collector in a process of its own, so that it can be killed: says when it listens. */
const COLLECTOR_CHILD = `
const { startCollector } = await import(process.argv[1]);
await startCollector({ intervalMs: ${INTERVAL_MS}, port: Number(process.argv[2]), onAgentIntervals: () => {} });
console.log('listening');
`;
const RECEIVER = new URL('../../dist/src/collect/receiver.js', import.meta.url).href;

function load(url: string, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) =>
    autocannon({ url, connections: 10, duration: seconds, overallRate: RATE }, (err, result) => (err ? reject(err) : resolve(result))),
  );
}

function rssMB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

const droppedOf = (text: string) => Number(/^srvlens_agent_dropped_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

async function collectorProcess(port: number): Promise<GatheredChild> {
  const child = spawnGathered(['--input-type=module', '-e', COLLECTOR_CHILD, RECEIVER, String(port)], process.env);
  await until(() => child.out().includes('listening') || (child.exitCode !== null && child.err()), 'the collector process');
  return child;
}

/** A collector failing the way asked, on `port`; resolves with what stops it. */
async function startFault(fault: CollectorFault, port: number): Promise<() => Promise<void>> {
  if (fault === 'absent') return async () => {};
  if (fault === 'none' || fault === 'killed') {
    const child = await collectorProcess(port);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    return async () => {
      child.kill('SIGKILL');
      await exited;
    };
  }
  if (fault === 'reset') {
    // Takes the connection, reads the request's first bytes, answers with a TCP reset.
    const server = net.createServer((s) => s.once('data', () => s.resetAndDestroy()).on('error', () => {}));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return () => new Promise((r) => server.close(() => r()));
  }
  const server = http.createServer((req, res) => {
    req.resume();
    if (fault === 'http-500') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('down');
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(), 5000).unref();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return () => new Promise((r) => (server.closeAllConnections(), server.close(() => r())));
}

/** The environment of the app: the runner's, less whatever would configure the agent another way. */
function appEnv(collectorPort: number, metricsPort: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SRVLENS_') && !k.startsWith('OTEL_')) env[k] = v;
  return {
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
    OTEL_SERVICE_NAME: 'faults',
    SRVLENS_INTERVAL_MS: String(INTERVAL_MS),
    SRVLENS_PROMETHEUS_PORT: String(metricsPort),
  };
}

/**
 * Serves `seconds` of fixed-rate load (after a warm-up) under the fault; a collector killed mid-run dies halfway.
 * Then a srvlens collector takes the collector's port, and what the agent still held reaches it.
 */
export async function runUnderFault(fault: CollectorFault, seconds: number, exportQueue?: number, warmupS = WARMUP_S): Promise<FaultFigures> {
  const collectorPort = await freePort();
  const metricsPort = await freePort();
  let stop = await startFault(fault, collectorPort);
  const app = spawnGathered(['--import', ENTRY.agent, '--input-type=module', '-e', APP], { ...appEnv(collectorPort, metricsPort), ...(exportQueue ? { SRVLENS_EXPORT_QUEUE: String(exportQueue) } : {}) });
  try {
    const port = Number(await until(() => /^(\d+)\n/.exec(app.out())?.[1] ?? (app.exitCode !== null && `exited: ${app.err()}`), 'the app to listen'));
    const url = `http://127.0.0.1:${port}/`;
    await load(url, warmupS);
    const rssBefore = rssMB(app.pid!);
    const rssSeriesMB = [rssBefore];
    const sampler = setInterval(() => rssSeriesMB.push(rssMB(app.pid!)), 10_000);
    const killAt = fault === 'killed' ? setTimeout(() => void stop(), (seconds * 1000) / 2) : null;
    const measured = await load(url, seconds);
    if (killAt) clearTimeout(killAt);
    clearInterval(sampler);
    const rssAfter = rssMB(app.pid!);
    const droppedOnPage = droppedOf(await scrape(metricsPort));
    await stop();
    stop = async () => {};
    // The collector comes back: the queue the agent kept (with the drop counts it carries) drains into it.
    const received: AgentInterval[] = [];
    const collector = await startCollector({ intervalMs: INTERVAL_MS, port: collectorPort, onAgentIntervals: (l) => received.push(...l) });
    try {
      await until(() => received.length >= 10, 'records at the collector that came back', 15_000);
      // The last drops ride on the next intervals harvested: five more.
      await new Promise((r) => setTimeout(r, 5 * INTERVAL_MS));
    } finally {
      await collector.close();
    }
    return {
      fault,
      seconds,
      requests: measured.requests.total,
      errors: measured.errors + measured.timeouts + measured.non2xx,
      reqPerSec: measured.requests.average,
      p99Ms: measured.latency.p99,
      rssGrowthMB: rssAfter - rssBefore,
      rssSeriesMB: [...rssSeriesMB, rssAfter],
      droppedOnPage,
      droppedReceived: received.reduce((s, i) => s + i.dropped, 0),
      intervalsReceived: received.length,
    };
  } finally {
    await stop();
    app.kill('SIGKILL');
    await exitCode(app);
  }
}

export const formatFigures = (f: FaultFigures) =>
  `${f.fault.padEnd(8)} ${f.seconds} s: ${f.requests} requests, ${f.errors} errors, ${f.reqPerSec.toFixed(0)} req/s, p99 ${f.p99Ms} ms, ` +
  `RSS ${f.rssGrowthMB >= 0 ? '+' : ''}${f.rssGrowthMB.toFixed(1)} MB (${f.rssSeriesMB.map((v) => v.toFixed(0)).join(' ')}), dropped ${f.droppedOnPage} (page) / ${f.droppedReceived} in ${f.intervalsReceived} records received after`;
